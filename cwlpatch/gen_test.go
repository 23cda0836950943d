package cwlpatch

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A seeded generator of CWL application packages for the differential test
// (differential_test.go): every shape the CWL specification allows for
// saying which image a tool runs, combined at random. Each CommandLineTool
// carries a unique label, which both cwltool and the resolver read, so the
// two can be compared process by process and context by context.

// genPackage is one generated package, written to Dir.
type genPackage struct {
	Seed  int64
	Dir   string
	Tools []genTool
	// Owner says, by label, which tool's image each process is (its
	// copies included); -1 for a process no tool claims.
	Owner map[string]int
	// Maybe says, by label, which tool's repository a process that no
	// path names pulls: cwlpatch claims it only when all its images are
	// the tool's, so it must run either the pin or what it ran before.
	Maybe map[string]int
	// Workflows and ToolRefs are project.toml's [[workflows]] and tools'
	// paths: what cwltool is asked to load.
	Workflows, ToolRefs []string
	// Refused names a shape the package must be refused for ("" when it
	// has none): cwltool cannot load it either.
	Refused string
	// Shapes lists the shapes the generator used, for the report.
	Shapes map[string]bool
	files  map[string]*yaml.Node
	failed bool
	json   map[string]bool
	bom    map[string]bool
}

type genTool struct{ Name, Repo, Pin string }

// gen is the state of one package's generation.
type gen struct {
	r      *rand.Rand
	pkg    *genPackage
	labels int
	steps  int
	nsX    bool // the documents bind x: to CWL's namespace
}

const genRegistry = "localhost:5000/gen"

var (
	genAlpine = "docker.io/library/alpine@sha256:" + strings.Repeat("a1", 32)
	genEvil   = "docker.io/attacker/evil:latest"
	genTagged = "docker.io/library/busybox:1"
)

func (g *gen) shape(name string) { g.pkg.Shapes[name] = true }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// generatePackage writes package number seed to dir.
func generatePackage(seed int64, dir string) (*genPackage, error) {
	g := &gen{r: rand.New(rand.NewSource(seed))}
	g.pkg = &genPackage{Seed: seed, Dir: dir, Owner: map[string]int{}, Maybe: map[string]int{}, Shapes: map[string]bool{},
		files: map[string]*yaml.Node{}, json: map[string]bool{}, bom: map[string]bool{}}
	g.nsX = g.chance(0.5)
	n := 1 + g.r.Intn(3)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("t%d", i)
		g.pkg.Tools = append(g.pkg.Tools, genTool{Name: name, Repo: genRegistry + "/" + name,
			Pin: fmt.Sprintf("%s/%s:1.0@sha256:%064x", genRegistry, name, seed*16+int64(i)+1)})
	}
	switch g.r.Intn(3) {
	case 0:
		g.layoutPacked(false)
	case 1:
		g.layoutFiles()
	default:
		g.layoutPacked(true)
	}
	return g.pkg, g.pkg.write()
}

// process makes a CommandLineTool of tool owner (-1: none) with a fresh
// label and the DockerRequirements chosen at random.
func (g *gen) process(owner int, id string) *yaml.Node {
	label := fmt.Sprintf("p%d", g.labels)
	g.labels++
	g.pkg.Owner[label] = owner
	n := ymap("class", "CommandLineTool")
	if id != "" {
		add(n, "id", ystr(id))
	}
	add(n, "label", ystr(label))
	add(n, "baseCommand", ystr("echo"))
	add(n, "inputs", yseq())
	add(n, "outputs", yseq())
	image := g.foreignImage()
	if owner >= 0 {
		image = g.pkg.Tools[owner].Repo + ":dev"
		if g.chance(0.2) {
			image = g.pkg.Tools[owner].Repo + "@sha256:" + strings.Repeat("0", 64)
		}
	}
	g.dockerOf(n, image, owner >= 0)
	return n
}

// foreignImage is an image no tool builds: pinned, by tag, or the
// attacker's.
func (g *gen) foreignImage() string {
	switch g.r.Intn(8) {
	case 0:
		return genTagged
	case 1:
		return genEvil
	}
	return genAlpine
}

// dockerOf gives node (a process or a step) DockerRequirements naming image.
func (g *gen) dockerOf(n *yaml.Node, image string, tool bool) {
	switch g.r.Intn(6) {
	case 0:
		g.shape("no DockerRequirement")
	case 1:
		g.section(n, "hints", image)
	case 2, 3:
		g.section(n, "requirements", image)
	case 4:
		g.shape("hints and requirements")
		other := image
		if g.chance(0.5) {
			other = g.foreignImage()
		}
		g.section(n, "hints", other)
		g.section(n, "requirements", image)
	default:
		g.shape("two DockerRequirements in one list")
		sec := "requirements"
		if !tool && g.chance(0.5) {
			sec = "hints"
		}
		add(n, sec, yseq(g.dockerEntry(g.foreignImage(), true), g.dockerEntry(image, true)))
	}
}

// section adds one DockerRequirement to a hints or requirements section,
// in map or list form.
func (g *gen) section(n *yaml.Node, sec, image string) {
	if g.chance(0.4) {
		g.shape("map form")
		entry := g.dockerEntry(image, false)
		class := g.className()
		m := ymap()
		add(m, class, entry)
		if g.chance(0.1) {
			g.shape("map form, two spellings of the class")
			m = ymap()
			add(m, "DockerRequirement", g.dockerEntry(g.foreignImage(), false))
			add(m, "cwl:DockerRequirement", entry)
		}
		if g.chance(0.2) {
			add(m, "InlineJavascriptRequirement", ymap())
		}
		add(n, sec, m)
		return
	}
	g.shape("list form")
	items := []*yaml.Node{}
	if g.chance(0.2) {
		items = append(items, ymap("class", "InlineJavascriptRequirement"))
	}
	add(n, sec, yseq(append(items, g.dockerEntry(image, true))...))
}

// className is how a DockerRequirement's class is spelt.
func (g *gen) className() string {
	switch g.r.Intn(8) {
	case 0:
		g.shape("class cwl:DockerRequirement")
		return "cwl:DockerRequirement"
	case 1:
		g.shape("class as a full URI")
		return cwlNamespace + "DockerRequirement"
	case 2:
		if g.nsX {
			g.shape("class with a prefix of $namespaces")
			return "x:DockerRequirement"
		}
	}
	return "DockerRequirement"
}

// dockerEntry is a DockerRequirement's mapping; with class, a list entry.
func (g *gen) dockerEntry(image string, class bool) *yaml.Node {
	m := ymap()
	if class {
		add(m, "class", ystr(g.className()))
	}
	add(m, "dockerPull", ystr(image))
	if g.chance(0.06) {
		g.shape("dockerImageId")
		id := genEvil
		if g.chance(0.5) {
			id = image
		}
		add(m, "dockerImageId", ystr(id))
	}
	if g.chance(0.04) {
		g.shape("dockerFile beside dockerPull")
		add(m, "dockerFile", ystr("FROM scratch\n"))
	}
	return m
}

// workflow makes a Workflow with an id (or none), SubworkflowFeatureRequirement
// and, at random, DockerRequirements of its own.
func (g *gen) workflow(id string) *yaml.Node {
	n := ymap("class", "Workflow")
	if id != "" {
		add(n, "id", ystr(id))
	}
	add(n, "label", ystr("workflow "+id))
	add(n, "inputs", yseq())
	add(n, "outputs", yseq())
	reqs := yseq(ymap("class", "SubworkflowFeatureRequirement"))
	if g.chance(0.1) {
		g.shape("SchemaDefRequirement")
		field := ymap("name", "a", "type", "string")
		rec := ymap("name", "Rec", "type", "record")
		add(rec, "fields", yseq(field))
		sd := ymap("class", "SchemaDefRequirement")
		add(sd, "types", yseq(rec))
		reqs.Content = append(reqs.Content, sd)
	}
	if g.chance(0.2) {
		g.shape("workflow requirement")
		reqs.Content = append(reqs.Content, g.dockerEntry(g.anyImage(), true))
		if g.chance(0.3) {
			g.shape("workflow requirement, two entries")
			reqs.Content = append(reqs.Content, g.dockerEntry(g.anyImage(), true))
		}
	}
	add(n, "requirements", reqs)
	if g.chance(0.15) {
		g.shape("workflow hint")
		add(n, "hints", yseq(g.dockerEntry(g.anyImage(), true)))
	}
	if g.chance(0.3) {
		add(n, "steps", yseq())
	} else {
		add(n, "steps", ymap())
	}
	return n
}

// anyImage is a foreign image, or one of a tool's repositories.
func (g *gen) anyImage() string {
	if g.chance(0.25) {
		return g.pkg.Tools[g.r.Intn(len(g.pkg.Tools))].Repo + ":wf"
	}
	return g.foreignImage()
}

// step adds a step running run (a reference string or an inline process)
// to workflow wf, in its map or list form, with DockerRequirements of its
// own at random.
func (g *gen) step(wf *yaml.Node, run *yaml.Node) {
	name := fmt.Sprintf("s%d", g.steps)
	g.steps++
	st := ymap()
	add(st, "run", run)
	add(st, "in", yseq())
	add(st, "out", yseq())
	if g.chance(0.12) {
		g.shape("step requirement")
		add(st, "requirements", yseq(g.dockerEntry(g.anyImage(), true)))
	}
	if g.chance(0.08) {
		g.shape("step hint")
		add(st, "hints", yseq(g.dockerEntry(g.anyImage(), true)))
	}
	steps := mapValue(wf, "steps")
	if steps.Kind == yaml.SequenceNode {
		g.shape("steps as a list")
		st.Content = append([]*yaml.Node{ystr("id"), ystr(name)}, st.Content...)
		steps.Content = append(steps.Content, st)
		return
	}
	add(steps, name, st)
}

// layoutPacked is one $graph file, app.cwl: #main, maybe #sub, the tools;
// with names, the tools of single-process files a/tool.cwl and b/tool.cwl
// also appear under the ids `cwltool --pack` gives them.
func (g *gen) layoutPacked(names bool) {
	g.shape("$graph")
	asJSON := g.chance(0.3)
	main := g.workflow("main")
	graph := yseq(main)
	var runs []*yaml.Node
	for i := range g.pkg.Tools {
		id := fmt.Sprintf("tool%d", i)
		if names && i == 0 {
			g.packedNames(graph, &runs)
			continue
		}
		proc := g.process(i, id)
		graph.Content = append(graph.Content, proc)
		g.pkg.ToolRefs = append(g.pkg.ToolRefs, "app.cwl#"+id)
		runs = append(runs, ystr("#"+id))
		if g.chance(0.3) {
			g.shape("a second process of a tool, claimed by its image")
			extra := g.process(i, id+"b")
			label := mapValue(extra, "label").Value
			g.pkg.Owner[label], g.pkg.Maybe[label] = -1, i
			if reqs := mapValue(proc, "requirements"); reqs != nil && !asJSON && g.chance(0.3) {
				// The second process shares the first's requirements
				// through a YAML alias, as published packages do.
				g.shape("requirements shared through a YAML anchor")
				reqs.Anchor = fmt.Sprintf("reqs%d", i)
				setValue(extra, "requirements", &yaml.Node{Kind: yaml.AliasNode, Value: reqs.Anchor, Alias: reqs})
			}
			graph.Content = append(graph.Content, extra)
			runs = append(runs, ystr("#"+id+"b"))
		}
	}
	for k := g.r.Intn(3); k > 0; k-- {
		g.shape("a process no tool builds")
		id := fmt.Sprintf("foreign%d", k)
		graph.Content = append(graph.Content, g.process(-1, id))
		runs = append(runs, ystr("#"+id))
	}
	if g.chance(0.25) {
		g.shape("inline process")
		runs = append(runs, g.process(-1, ""))
	}
	target := main
	if g.chance(0.35) {
		g.shape("nested subworkflow")
		sub := g.workflow("sub")
		graph.Content = append(graph.Content, sub)
		g.step(main, ystr("#sub"))
		target = sub
	}
	for _, run := range runs {
		wf := main
		if g.chance(0.5) {
			wf = target
		}
		g.step(wf, run)
		if g.chance(0.15) {
			g.shape("one process run by two steps")
			g.step(main, run)
		}
	}
	g.refusals(main)
	root := ymap("cwlVersion", "v1.2")
	g.namespaces(root)
	add(root, "$graph", graph)
	g.pkg.files["app.cwl"] = root
	g.pkg.json["app.cwl"] = asJSON
	if g.pkg.bom["app.cwl"] = !asJSON && g.chance(0.05); g.pkg.bom["app.cwl"] {
		g.shape("a byte order mark")
	}
	g.pkg.Workflows = append(g.pkg.Workflows, "app.cwl")
}

// packedNames adds tool 0 as `cwltool --pack` packs two files of one name:
// a/tool.cwl and b/tool.cwl become #tool.cwl and #tool.cwl_2. One of them
// is tool 0's, the other an image no tool builds; sometimes #tool.cwl is a
// Workflow wrapping #tool.cwl_2 instead.
func (g *gen) packedNames(graph *yaml.Node, runs *[]*yaml.Node) {
	g.shape("two packed files of one name (_2)")
	if g.chance(0.3) {
		g.shape("a packed Workflow and its tool under one file name")
		tool := g.process(0, "")
		g.pkg.files["b/tool.cwl"] = withVersion(tool)
		g.namespaces(g.pkg.files["b/tool.cwl"])
		g.pkg.ToolRefs = append(g.pkg.ToolRefs, "b/tool.cwl")
		copyTool := g.copyOf(tool, "tool.cwl_2")
		wrap := g.workflow("tool.cwl")
		g.step(wrap, ystr("#tool.cwl_2"))
		graph.Content = append(graph.Content, wrap, copyTool)
		*runs = append(*runs, ystr("#tool.cwl"))
		return
	}
	mine := g.r.Intn(2) // which of a/ and b/ is the tool's
	for k, dir := range []string{"a", "b"} {
		owner := -1
		if k == mine {
			owner = 0
		}
		proc := g.process(owner, "")
		if owner < 0 {
			// The other file runs an image pinned by hand.
			setDocker(proc, genAlpine)
		}
		g.pkg.files[dir+"/tool.cwl"] = withVersion(proc)
		g.namespaces(g.pkg.files[dir+"/tool.cwl"])
		if owner == 0 {
			g.pkg.ToolRefs = append(g.pkg.ToolRefs, dir+"/tool.cwl")
		}
		id := "tool.cwl"
		if k == 1 {
			id = "tool.cwl_2"
		}
		graph.Content = append(graph.Content, g.copyOf(proc, id))
		*runs = append(*runs, ystr("#"+id))
	}
}

// copyOf is a packed copy of a single-process file's tool: the same
// process, under id.
func (g *gen) copyOf(proc *yaml.Node, id string) *yaml.Node {
	c := deepCopy(proc)
	c.Content = append([]*yaml.Node{ystr("id"), ystr(id)}, c.Content...)
	return c
}

// layoutFiles is a workflow file wf.cwl whose steps run tools/NAME.cwl
// (and maybe sub.cwl, a workflow that runs some of them).
func (g *gen) layoutFiles() {
	g.shape("one file per process")
	main := g.workflow("")
	var runs []string
	for i := range g.pkg.Tools {
		file := fmt.Sprintf("tools/t%d.cwl", i)
		id := ""
		if g.chance(0.3) {
			id = fmt.Sprintf("tool%d", i)
		}
		proc := g.process(i, id)
		if g.chance(0.12) {
			g.shape("$import of a DockerRequirement")
			imported := fmt.Sprintf("tools/docker-t%d.yml", i)
			g.pkg.files[imported] = g.dockerEntry(g.pkg.Tools[i].Repo+":dev", true)
			setValue(proc, "requirements", yseq(ymap("$import", path.Base(imported))))
		}
		g.pkg.files[file] = withVersion(proc)
		g.pkg.ToolRefs = append(g.pkg.ToolRefs, file)
		runs = append(runs, file)
	}
	if g.chance(0.5) {
		g.shape("a process no tool builds")
		g.pkg.files["tools/other.cwl"] = withVersion(g.process(-1, ""))
		runs = append(runs, "tools/other.cwl")
	}
	target, prefix := main, ""
	if g.chance(0.35) {
		g.shape("nested subworkflow")
		sub := g.workflow("")
		g.pkg.files["sub/sub.cwl"] = withVersion(sub)
		g.step(main, ystr("sub/sub.cwl"))
		target, prefix = sub, "../"
	}
	for _, run := range runs {
		if g.chance(0.5) {
			g.step(target, ystr(prefix+run))
		} else {
			g.step(main, ystr(run))
		}
	}
	if g.chance(0.03) {
		g.pkg.Refused = "a step runs a file the package lacks"
		g.shape(g.pkg.Refused)
		g.step(main, ystr("missing.cwl"))
	}
	g.refusals(main)
	root := withVersion(main)
	g.namespaces(root)
	for file, n := range g.pkg.files {
		if strings.HasPrefix(file, "tools/") || strings.HasPrefix(file, "sub/") {
			g.namespaces(n)
		}
	}
	g.pkg.files["wf.cwl"] = root
	g.pkg.json["wf.cwl"] = g.chance(0.2)
	if g.pkg.bom["wf.cwl"] = !g.pkg.json["wf.cwl"] && g.chance(0.05); g.pkg.bom["wf.cwl"] {
		g.shape("a byte order mark")
	}
	g.pkg.Workflows = append(g.pkg.Workflows, "wf.cwl")
}

// refusals adds, rarely, a step that runs a process fetched by URL.
func (g *gen) refusals(main *yaml.Node) {
	if g.chance(0.04) {
		g.pkg.Refused = "run: by URL"
		g.shape(g.pkg.Refused)
		g.step(main, ystr("http://127.0.0.1:9/stac-client.cwl"))
	}
}

// namespaces gives a document root $namespaces (x: is CWL's) when the
// package uses it, and sometimes a byte order mark.
func (g *gen) namespaces(root *yaml.Node) {
	if g.nsX {
		ns := ymap("x", cwlNamespace, "s", "https://schema.org/")
		root.Content = append([]*yaml.Node{ystr("$namespaces"), ns}, root.Content...)
	}
}

// write writes the package: project.toml and its CWL files.
func (p *genPackage) write() error {
	var toml strings.Builder
	fmt.Fprintf(&toml, "[project]\nname = \"gen-%d\"\n\n[build]\nengine = \"local\"\n\n[build.local]\nregistry = %q\n", p.Seed, genRegistry)
	for i, t := range p.Tools {
		fmt.Fprintf(&toml, "\n[tools.%s]\ncontext = \".\"\npath = %q\n", t.Name, p.ToolRefs[i])
	}
	for _, w := range p.Workflows {
		fmt.Fprintf(&toml, "\n[[workflows]]\npath = %q\n", w)
	}
	if err := os.WriteFile(filepath.Join(p.Dir, "project.toml"), []byte(toml.String()), 0o644); err != nil {
		return err
	}
	names := make([]string, 0, len(p.files))
	for f := range p.files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		var data []byte
		if p.json[f] {
			data = []byte(toJSON(p.files[f]) + "\n")
		} else {
			var err error
			if data, err = yaml.Marshal(p.files[f]); err != nil {
				return err
			}
		}
		if p.bom[f] {
			data = append([]byte("\ufeff"), data...)
		}
		path := filepath.Join(p.Dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// The node helpers build YAML trees in order (yaml.v3 keeps the order of
// a node's content; a Go map would be sorted).

func ystr(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func ymap(kv ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		add(n, kv[i], ystr(kv[i+1]))
	}
	return n
}

func yseq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, ystr(key), v)
}

// setValue replaces key's value in m, or adds it.
func setValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	add(m, key, v)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func withVersion(n *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: append([]*yaml.Node{ystr("cwlVersion"), ystr("v1.2")}, n.Content...)}
}

// setDocker makes every dockerPull of a process image.
func setDocker(n *yaml.Node, image string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Kind == yaml.MappingNode && n.Content[i].Value == "dockerPull" {
			n.Content[i+1] = ystr(image)
		}
	}
	for _, c := range n.Content {
		setDocker(c, image)
	}
}

func deepCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = nil
	for _, k := range n.Content {
		c.Content = append(c.Content, deepCopy(k))
	}
	return &c
}

// toJSON writes a tree of mappings, lists and strings as JSON, in order.
func toJSON(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		var parts []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, _ := json.Marshal(n.Content[i].Value)
			parts = append(parts, string(k)+": "+toJSON(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case yaml.SequenceNode:
		var parts []string
		for _, c := range n.Content {
			parts = append(parts, toJSON(c))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	v, _ := json.Marshal(n.Value)
	return string(v)
}

package cwlpatch

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
)

// Rules of the OGC application-package best practice (OGC 20-089) and of
// the release contract the community's workflows enforce, as far as this
// chain is concerned: what a platform that receives the package needs to
// run it. Each is a warning in `cwlbuild check` and an error in `check
// --strict` and in a release, except ruleDockerHint, which stays a warning
// (the community's validator says so: cwltool honours a hint).
const (
	ruleProcesses    = "app-package/processes"     // a [[workflows]] file has a Workflow and a CommandLineTool
	ruleToolFields   = "app-package/tool-fields"   // a CommandLineTool has id, baseCommand, inputs
	ruleDocker       = "app-package/docker"        // a CommandLineTool has a DockerRequirement
	ruleDockerHint   = "app-package/docker-hint"   // ... in requirements, not only in hints
	ruleWorkflowDocs = "app-package/workflow-docs" // the Workflow and its inputs have id, label, doc
	ruleVersion      = "app-package/version"       // s:softwareVersion is [project] version
	ruleImageSource  = "app-package/image-source"  // a CommandLineTool's image is built by a tool, or listed external
	ruleResources    = "app-package/resources"     // a CommandLineTool has a ResourceRequirement with coresMin and ramMin
)

// Conformance checks every [[workflows]] file against the rules above and
// returns one diagnostic per finding, each naming file:line, the process
// and the rule: a warning, or with strict (`check --strict`, a release) an
// error, except the dockerPull hint.
func Conformance(p *builder.Plan, strict bool) []builder.Diagnostic {
	return conformanceOf(p, loadProject(p), strict)
}

// PackageChecks are Conformance and TestResources of one loading of the
// package's CWL (what `cwlbuild check` runs): each would load and resolve
// every file again.
func PackageChecks(p *builder.Plan, strict bool) []builder.Diagnostic {
	s := loadProject(p)
	return append(conformanceOf(p, s, strict), testResourcesOf(p, s, strict)...)
}

func conformanceOf(p *builder.Plan, s *set, strict bool) []builder.Diagnostic {
	out := conformance(p, s)
	for i, d := range out {
		if strict && d.Rule != ruleDockerHint {
			out[i].Severity = builder.SeverityError
		}
	}
	return out
}

func conformance(p *builder.Plan, s *set) []builder.Diagnostic {
	var out []builder.Diagnostic
	add := func(d *cwlDocument, n *yaml.Node, rule, format string, args ...any) {
		line := 0
		if n != nil {
			line = d.lineOf(d.offset(n))
		}
		out = append(out, builder.Diagnostic{File: d.File, Line: line, Severity: builder.SeverityWarning, Rule: rule,
			Message: fmt.Sprintf(format, args...) + " (" + rule + ")"})
	}
	entry := map[*cwlDocument][]*cwlProcess{}
	for _, w := range p.Workflows {
		if proc := s.process(w.ProcessRef); proc != nil {
			entry[proc.Doc] = append(entry[proc.Doc], proc)
		}
	}
	owned := map[*cwlProcess]bool{}
	for _, tg := range s.targets() {
		for _, proc := range tg.procs {
			owned[proc] = true
		}
	}
	external := map[string]bool{}
	for _, e := range p.ExternalImages {
		external[pulledRepoOf(e)] = true
	}
	if len(p.Workflows) == 0 {
		out = append(out, builder.Diagnostic{File: p.File, Severity: builder.SeverityWarning, Rule: ruleProcesses,
			Message: fmt.Sprintf("%s has no [[workflows]]: an application package has a Workflow a platform runs (%s)", p.File, ruleProcesses)})
	}
	res := s.resolve()
	for _, d := range s.workflowDocs() {
		tools, workflows := 0, 0
		for _, proc := range d.Processes {
			switch proc.Class {
			case "Workflow":
				workflows++
			case "CommandLineTool":
				tools++
				checkTool(d, proc, res, add)
				if repo := foreignRepo(proc, res, external); !owned[proc] && repo != "" {
					add(d, proc.Node, ruleImageSource, "%s runs %s, which no tool of project.toml builds: list it in [release] externalImages if the package means to run an image it does not build", classed(proc), repo)
				}
			}
		}
		if workflows == 0 || tools == 0 {
			add(d, d.root, ruleProcesses, "%s has %d Workflow and %d CommandLineTool processes; an application package has at least one of each", d.File, workflows, tools)
		}
		for _, wf := range entry[d] {
			if wf.Class == "Workflow" {
				checkWorkflow(d, wf, add)
			}
		}
		checkVersion(p, d, entry[d], add)
	}
	return out
}

type addFunc func(d *cwlDocument, n *yaml.Node, rule, format string, args ...any)

// foreignRepo is the first repository, not listed in external, of the
// images the resolver says proc runs; "" when there is none.
func foreignRepo(proc *cwlProcess, res *resolution, external map[string]bool) string {
	for _, i := range res.of[proc] {
		if repo := pulledRepoOf(res.runs[i].image()); repo != "" && !external[repo] {
			return repo
		}
	}
	return ""
}

// classed names a process with its class: `CommandLineTool "crop"`, or
// "the CommandLineTool of step ..." when it has no id.
func classed(p *cwlProcess) string {
	if p.ID == "" {
		return p.Name()
	}
	return p.Class + " " + p.Name()
}

// inherits reports whether every step the package's workflows run proc by
// gives it a DockerRequirement from the step or a workflow around it.
func inherits(proc *cwlProcess, res *resolution) bool {
	steps := 0
	for _, i := range res.of[proc] {
		if e := res.runs[i]; len(e.via) > 0 {
			if e.effective == nil {
				return false
			}
			steps++
		}
	}
	return steps > 0
}

func checkTool(d *cwlDocument, proc *cwlProcess, res *resolution, add addFunc) {
	name := classed(proc)
	if proc.ID == "" {
		add(d, proc.Node, ruleToolFields, "%s has no id", name)
	}
	for _, key := range []string{"baseCommand", "inputs"} {
		if mapGet(proc.Node, key) == nil {
			add(d, proc.Node, ruleToolFields, "%s has no %s", name, key)
		}
	}
	checkResources(d, proc, name, add)
	req, _ := d.sites(proc.Node, "requirements")
	if len(req) > 0 {
		return
	}
	if hints, _ := d.sites(proc.Node, "hints"); len(hints) > 0 {
		add(d, hints[0].req, ruleDockerHint, "%s names its image only in hints.DockerRequirement; a platform may ignore hints: move it to requirements", name)
		return
	}
	if inherits(proc, res) {
		add(d, proc.Node, ruleDockerHint, "%s has no DockerRequirement of its own: it runs the one of the workflow or step around it, which a platform that runs the tool alone does not see", name)
		return
	}
	add(d, proc.Node, ruleDocker, "%s has no DockerRequirement: a platform cannot tell which image runs it", name)
}

func checkWorkflow(d *cwlDocument, wf *cwlProcess, add addFunc) {
	name := classed(wf)
	for _, key := range []string{"label", "doc"} {
		if v := mapGet(wf.Node, key); v == nil || strings.TrimSpace(v.Value) == "" && v.Kind == yaml.ScalarNode {
			add(d, wf.Node, ruleWorkflowDocs, "%s has no %s: a platform shows it to the people who run the package", name, key)
		}
	}
	inputs := deref(mapGet(wf.Node, "inputs"))
	if inputs == nil {
		return
	}
	check := func(id string, in *yaml.Node) {
		in = deref(in)
		for _, key := range []string{"label", "doc"} {
			if in == nil || in.Kind != yaml.MappingNode || mapGet(in, key) == nil {
				at := in
				if at == nil {
					at = inputs
				}
				add(d, at, ruleWorkflowDocs, "input %q of %s has no %s", id, name, key)
			}
		}
	}
	switch inputs.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(inputs.Content); i += 2 {
			check(inputs.Content[i].Value, inputs.Content[i+1])
		}
	case yaml.SequenceNode:
		for _, in := range inputs.Content {
			id := ""
			if v := mapGet(in, "id"); v != nil {
				id = v.Value
			}
			check(id, in)
		}
	}
}

// checkVersion: the document (or the Workflow project.toml names) carries
// s:softwareVersion, equal to [project] version, so that the version a
// platform shows is the one the images are tagged with.
func checkVersion(p *builder.Plan, d *cwlDocument, entries []*cwlProcess, add addFunc) {
	nodes := []*yaml.Node{d.root}
	for _, e := range entries {
		nodes = append(nodes, e.Node)
	}
	for _, n := range nodes {
		v := mapGet(n, "s:softwareVersion")
		if v == nil {
			continue
		}
		if p.Version != "" && v.Value != p.Version {
			add(d, v, ruleVersion, "s:softwareVersion %q is not [project] version %q", v.Value, p.Version)
		}
		return
	}
	add(d, d.root, ruleVersion, "%s has no s:softwareVersion (schema.org): write [project] version %q there", d.File, p.Version)
}

// checkResources: the tool's own ResourceRequirement (in requirements or
// hints; the last one cwltool reads wins) names coresMin and ramMin, what a
// platform such as Calrissian reserves for its pod (OGC 20-089's
// application package, and the community's validator, ask for it).
func checkResources(d *cwlDocument, proc *cwlProcess, name string, add addFunc) {
	var last *yaml.Node
	for _, section := range []string{"hints", "requirements"} {
		found, _ := d.classSites(proc.Node, section, "ResourceRequirement")
		if len(found) > 0 {
			last = found[len(found)-1].req
		}
	}
	if last == nil {
		add(d, proc.Node, ruleResources, "%s has no ResourceRequirement: a platform cannot tell what to reserve for it (write coresMin and ramMin)", name)
		return
	}
	var missing []string
	for _, key := range []string{"coresMin", "ramMin"} {
		if mapGet(last, key) == nil {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		add(d, last, ruleResources, "the ResourceRequirement of %s has no %s: a platform reserves the minimum", name, strings.Join(missing, " and "))
	}
}

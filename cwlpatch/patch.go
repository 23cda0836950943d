package cwlpatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/imageref"
)

// Change is one CWL file's content before and after pinning.
type Change struct {
	File     string // as project.toml names it
	Path     string // absolute
	Old, New []byte
}

// Changed reports whether the file's bytes differ.
func (c *Change) Changed() bool { return !bytes.Equal(c.Old, c.New) }

// Pinned is one tool's outcome.
type Pinned struct {
	Tool string
	Ref  string
	// Processes counts the processes pinned (a tool's copies in several
	// workflows, several processes sharing its image); Places are the
	// "file:line" of each dockerPull written, once each (processes that
	// share one through an alias or an $import share its place).
	Processes int
	Places    []string
	Changed   bool
}

// Result is every edit of a run, computed before anything is written.
type Result struct {
	Changes []*Change
	Pinned  []Pinned
	// Overrides are enclosing workflows' DockerRequirements that beat a
	// pinned tool's hint: cwltool would not run the pin. A warning when
	// patching, an error under --check.
	Overrides []string
}

// Changed returns the files whose bytes would change.
func (r *Result) Changed() []*Change {
	var out []*Change
	for _, c := range r.Changes {
		if c.Changed() {
			out = append(out, c)
		}
	}
	return out
}

// Write replaces every changed file, all or none (see atomicfile.WriteAll):
// ctx ending before the first rename leaves every file as it was; journal
// (see Recover) lets a run killed during the renames be completed.
func (r *Result) Write(ctx context.Context, journal string) error {
	var paths []string
	var contents [][]byte
	for _, c := range r.Changed() {
		paths = append(paths, c.Path)
		contents = append(contents, c.New)
	}
	return atomicfile.WriteAll(ctx, paths, contents, 0o644, journal)
}

// cwlFiles lists the CWL files a project names (tools' paths and workflows),
// absolute and with symlinks resolved, each once: what a run that rewrites
// them locks.
func cwlFiles(p *builder.Plan) []string {
	var out []string
	seen := map[string]bool{}
	add := func(ref builder.ProcessRef) {
		path := ref.Path
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
		if !seen[path] {
			seen[path] = true
			out = append(out, path)
		}
	}
	for _, a := range p.Artifacts {
		for _, ref := range a.Processes {
			add(ref)
		}
	}
	for _, w := range p.Workflows {
		add(w.ProcessRef)
	}
	return out
}

// journalPath is where Write's journal lives: beside project.toml, so the
// next run on the package finds it.
func journalPath(p *builder.Plan) string { return filepath.Join(p.Dir, ".cwlpatch-journal") }

// Check is cwlpatch's part of `cwlbuild check`, before any build: the very
// checks a run of cwlpatch makes (planEdits, with every tool pinned to a
// stand-in digest), so that a package check accepts is one cwlpatch can
// pin, every problem listed as an error; and, as warnings, Unpinned's lines
// for images no tool builds: the build will not pin them, and `cwlpatch
// --check` and a release refuse them in the same words.
func Check(p *builder.Plan) []builder.Diagnostic {
	var matches []Match
	for _, t := range p.Artifacts {
		for _, prof := range append([]builder.Profile{p.DefaultProfile()}, builder.Profiles...) {
			if img := t.Images[prof]; img != "" {
				matches = append(matches, Match{Tool: t, Ref: img + "@sha256:" + strings.Repeat("0", 64)})
				break
			}
		}
	}
	if _, err := planEdits(p, matches); err != nil {
		return builder.Diagnose(err, builder.SeverityError)
	}
	problems, _, err := unpinned(p)
	if err != nil {
		return builder.Diagnose(err, builder.SeverityError)
	}
	var out []builder.Diagnostic
	for _, pr := range problems {
		if pr.Tool == nil {
			out = append(out, builder.Diagnose(errors.New(pr.Message), builder.SeverityWarning)...)
		}
	}
	return out
}

// planEdits computes the new content of every CWL file the matches touch. Nothing
// is written: on any error the result is nil and the caller writes nothing.
// Each built tool's image is pinned in every process that runs it (see
// targets), through aliases and $imports; a dockerPull shared with a process
// that is not pinned to the same image is refused.
func planEdits(p *builder.Plan, matches []Match) (*Result, error) {
	s := loadProject(p)
	targets := s.targets()
	// Go on past a file that did not load: every other problem is listed
	// too (nothing is written while there is any).
	loadErrs := len(s.errs)
	byTool := map[*builder.Artifact]target{}
	for _, tg := range targets {
		byTool[tg.tool] = tg
	}
	res := &Result{}
	pinnedTo := map[*cwlProcess]Match{}
	for _, m := range matches {
		for _, proc := range byTool[m.Tool].procs {
			pinnedTo[proc] = m
		}
	}
	var order []*cwlDocument
	byDoc := map[*cwlDocument][]byteEdit{}
	seen := map[editKey]bool{}
	for _, m := range matches {
		tg := byTool[m.Tool]
		pin := Pinned{Tool: m.Tool.Tool, Ref: m.Ref}
		if len(tg.procs) == 0 {
			if loadErrs == 0 {
				s.errs = append(s.errs, fmt.Errorf("%s: tool %q names no process to pin", p.File, m.Tool.Tool))
			}
			continue
		}
		for _, proc := range tg.procs {
			sites, err := processSites(proc)
			if err != nil {
				s.errs = append(s.errs, fmt.Errorf("%w (tool %q)", err, m.Tool.Tool))
				continue
			}
			edits, overrides, err := s.pinEdits(proc, sites, m.Ref)
			if err != nil {
				s.errs = append(s.errs, fmt.Errorf("%w (tool %q)", err, m.Tool.Tool))
				continue
			}
			if err := s.checkShared(proc, sites, m, pinnedTo); err != nil {
				s.errs = append(s.errs, err)
				continue
			}
			for _, o := range overrides {
				res.Overrides = append(res.Overrides, o.String())
			}
			for _, e := range edits {
				k := editKey{e.Doc, e.Offset}
				if seen[k] {
					continue // one scalar shared by several processes
				}
				seen[k] = true
				if _, ok := byDoc[e.Doc]; !ok {
					order = append(order, e.Doc)
				}
				byDoc[e.Doc] = append(byDoc[e.Doc], e)
				if !editsAreNoOps(e.Doc.Data, []byteEdit{e}) {
					pin.Changed = true
				}
			}
			pin.Processes++
			for _, e := range edits {
				place := fmt.Sprintf("%s:%d", e.Doc.File, e.Doc.lineOf(e.Offset))
				if proc.ID == "" && proc.Parent != nil {
					place += fmt.Sprintf(" (step %s)", stepName(proc.Parent, proc.Step))
				}
				if !slices.Contains(pin.Places, place) {
					pin.Places = append(pin.Places, place)
				}
			}
		}
		res.Pinned = append(res.Pinned, pin)
	}
	// A step the resolver cannot follow runs a process cwlpatch has not
	// read, whose image no pin reaches.
	s.errs = append(s.errs, s.resolve().refused...)
	if len(s.errs) > 0 {
		return nil, joinErrors(s.errs)
	}
	for _, d := range order {
		res.Changes = append(res.Changes, &Change{File: d.File, Path: d.path, Old: d.Data, New: applyEdits(d.Data, byDoc[d])})
	}
	if err := verify(p, res, matches, order); err != nil {
		return nil, err
	}
	return res, nil
}

type editKey struct {
	doc *cwlDocument
	off int
}

// checkShared refuses to edit a dockerPull that another process or step
// also resolves to, unless that one is pinned to the same image: editing
// the anchored scalar (or the imported file) changes it for every alias.
func (s *set) checkShared(proc *cwlProcess, sites []site, m Match, pinnedTo map[*cwlProcess]Match) error {
	for _, st := range sites {
		if st.pull == nil {
			continue
		}
		var others []string
		for _, u := range s.usersOf(st.pull) {
			if u.step == nil && u.proc == proc {
				continue
			}
			other, ok := pinnedTo[u.proc]
			switch {
			case ok && u.step == nil && other.Ref == m.Ref:
				continue
			case ok && u.step == nil:
				others = append(others, fmt.Sprintf("%s, which is pinned to tool %q's image", u, other.Tool.Tool))
			default:
				others = append(others, fmt.Sprintf("%s, which is not pinned", u))
			}
		}
		if len(others) > 0 {
			return fmt.Errorf("%s: %s (tool %q) shares its dockerPull with %s: give each its own DockerRequirement, or list both in tools.%s.path",
				shareSite(st), proc.Desc(), m.Tool.Tool, strings.Join(others, "; "), m.Tool.Tool)
		}
	}
	return nil
}

// shareSite says where a shared dockerPull is defined: the anchor, or the
// imported file.
func shareSite(st site) string {
	switch {
	case st.anchor != nil:
		return fmt.Sprintf("%s:%d: anchor &%s", st.doc.File, st.anchor.Line, st.anchor.Anchor)
	case st.via != "":
		return fmt.Sprintf("%s:%d (%s)", st.doc.File, st.pull.Line, st.via)
	}
	return fmt.Sprintf("%s:%d", st.doc.File, st.pull.Line)
}

// verify is the post-condition of Plan: the planned contents, loaded again
// as a package, must have every pinned process resolve to exactly its pin,
// and every changed file must read, node for node, as it did, but for those
// pins and the DockerRequirements added to hold them. A failure is a bug in
// cwlpatch, reported before anything is written.
func verify(p *builder.Plan, res *Result, matches []Match, olds []*cwlDocument) error {
	s := newSet(p)
	s.overlay = map[string][]byte{}
	for _, c := range res.Changes {
		s.overlay[c.Path] = c.New
	}
	s.loadAll()
	targets := s.targets()
	if len(s.errs) > 0 {
		return fmt.Errorf("cwlpatch: the pinned files do not load again (a bug; nothing was written):\n%w", joinErrors(s.errs))
	}
	want := map[*builder.Artifact]string{}
	for _, m := range matches {
		want[m.Tool] = m.Ref
	}
	var errs []error
	pins := map[*yaml.Node]bool{}
	for _, tg := range targets {
		ref, ok := want[tg.tool]
		if !ok {
			continue
		}
		for _, proc := range tg.procs {
			sites, err := processSites(proc)
			if err == nil && len(sites) == 0 {
				err = fmt.Errorf("%s:%d: %s has no DockerRequirement", proc.Doc.File, proc.Node.Line, proc.Name())
			}
			for _, st := range sites {
				if st.pull == nil || st.pull.Kind != yaml.ScalarNode || st.pull.Value != ref {
					err = fmt.Errorf("%s:%d: %s does not read %s", st.doc.File, st.req.Line, proc.Name(), ref)
				} else {
					pins[st.pull] = true
				}
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, old := range olds {
		now, err := s.load(old.path, old.File, old.isFragment())
		if err == nil {
			err = sameTree(old.File, old.root, now.root, pins)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("cwlpatch: after editing, a pin does not read back (a bug; nothing was written):\n%w", joinErrors(errs))
	}
	return nil
}

// sameTree reports the first difference between a file's tree before and
// after pinning, other than a scalar that is now a pin, or an entry added
// to a mapping or a list that holds a pin (an injected DockerRequirement,
// or the requirements key made for it).
func sameTree(file string, old, now *yaml.Node, pins map[*yaml.Node]bool) error {
	differs := func(what string) error {
		return fmt.Errorf("%s:%d: %s changed, not only the pin", file, now.Line, what)
	}
	if old.Kind != now.Kind {
		return differs("a node's kind")
	}
	switch old.Kind {
	case yaml.ScalarNode:
		if old.Value != now.Value && !pins[now] {
			return differs(fmt.Sprintf("the value %q", old.Value))
		}
		return nil
	case yaml.AliasNode:
		if old.Value != now.Value {
			return differs("an alias")
		}
		return nil
	case yaml.DocumentNode, yaml.MappingNode, yaml.SequenceNode:
	default:
		return differs("a node")
	}
	step := 1
	if old.Kind == yaml.MappingNode {
		step = 2
	}
	i, j := 0, 0
	for i < len(old.Content) || j < len(now.Content) {
		if i < len(old.Content) && j < len(now.Content) && sameTree(file, old.Content[i], now.Content[j], pins) == nil &&
			(step == 1 || sameTree(file, old.Content[i+1], now.Content[j+1], pins) == nil) {
			i, j = i+step, j+step
			continue
		}
		// An entry only in the new tree must be one cwlpatch added.
		if j < len(now.Content) && holdsPin(now.Content[j:j+step], pins) && len(now.Content)-j > len(old.Content)-i {
			j += step
			continue
		}
		if i < len(old.Content) && j < len(now.Content) {
			if err := sameTree(file, old.Content[i], now.Content[j], pins); err != nil {
				return err
			}
			return sameTree(file, old.Content[i+step-1], now.Content[j+step-1], pins)
		}
		return differs("the number of entries")
	}
	return nil
}

// holdsPin reports whether nodes hold a pin: an added DockerRequirement.
func holdsPin(nodes []*yaml.Node, pins map[*yaml.Node]bool) bool {
	for _, n := range nodes {
		if pins[n] || holdsPin(n.Content, pins) {
			return true
		}
	}
	return false
}

// problem is one CommandLineTool that does not run an image pinned by
// digest, as unpinned reports it.
type problem struct {
	// Message names the file and line, the tool, the process (with its
	// step when it is anonymous) and the image.
	Message string
	// Tool is the tool whose image the process runs; nil for an image no
	// tool of the package builds.
	Tool *builder.Artifact
}

// unpinned is the one rule of `cwlpatch --check`, `cwlbuild check` and a
// release: every CommandLineTool that a [[workflows]] file runs (its own,
// inline ones with or without an id, and those of the files its steps
// run) and every process a tool's path names must run, in every context
// the resolver finds for it, an image pinned by digest, a tool's process an
// image of the tool's own repository. It lists, one line each with file
// and line, what the resolver refused (a step it cannot follow), each such
// process whose DockerRequirement has no dockerPull string, that has none,
// whose dockerPull has no digest or names another repository than its
// tool's, whose dockerImageId is another image, whose pin an enclosing
// workflow's requirement overrides, that runs an unpinned image from a
// step or workflow around it, that runs an image of a tool's repository
// cwlpatch does not pin, or for which cwltool and the specification name
// different images; and returns how many processes it checked.
func unpinned(p *builder.Plan) ([]problem, int, error) {
	s, runs, err := runningProcesses(p)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.unpinned(runs)
	return out, len(runs), err
}

// unpinned is the package's unpinned on processes already loaded: what the resolver
// refused (a step it cannot follow), each process's own DockerRequirements,
// then what runs in each context the resolver found for it.
func (s *set) unpinned(runs []runningProcess) ([]problem, error) {
	res := s.resolve()
	var out []problem
	seen := map[string]bool{}
	add := func(msg string, tool *builder.Artifact) {
		if !seen[msg] {
			seen[msg] = true
			out = append(out, problem{msg, tool})
		}
	}
	for _, err := range res.refused {
		add(err.Error(), nil)
	}
	toolOf := s.repositories()
	for _, r := range runs {
		who, fix := "", " (no tool of this package builds it: pin it by digest by hand)"
		var repos map[string]bool
		if r.tool != nil {
			who, fix, repos = fmt.Sprintf("tool %q: ", r.tool.Tool), "", toolRepos(r.tool)
		}
		sites, problems, err := pinProblems(r.proc, who, fix, repos)
		if err != nil {
			return nil, err
		}
		for _, m := range problems {
			add(m, r.tool)
		}
		// A tool's process without a DockerRequirement of its own is one
		// cwlpatch gives it, whatever the workflows around it require.
		if len(sites) == 0 && (r.tool != nil || len(res.of[r.proc]) == 0) {
			add(fmt.Sprintf("%s:%d: %s%s has no DockerRequirement.dockerPull", r.proc.Doc.File, r.proc.Node.Line, who, r.proc.Desc()), r.tool)
			continue
		}
		for _, i := range res.of[r.proc] {
			e := res.runs[i]
			if d := e.disagreement(); d != "" {
				add(d, r.tool)
			}
			if ti, ok := toolOf[pulledRepoOf(e.image())]; ok && r.tool == nil {
				// cwlpatch claims a process by its image only when all its
				// DockerRequirements name the tool's repository.
				t := s.p.Artifacts[ti].Tool
				add(fmt.Sprintf("%s:%d: %s%s runs %s, an image of tool %q's repository, but cwlpatch does not pin it: its DockerRequirements name other images too. Name it in tools.%s.path, or give it one image",
					r.proc.Doc.File, r.proc.Node.Line, r.proc.Desc(), parenthesized(e.context()), e.image(), t, t), nil)
			}
			switch {
			case e.own:
				continue // its own DockerRequirements are checked above
			case e.effective == nil:
				add(fmt.Sprintf("%s:%d: %s%s has no DockerRequirement.dockerPull%s", r.proc.Doc.File, r.proc.Node.Line, who, r.proc.Desc(), parenthesized(e.context())), r.tool)
			case r.tool != nil && len(sites) > 0:
				for _, o := range s.overrides(r.proc) {
					add(o.String(), r.tool)
				}
			default:
				if m := inheritedProblem(e, who, fix, repos); m != "" {
					add(m, r.tool)
				}
			}
		}
	}
	return out, nil
}

// inheritedProblem is what is wrong with the image a process runs from a
// step's or workflow's DockerRequirement: the same rules as its own (see
// pinProblems), said of the requirement that applies.
func inheritedProblem(e execution, who, fix string, repos map[string]bool) string {
	st := e.effective
	verb := "requires"
	if st.section == "hints" {
		verb = "hints"
	}
	at := fmt.Sprintf("%s:%d: %s%s runs the DockerRequirement %s %s (%s)", st.doc.File, st.req.Line, who, e.proc.Desc(), e.by, verb, e.context())
	image := e.image()
	switch {
	case st.pull == nil || st.pull.Kind != yaml.ScalarNode:
		return at + ", which has no dockerPull string"
	case image != st.pull.Value:
		return fmt.Sprintf("%s, whose dockerImageId %q is what cwltool runs, not dockerPull %s: remove dockerImageId", at, image, st.pull.Value)
	case !isDigestPinned(image):
		return fmt.Sprintf("%s: %s, not pinned by digest%s", at, image, fix)
	case repos != nil && !repos[pulledRepoOf(image)]:
		return fmt.Sprintf("%s: %s, which is not an image of the tool's repository: run cwlpatch with the tool's build", at, image)
	}
	return ""
}

// parenthesized is " (s)", or "" for "".
func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// PinnedImage is an image a CommandLineTool of the package runs by digest,
// and the first place that pins it.
type PinnedImage struct {
	Ref, Place string
	// External is set for an image no tool of the package builds.
	External bool
}

// PinnedImages lists, each once, the digest-pinned images of the
// processes Unpinned checks: what a release asks the registry for before
// it publishes a workflow that runs them.
func PinnedImages(p *builder.Plan) ([]PinnedImage, error) {
	s, runs, err := runningProcesses(p)
	if err != nil {
		return nil, err
	}
	return pinnedImages(s.resolve(), runs)
}

// pinnedImages is PinnedImages on processes already loaded.
func pinnedImages(res *resolution, runs []runningProcess) ([]PinnedImage, error) {
	var out []PinnedImage
	seen := map[string]bool{}
	add := func(st site, proc *cwlProcess, external bool) {
		if st.pull == nil || st.pull.Kind != yaml.ScalarNode || !isDigestPinned(st.pull.Value) || seen[st.pull.Value] {
			return
		}
		seen[st.pull.Value] = true
		out = append(out, PinnedImage{Ref: st.pull.Value, Place: fmt.Sprintf("%s:%d: %s", st.doc.File, st.pull.Line, proc.Desc()), External: external})
	}
	for _, r := range runs {
		sites, err := processSites(r.proc)
		if err != nil {
			return nil, err
		}
		for _, st := range sites {
			add(st, r.proc, r.tool == nil)
		}
	}
	// Then what processes run from the steps and workflows around them.
	for _, e := range res.runs {
		if e.effective != nil && !e.own {
			add(*e.effective, e.proc, true)
		}
	}
	return out, nil
}

// runningProcess is a CommandLineTool the package runs, and the tool whose
// image it runs (nil for an image no tool builds).
type runningProcess struct {
	proc *cwlProcess
	tool *builder.Artifact
}

// runningProcesses loads the package and lists the processes Unpinned
// checks: the tools' (project.toml order), then every other
// CommandLineTool of the workflows and the files they run, each once.
func runningProcesses(p *builder.Plan) (*set, []runningProcess, error) {
	s := loadProject(p)
	targets := s.targets()
	if len(s.errs) > 0 {
		return nil, nil, joinErrors(s.errs)
	}
	var out []runningProcess
	seen := map[*cwlProcess]bool{}
	for _, tg := range targets {
		for _, proc := range tg.procs {
			seen[proc] = true
			out = append(out, runningProcess{proc, tg.tool})
		}
	}
	for _, d := range s.runDocs() {
		for _, proc := range d.Processes {
			if !seen[proc] && proc.Class == "CommandLineTool" {
				seen[proc] = true
				out = append(out, runningProcess{proc: proc})
			}
		}
	}
	return s, out, nil
}

// toolRepos are a tool's repositories under every profile, normalized.
func toolRepos(t *builder.Artifact) map[string]bool {
	repos := map[string]bool{}
	for _, n := range t.Images {
		if n != "" {
			repos[imageref.Normalize(n)] = true
		}
	}
	return repos
}

func editsAreNoOps(data []byte, edits []byteEdit) bool {
	for _, e := range edits {
		if e.Length != len(e.Text) || string(data[e.Offset:e.Offset+e.Length]) != e.Text {
			return false
		}
	}
	return true
}

// joinErrors is every problem of a run as one error, one per line;
// errors.As and errors.Is see each of them, and builder.Diagnose makes one
// diagnostic of each.
func joinErrors(errs []error) error {
	return errors.Join(errs...)
}

// unwrapPathError drops the path an *fs.PathError repeats, since the caller
// names the file as project.toml wrote it.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// maxCWLSize bounds the CWL files cwlpatch reads: a packed workflow of 10000
// tools is about 2 MB, and parsing holds several times the file in memory.
const maxCWLSize = 64 << 20

func readCWL(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > maxCWLSize {
		return nil, fmt.Errorf("%d MB, larger than cwlpatch reads (limit %d MB)", st.Size()>>20, maxCWLSize>>20)
	}
	return os.ReadFile(path)
}

// pinProblems is Unpinned's check of one process's own DockerRequirements
// (what it inherits is judged in each context it runs in): a line, with
// file and line, for each dockerImageId beside a dockerPull it differs
// from (cwltool runs dockerImageId), each DockerRequirement without a
// dockerPull string, each dockerPull not
// pinned by digest, and, when repos is set (a tool's), each pinned to
// another repository; who (`tool "crop": ` or "") follows the position, fix
// ends an unpinned pull's line. It also returns the process's
// DockerRequirements.
func pinProblems(proc *cwlProcess, who, fix string, repos map[string]bool) ([]site, []string, error) {
	sites, err := processSites(proc)
	if err != nil {
		return nil, nil, err
	}
	var out []string
	for _, st := range sites {
		if id := mapGet(st.req, "dockerImageId"); id != nil && st.pull != nil && (id.Kind != yaml.ScalarNode || st.pull.Kind != yaml.ScalarNode || id.Value != st.pull.Value) {
			out = append(out, fmt.Sprintf("%s:%d: %s%s has dockerImageId %q beside dockerPull: cwltool runs that image, not the one dockerPull names; remove dockerImageId", st.doc.File, id.Line, who, proc.Desc(), id.Value))
		}
		switch {
		case st.pull == nil || st.pull.Kind != yaml.ScalarNode:
			out = append(out, fmt.Sprintf("%s:%d: %s%s has a DockerRequirement without a dockerPull string", st.doc.File, st.req.Line, who, proc.Desc()))
		case !isDigestPinned(st.pull.Value):
			out = append(out, fmt.Sprintf("%s:%d: %s%s pulls %s, not pinned by digest%s", st.doc.File, st.pull.Line, who, proc.Desc(), st.pull.Value, fix))
		case repos != nil && !repos[pulledRepoOf(st.pull.Value)]:
			out = append(out, fmt.Sprintf("%s:%d: %s%s is pinned to %s, which is not an image of the tool's repository: run cwlpatch with the tool's build", st.doc.File, st.pull.Line, who, proc.Desc(), st.pull.Value))
		}
	}
	return sites, out, nil
}

package cwlpatch

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/imageref"
)

// set is the CWL files of one package, each parsed once: the files tools'
// paths name, every [[workflows]] file, and what they $import. One file is
// one document however it is spelt ("app.cwl", "./app.cwl", a symlink), so
// its edits are made together.
type set struct {
	p    *builder.Plan // nil for a document checked on its own
	docs map[fileID]*cwlDocument
	errs []error
	// overlay replaces files' contents when the set is loaded again to
	// check an edit's outcome before anything is written.
	overlay map[string][]byte

	users  map[*yaml.Node][]user // built on first use
	ids    map[string]fileID     // identify's answers, by path
	wfDocs []*cwlDocument        // workflowDocs' answer
	ran    []*cwlDocument        // files the workflows run (loadRuns)
	// resolved is the resolver's answer (resolve), built on first use.
	resolved *resolution
	// sealed is set for a file checked on its own as it was received (a
	// published artifact): nothing else is read, so a step that runs
	// another file, or an $import, is an error.
	sealed bool
}

// fileID names a file by its identity, not its spelling.
type fileID struct {
	dev, ino uint64
	path     string // when the file cannot be stat'ed
}

// identify is the file's identity, asked of the file system once per path
// and run: every tool of a packed workflow names the same file.
func (s *set) identify(path string) fileID {
	if id, ok := s.ids[path]; ok {
		return id
	}
	if s.ids == nil {
		s.ids = map[string]fileID{}
	}
	id := statID(path)
	s.ids[path] = id
	return id
}

func statID(path string) fileID {
	if st, err := os.Stat(path); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			return fileID{dev: uint64(sys.Dev), ino: sys.Ino}
		}
	}
	return fileID{path: path}
}

func newSet(p *builder.Plan) *set {
	return &set{p: p, docs: map[fileID]*cwlDocument{}}
}

// singleSet is the set of one document parsed on its own; its $imports are
// read relative to its File.
func singleSet(d *cwlDocument) *set {
	s := newSet(nil)
	s.docs[fileID{path: d.File}] = d
	if d.imports == nil {
		d.imports = s.importer
	}
	return s
}

// load returns the document at path (absolute), reading and parsing it the
// first time; name is how messages call it. A file that failed to load is
// remembered as nil.
func (s *set) load(path, name string, fragment bool) (*cwlDocument, error) {
	id := s.identify(path)
	if d, ok := s.docs[id]; ok {
		if d == nil {
			return nil, errReported
		}
		return d, nil
	}
	data, ok := s.overlay[path]
	var err error
	if !ok {
		data, err = readCWL(path)
		if err != nil {
			err = readError{name, unwrapPathError(err)}
		}
	}
	var d *cwlDocument
	if err == nil {
		if fragment {
			d, err = parseFragment(name, data)
		} else {
			d, err = parseDocument(name, data)
		}
	}
	if err != nil {
		s.docs[id] = nil
		return nil, err
	}
	d.path = path
	d.imports = s.importer
	s.docs[id] = d
	return d, nil
}

// loadRef loads the file of a project path, which must be inside the
// package (see inside).
func (s *set) loadRef(ref builder.ProcessRef) (*cwlDocument, error) {
	if err := s.inside(ref.Path); err != nil {
		return nil, fmt.Errorf("%s: %w", ref.File, err)
	}
	return s.load(ref.Path, ref.File, false)
}

// beside is where a reference a CWL file makes (`run:`, `$import`, slash
// separated) points: relative to that file's directory, or itself when
// absolute, as cwltool reads it.
func beside(file, ref string) string {
	ref = filepath.FromSlash(ref)
	if filepath.IsAbs(ref) {
		return filepath.Clean(ref)
	}
	return filepath.Join(filepath.Dir(file), ref)
}

// readError is a file that could not be read, named as messages call it.
type readError struct {
	name string
	err  error
}

func (e readError) Error() string { return e.name + ": " + e.err.Error() }
func (e readError) Unwrap() error { return e.err }

// errReported stands for a load error already reported once.
var errReported = fmt.Errorf("reported")

// importer loads an $import-ed file into the set, relative to the file that
// imports it.
func (s *set) importer(from *cwlDocument, ref string) (*cwlDocument, error) {
	if s.sealed {
		return nil, fmt.Errorf("%s does not hold it: only what the file holds can be verified", from.File)
	}
	if strings.Contains(ref, "://") {
		return nil, fmt.Errorf("only local files can be followed")
	}
	name := beside(from.File, ref)
	base := from.path
	if base == "" { // parsed from bytes: File is all there is
		base = from.File
	}
	path := beside(base, ref)
	if err := s.inside(path); err != nil {
		return nil, err
	}
	d, err := s.load(path, name, true)
	var re readError
	switch {
	case err == errReported:
		return nil, fmt.Errorf("cannot be read")
	case errors.As(err, &re):
		return nil, re.err // the caller names the file
	}
	return d, err
}

// process finds the process a project path ("file.cwl#id") names; its key
// says where project.toml holds that path, for the error message.
func (s *set) process(ref builder.ProcessRef) *cwlProcess {
	where := fmt.Sprintf("%s, %s:%d", ref.Key, s.p.File, s.p.Line(ref.Key))
	doc, err := s.loadRef(ref)
	if err != nil {
		if err != errReported {
			s.errs = append(s.errs, fmt.Errorf("%w (%s)", err, where))
		}
		return nil
	}
	proc, err := doc.Find(ref.ID)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("%w (%s)", err, where))
		return nil
	}
	return proc
}

// loadProject loads every file the project names: tools' paths, then
// workflows.
func loadProject(p *builder.Plan) *set {
	s := newSet(p)
	s.loadAll()
	return s
}

func (s *set) loadAll() {
	for _, a := range s.p.Artifacts {
		for _, ref := range a.Processes {
			if _, err := s.loadRef(ref); err != nil && err != errReported {
				s.errs = append(s.errs, fmt.Errorf("%w (%s, %s:%d)", err, ref.Key, s.p.File, s.p.Line(ref.Key)))
			}
		}
	}
	for _, w := range s.p.Workflows {
		s.process(w.ProcessRef)
	}
	s.loadRuns()
	s.loadImporters()
}

// loadImporters loads every other .cwl file of the package that uses
// $import: a file that imports the DockerRequirement a tool's pin edits
// runs the pin too, listed or not, and must be seen to be refused (see
// checkShared). Files that do not parse are not CWL cwlpatch could pin, and
// are left alone; hidden directories (.git, .cwlbuild) are skipped.
func (s *set) loadImporters() {
	if s.p == nil {
		return
	}
	filepath.WalkDir(s.p.Dir, func(path string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case e.IsDir():
			if path != s.p.Dir && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		case !e.Type().IsRegular() || filepath.Ext(path) != ".cwl":
			return nil
		}
		if _, ok := s.docs[s.identify(path)]; ok {
			return nil
		}
		data, err := readCWL(path)
		if err != nil || !bytes.Contains(data, []byte("$import")) {
			return nil
		}
		name, _ := filepath.Rel(s.p.Dir, path)
		s.load(path, name, false)
		return nil
	})
}

// loadRuns loads every file a [[workflows]] file's steps run (`run:
// tools/crop.cwl`), and what those run in turn, as cwltool does when it
// loads the workflow: the CommandLineTools there are the workflow's too,
// and may share a DockerRequirement with the tools project.toml lists. A
// file that does not load, or lies outside the package, is an error at
// the step's line. s.ran lists them, in the order they were reached.
func (s *set) loadRuns() {
	queue := append([]*cwlDocument(nil), s.workflowDocs()...)
	seen := map[*cwlDocument]bool{}
	for _, d := range queue {
		seen[d] = true
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		for _, wf := range d.Processes {
			if wf.Class != "Workflow" {
				continue
			}
			forEachStep(mapGet(wf.Node, "steps"), func(step *yaml.Node) {
				if r := s.loadRun(d, mapGet(step, "run")); r != nil && !seen[r] {
					seen[r] = true
					s.ran = append(s.ran, r)
					queue = append(queue, r)
				}
			})
		}
	}
}

// loadRun loads the file a step's run names, when it names one.
func (s *set) loadRun(from *cwlDocument, run *yaml.Node) *cwlDocument {
	ref := importRef(run)
	if run != nil && run.Kind == yaml.ScalarNode {
		ref = run.Value
	}
	if ref == "" || from.path == "" {
		return nil
	}
	file, _, _ := strings.Cut(ref, "#")
	if file == "" || strings.Contains(file, "://") {
		return nil
	}
	path, name := beside(from.path, file), beside(from.File, file)
	err := s.inside(path)
	var d *cwlDocument
	if err == nil {
		d, err = s.load(path, name, false)
	}
	if err != nil && err != errReported {
		var re readError
		if errors.As(err, &re) {
			err = re.err
		}
		s.errs = append(s.errs, fmt.Errorf("%s:%d: run %s: %v", from.File, run.Line, file, err))
	}
	return d
}

// inside is the plan's containment rule (builder.Plan.Inside); a document
// checked on its own has no package to stay in.
func (s *set) inside(path string) error {
	if s.p == nil {
		return nil
	}
	return s.p.Inside(path)
}

// workflowDocs are the documents of [[workflows]], each once.
func (s *set) workflowDocs() []*cwlDocument {
	if s.wfDocs != nil {
		return s.wfDocs
	}
	seen := map[*cwlDocument]bool{}
	s.wfDocs = []*cwlDocument{}
	for _, w := range s.p.Workflows {
		d := s.docs[s.identify(w.Path)]
		if d != nil && !seen[d] {
			seen[d] = true
			s.wfDocs = append(s.wfDocs, d)
		}
	}
	return s.wfDocs
}

// target is a tool and every process that runs its image: those its paths
// name, and every CommandLineTool in a [[workflows]] file (or a file it
// runs) that is a copy of one of them or pulls the tool's repository.
type target struct {
	tool  *builder.Artifact
	procs []*cwlProcess
}

// targets resolves every tool's processes, in project.toml order. A process
// is a tool's when
//   - the tool's path names it;
//   - it is a CommandLineTool of a [[workflows]] file with the same id, or
//     with the id `cwltool --pack` gives a file's process (the file name, or
//     its path from the packed file's directory; a second file of that name
//     gets "_2", a third "_3"): packed workflows carry their own copy of
//     each tool. When several processes have such ids, the one whose image
//     is the tool's is; none is an ambiguous id, refused;
//   - it is any other CommandLineTool there, named or anonymous, whose
//     every dockerPull names the tool's repository under any profile, with
//     any tag or none: it runs the tool's image, so it must run the new one.
//
// An image of another repository is never claimed but by a path. Problems
// (a path naming a Workflow, two tools claiming one process, an ambiguous
// packed id) go to s.errs.
func (s *set) targets() []target {
	owner := map[*cwlProcess]*builder.Artifact{}
	reported := map[*cwlProcess]bool{}
	out := make([]target, len(s.p.Artifacts))
	claim := func(i int, proc *cwlProcess) {
		t := s.p.Artifacts[i]
		if other, ok := owner[proc]; ok {
			if other != t && !reported[proc] {
				reported[proc] = true
				s.errs = append(s.errs, fmt.Errorf("%s:%d: tools %q and %q both name %s: one image per process", proc.Doc.File, proc.Node.Line, other.Tool, t.Tool, proc.Desc()))
			}
			return
		}
		owner[proc] = t
		out[i].procs = append(out[i].procs, proc)
	}
	named := make([][]*cwlProcess, len(s.p.Artifacts))
	byPath := map[*cwlProcess]*builder.Artifact{}
	for i, t := range s.p.Artifacts {
		out[i].tool = t
		for _, ref := range t.Processes {
			proc := s.process(ref)
			if proc == nil {
				continue
			}
			if proc.Class != "CommandLineTool" {
				s.errs = append(s.errs, fmt.Errorf("%s:%d: %s names %s, a %s: name the CommandLineTool that runs tool %q's image (%s, %s:%d)",
					proc.Doc.File, proc.Node.Line, ref.Key, proc.Name(), proc.Class, t.Tool, ref.Key, s.p.File, s.p.Line(ref.Key)))
				continue
			}
			claim(i, proc)
			named[i] = append(named[i], proc)
			byPath[proc] = t
		}
	}
	repos := s.repositories()
	for i := range s.p.Artifacts {
		for _, d := range s.workflowDocs() {
			for _, id := range packedIDs(named[i], d) {
				for _, proc := range s.packedCopies(i, d, id, byPath, repos) {
					claim(i, proc)
				}
			}
		}
	}
	for _, d := range s.runDocs() {
		for _, proc := range d.Processes {
			if _, ok := owner[proc]; ok || proc.Class != "CommandLineTool" {
				continue
			}
			if i, ok := claimRepo(proc, repos); ok {
				claim(i, proc)
			}
		}
	}
	return out
}

// packedID is an id a tool's process may have in a packed file: its own,
// or one `cwltool --pack` made from its file's name.
type packedID struct {
	id       string
	fromFile bool
}

// packedCopies are the CommandLineTools of d that are tool i's copy under
// id: the one process of that id; for an id made from a file name, the
// numbered ids too ("tool.cwl_2"), which cwltool gives a second file of one
// name. Of several, those whose every image is the tool's are its copies;
// when none is, the id is ambiguous and refused. Processes a tool's path
// names are left to it.
func (s *set) packedCopies(i int, d *cwlDocument, id packedID, byPath map[*cwlProcess]*builder.Artifact, repos map[string]int) []*cwlProcess {
	var cands []*cwlProcess
	add := func(procs []*cwlProcess) {
		for _, p := range procs {
			if t, named := byPath[p]; p.Class == "CommandLineTool" && (!named || t == s.p.Artifacts[i]) {
				cands = append(cands, p)
			}
		}
	}
	add(d.byID[id.id])
	if id.fromFile {
		for n := 2; ; n++ {
			procs, ok := d.byID[fmt.Sprintf("%s_%d", id.id, n)]
			if !ok {
				break
			}
			add(procs)
		}
	}
	if len(cands) <= 1 {
		return cands
	}
	var mine []*cwlProcess
	var places []string
	for _, p := range cands {
		places = append(places, fmt.Sprintf("%q (line %d)", p.ID, p.Node.Line))
		if j, ok := claimRepo(p, repos); ok && j == i {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		t := s.p.Artifacts[i]
		s.errs = append(s.errs, fmt.Errorf("%s:%d: %s are packed from files named %s, and none runs tool %q's image: cwlpatch cannot tell which is the tool's; name it in tools.%s.path (%s#ID)",
			d.File, cands[0].Node.Line, strings.Join(places, " and "), id.id, t.Tool, t.Tool, d.File))
	}
	return mine
}

// packedIDs are the ids a process of named may have in d: its own, and,
// for the process of a single-process file outside d, the ids `cwltool
// --pack` gives it in a packed d (the file's name, and its path from d's
// directory).
func packedIDs(named []*cwlProcess, d *cwlDocument) []packedID {
	var ids []packedID
	for _, proc := range named {
		if proc.Doc == d {
			continue
		}
		if proc.ID != "" {
			ids = append(ids, packedID{id: proc.ID})
		}
		if proc.Doc.graph || !proc.TopLevel || proc.Doc.path == "" || d.path == "" {
			continue
		}
		ids = append(ids, packedID{id: filepath.Base(proc.Doc.path), fromFile: true})
		if rel, err := filepath.Rel(filepath.Dir(d.path), proc.Doc.path); err == nil && filepath.IsLocal(rel) {
			ids = append(ids, packedID{id: filepath.ToSlash(rel), fromFile: true})
		}
	}
	return ids
}

// claimRepo is the tool whose image every dockerPull of proc's own names
// (under any profile, any tag): ok only when there is at least one and
// they all name one tool's repository.
func claimRepo(proc *cwlProcess, repos map[string]int) (int, bool) {
	sites, err := processSites(proc)
	if err != nil {
		return 0, false
	}
	tool, found := -1, false
	for _, st := range sites {
		if st.pull == nil || st.pull.Kind != yaml.ScalarNode {
			continue
		}
		i, ok := repos[pulledRepoOf(st.pull.Value)]
		if !ok || (found && i != tool) {
			return 0, false
		}
		tool, found = i, true
	}
	return tool, found
}

// repositories maps each tool's repository, under every profile, to its
// index in the plan.
func (s *set) repositories() map[string]int {
	repos := map[string]int{}
	for i, t := range s.p.Artifacts {
		for r := range toolRepos(t) {
			if _, ok := repos[r]; !ok {
				repos[r] = i
			}
		}
	}
	return repos
}

// pulledRepoOf is the normalized repository of a dockerPull value, "" when
// it is not an image reference.
func pulledRepoOf(pull string) string {
	if r, err := imageref.Split(pull); err == nil {
		return imageref.Normalize(r.Repo)
	}
	return ""
}

// runDocs are the [[workflows]] documents and every file their steps run,
// each once: every CommandLineTool a workflow of the package runs is in
// one of them.
func (s *set) runDocs() []*cwlDocument {
	return append(append([]*cwlDocument(nil), s.workflowDocs()...), s.ran...)
}

// stepRun is a workflow step that runs a process.
type stepRun struct {
	workflow *cwlProcess
	step     *yaml.Node
}

// override is a DockerRequirement in an enclosing workflow's or step's
// requirements, which cwltool prefers to a tool's hint.
type override struct {
	proc *cwlProcess
	at   string // file:line of the overriding requirement
	by   user   // the step, or the workflow, that requires it
	pull string
}

func (o override) String() string {
	pull := ""
	if o.pull != "" {
		pull = " (dockerPull " + o.pull + ")"
	}
	return fmt.Sprintf("%s: %s requires a DockerRequirement%s that overrides the pin of %s, whose own DockerRequirement is only a hint: cwltool runs that image instead. Move the tool's DockerRequirement to requirements, or drop the enclosing one",
		o.at, o.by, pull, o.proc.Name())
}

// overrides lists what beats a process's DockerRequirement hint: in each
// context the resolver finds for it, the requirement of a step or workflow
// around it that cwltool takes instead, each once. A process whose own
// requirements carry a DockerRequirement is never overridden.
func (s *set) overrides(p *cwlProcess) []override {
	res := s.resolve()
	var out []override
	seen := map[string]bool{}
	for _, i := range res.of[p] {
		e := res.runs[i]
		// By cwltool's rule and by the specification's: either runner
		// may run the package.
		for _, by := range []struct {
			st *site
			u  user
		}{{e.effective, e.by}, {e.spec, e.specBy}} {
			if by.st == nil || by.st.section != "requirements" || (by.u.proc == p && by.u.step == nil) {
				continue
			}
			o := override{proc: p, at: fmt.Sprintf("%s:%d", by.st.doc.File, by.st.req.Line), by: by.u}
			if pull := by.st.pull; pull != nil && pull.Kind == yaml.ScalarNode {
				o.pull = pull.Value
			}
			if k := o.String(); !seen[k] {
				seen[k] = true
				out = append(out, o)
			}
		}
	}
	return out
}

// stepName is a step's id: its key in map-form steps, else its id field.
func stepName(wf *cwlProcess, step *yaml.Node) string {
	if steps := mapGet(wf.Node, "steps"); steps != nil && steps.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(steps.Content); i += 2 {
			if deref(steps.Content[i+1]) == step {
				return fmt.Sprintf("%q", steps.Content[i].Value)
			}
		}
	}
	if id := mapGet(step, "id"); id != nil && id.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%q", path.Base(normalizeID(id.Value)))
	}
	return fmt.Sprintf("at line %d", step.Line)
}

// sortedDocs are the loaded documents in the order of their names, so that
// what is indexed over them is reported in the same order on every run.
func (s *set) sortedDocs() []*cwlDocument {
	var out []*cwlDocument
	for _, d := range s.docs {
		if d != nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// user is a process or a workflow step whose DockerRequirement is one
// dockerPull scalar; several share it through an alias or an $import.
type user struct {
	proc *cwlProcess // the process, or the workflow of the step
	step *yaml.Node  // nil for a process
}

func (u user) String() string {
	if u.step != nil {
		return fmt.Sprintf("step %s of %s", stepName(u.proc, u.step), u.proc.Desc())
	}
	return u.proc.Desc()
}

// usersOf indexes, once per set, every process and step by the dockerPull
// scalars its DockerRequirements resolve to.
func (s *set) usersOf(pull *yaml.Node) []user {
	if s.users == nil {
		s.users = map[*yaml.Node][]user{}
		for _, d := range s.sortedDocs() {
			for _, proc := range d.Processes {
				s.indexUser(d, proc.Node, user{proc: proc})
				if proc.Class == "Workflow" {
					forEachStep(mapGet(proc.Node, "steps"), func(step *yaml.Node) {
						s.indexUser(d, step, user{proc: proc, step: step})
					})
				}
			}
		}
	}
	return s.users[pull]
}

func (s *set) indexUser(d *cwlDocument, node *yaml.Node, u user) {
	for _, section := range []string{"hints", "requirements"} {
		sites, _ := d.sites(node, section)
		for _, st := range sites {
			if st.pull != nil {
				s.users[st.pull] = append(s.users[st.pull], u)
			}
		}
	}
}

// processSites returns every DockerRequirement of a process, hints first.
func processSites(p *cwlProcess) ([]site, error) {
	hints, err := p.Doc.sites(p.Node, "hints")
	if err != nil {
		return nil, err
	}
	reqs, err := p.Doc.sites(p.Node, "requirements")
	if err != nil {
		return nil, err
	}
	return append(hints, reqs...), nil
}

// hintOnly reports whether a process's DockerRequirements are all hints,
// which a workflow's requirement overrides.
func hintOnly(sites []site) bool {
	for _, st := range sites {
		if st.section == "requirements" {
			return false
		}
	}
	return true
}

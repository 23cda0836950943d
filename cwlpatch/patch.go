package cwlpatch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/atomicfile"
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
	Tool    string
	Ref     string
	File    string
	Line    int
	Changed bool
}

// Result is every edit of a run, computed before anything is written.
type Result struct {
	Changes  []*Change
	Pinned   []Pinned
	Warnings []string
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

// Write replaces every changed file, all or none (see atomicfile.WriteAll).
func (r *Result) Write() error {
	var paths []string
	var contents [][]byte
	for _, c := range r.Changed() {
		paths = append(paths, c.Path)
		contents = append(contents, c.New)
	}
	return atomicfile.WriteAll(paths, contents, 0o644)
}

// documents loads each CWL file of a project once. A file that failed to load
// is remembered as nil so its error is reported once.
type documents struct {
	p    *builder.Project
	docs map[string]*Document
	errs []error
}

func newDocuments(p *builder.Project) *documents {
	return &documents{p: p, docs: map[string]*Document{}}
}

// process finds the process a project path ("file.cwl#id") names; key is the
// project.toml key holding that path, for the error message.
func (ds *documents) process(ref, key string) (*Document, *Process) {
	file, id := builder.SplitProcessRef(ref)
	where := fmt.Sprintf("%s, %s:%d", key, ds.p.File, ds.p.Line(key))
	// Keyed by absolute path: "app.cwl" and "./app.cwl" are one file, edited
	// once with all its pins.
	abs := ds.p.Abs(file)
	doc, seen := ds.docs[abs]
	if !seen {
		data, err := readCWL(abs)
		if err == nil {
			doc, err = ParseDocument(file, data)
		} else {
			err = fmt.Errorf("%s: %v", file, unwrapPathError(err))
		}
		if err != nil {
			ds.errs = append(ds.errs, fmt.Errorf("%v (%s)", err, where))
		}
		ds.docs[abs] = doc
	}
	if doc == nil {
		return nil, nil
	}
	proc, err := doc.Find(id)
	if err != nil {
		ds.errs = append(ds.errs, fmt.Errorf("%v (%s)", err, where))
		return nil, nil
	}
	return doc, proc
}

// CheckProject reports every tool or workflow path whose CWL file does not
// load or does not hold the named process.
func CheckProject(p *builder.Project) []error {
	ds := newDocuments(p)
	for _, t := range p.OrderedTools() {
		ds.process(t.Path, "tools."+t.Name+".path")
	}
	for i, w := range p.Workflows {
		ds.process(w.Path, fmt.Sprintf("workflows.%d.path", i))
	}
	return ds.errs
}

// Plan computes the new content of every CWL file the matches touch. Nothing
// is written: on any error the result is nil and the caller writes nothing.
func Plan(p *builder.Project, matches []Match) (*Result, error) {
	ds := newDocuments(p)
	res := &Result{}
	type fileEdits struct {
		doc   *Document
		edits []Edit
	}
	var order []string
	byFile := map[string]*fileEdits{}
	owner := map[*Process]string{}
	for _, m := range matches {
		doc, proc := ds.process(m.Tool.Path, "tools."+m.Tool.Name+".path")
		if proc == nil {
			continue
		}
		if other, ok := owner[proc]; ok {
			ds.errs = append(ds.errs, fmt.Errorf("%s:%d: tools %q and %q both name process %q: one image per process", doc.File, proc.Node.Line, other, m.Tool.Name, proc.ID))
			continue
		}
		owner[proc] = m.Tool.Name
		edits, warnings, err := doc.PinEdits(proc, m.Ref)
		if err != nil {
			ds.errs = append(ds.errs, fmt.Errorf("%v (tool %q)", err, m.Tool.Name))
			continue
		}
		res.Warnings = append(res.Warnings, warnings...)
		path := p.Abs(doc.File)
		fe := byFile[path]
		if fe == nil {
			fe = &fileEdits{doc: doc}
			byFile[path] = fe
			order = append(order, path)
		}
		fe.edits = append(fe.edits, edits...)
		res.Pinned = append(res.Pinned, Pinned{
			Tool: m.Tool.Name, Ref: m.Ref, File: doc.File, Line: doc.lineOf(edits[0].Offset),
			Changed: !editsAreNoOps(doc.Data, edits),
		})
	}
	if len(ds.errs) > 0 {
		return nil, joinErrors(ds.errs)
	}
	for _, path := range order {
		fe := byFile[path]
		res.Changes = append(res.Changes, &Change{
			File: fe.doc.File, Path: path, Old: fe.doc.Data, New: Apply(fe.doc.Data, fe.edits),
		})
	}
	return res, nil
}

// Unpinned lists the tools whose dockerPull does not name an image by digest
// (or that have none), one line each, for --check.
func Unpinned(p *builder.Project, tools []*builder.Tool) ([]string, error) {
	ds := newDocuments(p)
	var out []string
	for _, t := range tools {
		doc, proc := ds.process(t.Path, "tools."+t.Name+".path")
		if proc == nil {
			continue
		}
		pulls := doc.pulls(proc)
		if len(pulls) == 0 {
			out = append(out, fmt.Sprintf("%s:%d: tool %q has no DockerRequirement.dockerPull", doc.File, proc.Node.Line, t.Name))
		}
		for _, v := range pulls {
			if !IsDigestPinned(v.Value) {
				out = append(out, fmt.Sprintf("%s:%d: tool %q pulls %s, not pinned by digest", doc.File, v.Line, t.Name, v.Value))
			}
		}
	}
	if len(ds.errs) > 0 {
		return nil, joinErrors(ds.errs)
	}
	return out, nil
}

// pulls returns the dockerPull scalars of a process's DockerRequirements.
func (d *Document) pulls(p *Process) []*yaml.Node {
	var out []*yaml.Node
	for _, section := range []string{"hints", "requirements"} {
		if pull := mapGet(findRequirement(mapGet(p.Node, section), "DockerRequirement"), "dockerPull"); pull != nil {
			out = append(out, pull)
		}
	}
	return out
}

func editsAreNoOps(data []byte, edits []Edit) bool {
	for _, e := range edits {
		if e.Length != len(e.Text) || string(data[e.Offset:e.Offset+e.Length]) != e.Text {
			return false
		}
	}
	return true
}

// joinErrors joins errors one per line, without errors.Join's wrapping
// surprises for callers that only print them.
func joinErrors(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n"))
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

// MaxCWLSize bounds the CWL files cwlpatch reads: a packed workflow of 10000
// tools is about 2 MB, and parsing holds several times the file in memory.
const MaxCWLSize = 64 << 20

func readCWL(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > MaxCWLSize {
		return nil, fmt.Errorf("%d MB, larger than cwlpatch reads (limit %d MB)", st.Size()>>20, MaxCWLSize>>20)
	}
	return os.ReadFile(path)
}

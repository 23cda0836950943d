package cwlpatch

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// The resolver: which container cwltool runs for every CommandLineTool a
// package can run, with the rules of CWL v1.0–v1.2 as cwltool applies them
// (docs/cwlpatch.md, "Which image runs"). It is the one answer to that
// question: cwlpatch plans its edits and reads them back with it, and
// `--check`, `cwlbuild check`, publish and verify judge with it.
//
// A process runs in a context: the chain of workflow steps from a root (a
// [[workflows]] entry, a tool's path, any other process of those files no
// step reaches) down to it. The specification says the innermost level
// that requires a DockerRequirement wins, and a hint counts only when no
// level requires one. cwltool (3.1, measured by the differential test)
// agrees for a tool and the step that runs it, but a step keeps only the
// first requirement of each class it inherits, so beyond that step the
// outer levels win (effectiveOf has the exact order). The resolver answers
// both; where they name different images, runners disagree on what runs,
// and the checks refuse it. The image is the requirement's dockerImageId
// when it has one (cwltool pulls dockerPull, then runs dockerImageId),
// else its dockerPull.

// maxWalk bounds the work of expanding one package's contexts, counted as
// the processes walked, each weighted by its depth (what its context
// costs): workflows that each run the next twice over reach 2^n contexts,
// and a hostile package must not make a check run forever or fill memory.
// A packed workflow of 10,000 tools costs about 30,000.
const maxWalk = 2_000_000

// level is the DockerRequirements one level of a context contributes: a
// process's own, or those of a step or a workflow around it.
type level struct {
	reqs, hints []site
	by          user
}

// execution is one way a package runs a CommandLineTool.
type execution struct {
	proc *cwlProcess
	// via are the steps from the root to proc, outermost first; empty
	// when proc is the root.
	via []stepRun
	// effective is the DockerRequirement cwltool uses; nil when none
	// applies. by is who writes it; own is set when that is proc itself.
	effective *site
	by        user
	own       bool
	// spec is the one the CWL specification names (the innermost
	// requirement, else the innermost hint), and specBy who writes it.
	// cwltool 3.1 differs for a tool inside a nested workflow whose
	// enclosing levels require different images (see effectiveOf).
	spec   *site
	specBy user
}

// image is what cwltool runs for e (see imageOf).
func (e execution) image() string { return imageOf(e.effective) }

// imageOf is the image a DockerRequirement runs: its dockerImageId when it
// has one, else its dockerPull; "" for none, or one that names neither as
// a string.
func imageOf(st *site) string {
	if st == nil {
		return ""
	}
	if id := mapGet(st.req, "dockerImageId"); id != nil && id.Kind == yaml.ScalarNode {
		return id.Value
	}
	if st.pull != nil && st.pull.Kind == yaml.ScalarNode {
		return st.pull.Value
	}
	return ""
}

// disagreement says, when cwltool's rule and the specification's name
// different images for e, which: runners would run different images, and
// no pin can say which one runs. "" when they agree.
func (e execution) disagreement() string {
	ours, theirs := e.image(), imageOf(e.spec)
	if ours == theirs {
		return ""
	}
	return fmt.Sprintf("%s:%d: %s (%s) runs %q by cwltool's rule (the DockerRequirement %s requires) but %q by the CWL specification's (the one %s requires): runners disagree on what runs; require the image at one level only",
		e.proc.Doc.File, e.proc.Node.Line, e.proc.Desc(), e.context(), ours, e.by, theirs, e.specBy)
}

// context says how e's process is reached: "" for a root, else "run by
// step "a" of workflow "main", step "b" of workflow "inner"".
func (e execution) context() string {
	if len(e.via) == 0 {
		return ""
	}
	parts := make([]string, len(e.via))
	for i, r := range e.via {
		parts[i] = user{r.workflow, r.step}.String()
	}
	return "run by " + strings.Join(parts, ", ")
}

// resolution is the resolver's answer for a set of documents: every
// execution, and the steps it could not follow (each an error with
// file:line: a `run:` by URL, of a file not in the package or the
// artifact, of an id the file lacks).
type resolution struct {
	runs    []execution
	refused []error
	// of indexes runs by process.
	of map[*cwlProcess][]int
}

// resolve walks every root of s (see roots) into every process it runs,
// once per set.
func (s *set) resolve() *resolution {
	if s.resolved != nil {
		return s.resolved
	}
	w := &walker{s: s, reached: map[*cwlProcess]bool{}, inline: map[*yaml.Node]*cwlProcess{}, seenErr: map[string]bool{}, levels: map[*yaml.Node]readLevel{}}
	for _, d := range s.sortedDocs() {
		for _, p := range d.Processes {
			if p.Parent != nil {
				w.inline[p.Node] = p
			}
		}
	}
	for root := range s.roots(w.reached) {
		w.walk(root, nil, nil, map[*cwlProcess]bool{})
	}
	res := &resolution{runs: w.runs, refused: w.refused, of: map[*cwlProcess][]int{}}
	for i, e := range w.runs {
		res.of[e.proc] = append(res.of[e.proc], i)
	}
	s.resolved = res
	return res
}

// roots are the processes a package runs on their own, in order: each
// [[workflows]] entry and each process a tool's path names (a tool's tests
// run it so), then, walking the workflow files, the files they run and the
// files tools' paths name, each top-level process no earlier root reaches
// (a file's other workflows can be run by id). A document checked on its own
// has its entry (#main, or its one process) first.
func (s *set) roots(reached map[*cwlProcess]bool) func(yield func(*cwlProcess) bool) {
	return func(yield func(*cwlProcess) bool) {
		var named []*cwlProcess
		var docs []*cwlDocument
		if s.p == nil {
			for _, d := range s.sortedDocs() {
				if !d.isFragment() {
					if p, err := d.Find(""); err == nil {
						named = append(named, p)
					}
					docs = append(docs, d)
				}
			}
		} else {
			for _, w := range s.p.Workflows {
				named = append(named, s.lookup(w.Path, w.ID))
			}
			for _, a := range s.p.Artifacts {
				for _, ref := range a.Processes {
					named = append(named, s.lookup(ref.Path, ref.ID))
				}
			}
			docs = s.runDocs()
			for _, a := range s.p.Artifacts {
				for _, ref := range a.Processes {
					if d := s.docs[s.identify(ref.Path)]; d != nil && !d.isFragment() {
						docs = append(docs, d)
					}
				}
			}
		}
		for _, p := range named {
			if p != nil && !yield(p) {
				return
			}
		}
		for _, d := range docs {
			for _, p := range d.Processes {
				if p.TopLevel && !reached[p] && !yield(p) {
					return
				}
			}
		}
	}
}

// lookup is the process a project path names, nil when it does not load
// (the loader has said why).
func (s *set) lookup(path, id string) *cwlProcess {
	d := s.docs[s.identify(path)]
	if d == nil || d.isFragment() {
		return nil
	}
	p, _ := d.Find(id)
	return p
}

type walker struct {
	s       *set
	runs    []execution
	refused []error
	reached map[*cwlProcess]bool
	inline  map[*yaml.Node]*cwlProcess
	seenErr map[string]bool
	levels  map[*yaml.Node]readLevel
	// visits counts the processes walked, context by context, and work
	// the same weighted by depth; past maxWalk the walk stops (full) with
	// an error.
	visits, work int
	full         bool
}

func (w *walker) refuse(err error) {
	if msg := err.Error(); !w.seenErr[msg] {
		w.seenErr[msg] = true
		w.refused = append(w.refused, err)
	}
}

// walk adds the executions of p in the context via, whose enclosing
// levels are outer (outermost first); active holds the workflows being
// walked, so that a workflow that runs itself is refused, not followed.
func (w *walker) walk(p *cwlProcess, via []stepRun, outer []*level, active map[*cwlProcess]bool) {
	if w.full {
		return
	}
	if w.work += 1 + len(via); w.work > maxWalk {
		w.full = true
		w.refuse(fmt.Errorf("%s:%d: the workflows reach %s and the other processes in too many contexts (%d processes walked): cwlbuild does not follow so many", p.Doc.File, p.Node.Line, p.Desc(), w.visits))
		return
	}
	w.visits++
	w.reached[p] = true
	own, err := w.levelOf(p.Doc, p.Node, user{proc: p})
	if err != nil {
		w.refuse(err)
		return
	}
	levels := append(slices.Clip(outer), &own)
	switch p.Class {
	case "CommandLineTool":
		w.runs = append(w.runs, effectiveOf(p, via, levels))
	case "Workflow":
		if active[p] {
			w.refuse(fmt.Errorf("%s:%d: %s runs itself", p.Doc.File, p.Node.Line, p.Desc()))
			return
		}
		active[p] = true
		defer delete(active, p)
		forEachStep(mapGet(p.Node, "steps"), func(step *yaml.Node) {
			target, err := w.s.stepTarget(p, step, w.inline)
			if err != nil {
				w.refuse(err)
				return
			}
			if target == nil {
				return
			}
			at, err := w.levelOf(p.Doc, step, user{p, step})
			if err != nil {
				w.refuse(err)
				return
			}
			w.walk(target, append(slices.Clip(via), stepRun{p, step}), append(slices.Clip(levels), &at), active)
		})
	}
}

// levelOf reads the DockerRequirements of a process or step node, once per
// node however many contexts reach it.
func (w *walker) levelOf(d *cwlDocument, node *yaml.Node, by user) (level, error) {
	if l, ok := w.levels[node]; ok {
		return l.level, l.err
	}
	l := levelOf(d, node, by)
	w.levels[node] = l
	return l.level, l.err
}

type readLevel struct {
	level
	err error
}

func levelOf(d *cwlDocument, node *yaml.Node, by user) readLevel {
	reqs, err := d.sites(node, "requirements")
	if err != nil {
		return readLevel{err: err}
	}
	hints, err := d.sites(node, "hints")
	if err != nil {
		return readLevel{err: err}
	}
	return readLevel{level: level{reqs: reqs, hints: hints, by: by}}
}

// effectiveOf resolves p's DockerRequirement in the context whose levels
// are [W0, S1, W1, ..., Sk, p] (each workflow, then the step of it that
// runs the next process): by cwltool's rule (effective) and by the
// specification's (spec).
func effectiveOf(p *cwlProcess, via []stepRun, levels []*level) execution {
	e := execution{proc: p, via: via}
	last := len(levels) - 1
	pick := func(i int, first bool, sites []site) (*site, user, bool) {
		st := sites[len(sites)-1]
		if first {
			st = sites[0]
		}
		return &st, levels[i].by, i == last
	}
	reqs := func(i int) []site { return levels[i].reqs }
	// The specification: the innermost level that requires one.
	for i := last; i >= 0 && e.spec == nil; i-- {
		if len(reqs(i)) > 0 {
			e.spec, e.specBy, _ = pick(i, false, reqs(i))
		}
	}
	// cwltool 3.1: the process's own, then the step's (each the last of
	// its list); then, because a step keeps only the first requirement of
	// each class it inherits, the first of the outer steps from the
	// innermost out, then of the workflows from the outermost in.
	order := []int{last}
	if last > 0 {
		order = append(order, last-1)
	}
	for i := last - 3; i > 0; i -= 2 {
		order = append(order, i)
	}
	for i := 0; i < last; i += 2 {
		order = append(order, i)
	}
	for k, i := range order {
		if len(reqs(i)) > 0 {
			e.effective, e.by, e.own = pick(i, k > 1, reqs(i))
			break
		}
	}
	if e.effective == nil {
		// Hints are inherited whole: the innermost level's last one.
		for i := last; i >= 0; i-- {
			if h := levels[i].hints; len(h) > 0 {
				e.effective, e.by, e.own = pick(i, false, h)
				break
			}
		}
	}
	if e.spec == nil {
		e.spec, e.specBy = e.effective, e.by
	}
	return e
}

// stepTarget is the process a workflow step runs: inline, `#id` in the
// same file, or a file of the set (with its #id, or its entry). A step
// whose process is not in the set is an error naming the step: cwlbuild
// cannot tell which image a process it has not read runs.
func (s *set) stepTarget(wf *cwlProcess, step *yaml.Node, inline map[*yaml.Node]*cwlProcess) (*cwlProcess, error) {
	run, runKey := mapEntry(step, "run")
	where := fmt.Sprintf("%s:%d: %s", wf.Doc.File, step.Line, user{wf, step})
	if runKey != nil {
		where = fmt.Sprintf("%s:%d: %s", wf.Doc.File, runKey.Line, user{wf, step})
	}
	if run == nil {
		return nil, fmt.Errorf("%s has no run", where)
	}
	ref := ""
	switch {
	case run.Kind == yaml.MappingNode && importRef(run) != "":
		ref = importRef(run)
	case run.Kind == yaml.MappingNode:
		if p := inline[run]; p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("%s runs an inline process without a class", where)
	case run.Kind == yaml.ScalarNode:
		ref = run.Value
	default:
		return nil, fmt.Errorf("%s: run is not a reference or a process", where)
	}
	file, id, _ := strings.Cut(ref, "#")
	if strings.Contains(file, "://") {
		return nil, fmt.Errorf("%s runs %s, a process fetched at run time: cwlbuild cannot pin or vouch for the image it runs; copy the file into the package and run it by path", where, ref)
	}
	d := wf.Doc
	if file != "" {
		loaded := false
		d = nil
		if wf.Doc.path != "" {
			d, loaded = s.docs[s.identify(beside(wf.Doc.path, file))]
		}
		switch {
		case loaded && d == nil:
			return nil, nil // it did not load, and the loader said why
		case d == nil && s.sealed:
			return nil, fmt.Errorf("%s runs %s, which %s does not hold: the image it runs cannot be verified", where, ref, wf.Doc.File)
		case d == nil:
			return nil, fmt.Errorf("%s runs %s, which is not a CWL file cwlbuild read", where, ref)
		case d.isFragment():
			return nil, fmt.Errorf("%s runs %s, which is not a CWL process", where, ref)
		}
	}
	target, err := d.Find(id)
	if err != nil {
		return nil, fmt.Errorf("%s runs %s: %v", where, ref, err)
	}
	return target, nil
}

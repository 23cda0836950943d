package cwlpatch

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/eoap/cwlbuild/builder"
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

// edits is every edit of a run, computed before anything is written.
type edits struct {
	Changes   []*Change
	Pinned    []Pinned
	Overrides []string // see Outcome
}

// Changed returns the files whose bytes would change.
func (r *edits) Changed() []*Change { return changed(r.Changes) }

// changed are the changes whose bytes differ.
func changed(changes []*Change) []*Change {
	var out []*Change
	for _, c := range changes {
		if c.Changed() {
			out = append(out, c)
		}
	}
	return out
}

// planEdits computes the new content of every CWL file the matches touch. Nothing
// is written: on any error the result is nil and the caller writes nothing.
// Each built tool's image is pinned in every process that runs it (see
// targets), through aliases and $imports; a dockerPull shared with a process
// that is not pinned to the same image is refused.
func planEdits(p *builder.Plan, matches []match) (*edits, error) {
	s := loadProject(p)
	targets := s.targets()
	// Go on past a file that did not load: every other problem is listed
	// too (nothing is written while there is any).
	loadErrs := len(s.errs)
	byTool := map[*builder.Artifact]target{}
	for _, tg := range targets {
		byTool[tg.tool] = tg
	}
	res := &edits{}
	pinnedTo := map[*cwlProcess]match{}
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
func (s *set) checkShared(proc *cwlProcess, sites []site, m match, pinnedTo map[*cwlProcess]match) error {
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

func editsAreNoOps(data []byte, edits []byteEdit) bool {
	for _, e := range edits {
		if e.Length != len(e.Text) || string(data[e.Offset:e.Offset+e.Length]) != e.Text {
			return false
		}
	}
	return true
}

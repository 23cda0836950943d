package cwlpatch

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzPinEdits feeds arbitrary documents to the patcher. Whatever the input,
// it must not panic; when it accepts a document, the result must parse
// again, pull the pinned image, and stay the same when pinned again.
func FuzzPinEdits(f *testing.F) {
	files, _ := filepath.Glob("../testdata/cwlpatch/*/*.cwl")
	more, _ := filepath.Glob("../testdata/projects/*/cwl-workflow/*.cwl")
	for _, file := range append(files, more...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument("f.cwl", data)
		if err != nil {
			return
		}
		for i, p := range d.Processes {
			if i == 4 {
				break
			}
			edits, _, err := d.PinEdits(p, img)
			if err != nil {
				continue
			}
			out := Apply(data, edits)
			d2, err := ParseDocument("f.cwl", out)
			if err != nil {
				t.Fatalf("pinning %q broke the document: %v\n--- in:\n%s\n--- out:\n%s", p.ID, err, data, out)
			}
			p2 := sameProcess(d2, p, i)
			if p2 == nil {
				t.Fatalf("process %q is gone after pinning\n--- out:\n%s", p.ID, out)
			}
			sites, err := processSites(p2)
			if err != nil || len(sites) == 0 {
				t.Fatalf("process %q has no dockerPull after pinning (%v)\n--- in:\n%s\n--- out:\n%s", p.ID, err, data, out)
			}
			for _, st := range sites {
				if st.pull == nil || st.pull.Value != img {
					t.Fatalf("process %q pulls %v after pinning\n--- in:\n%s\n--- out:\n%s", p.ID, st.pull, data, out)
				}
			}
			again, _, err := d2.PinEdits(p2, img)
			if err != nil {
				t.Fatalf("second pin of %q: %v\n--- out:\n%s", p.ID, err, out)
			}
			if string(Apply(out, again)) != string(out) {
				t.Fatalf("pinning %q twice is not idempotent\n--- out:\n%s", p.ID, out)
			}
		}
	})
}

// sameProcess finds p again in a re-parsed document: by id, or by position
// for anonymous processes.
func sameProcess(d *Document, p *Process, index int) *Process {
	if index < len(d.Processes) && d.Processes[index].ID == p.ID && d.Processes[index].Class == p.Class {
		return d.Processes[index]
	}
	return nil
}

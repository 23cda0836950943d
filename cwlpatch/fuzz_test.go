package cwlpatch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

// FuzzPinEdits feeds arbitrary documents and images to the patcher. Whatever
// the input, it must not panic; for every process whose pin it accepts, the
// result must parse again, pull exactly the pinned image, and stay the same
// when pinned again. The image is any reference cwlpatch would write
// (PinnedRef accepts it).
func FuzzPinEdits(f *testing.F) {
	files, _ := filepath.Glob("../testdata/cwlpatch/*/*.cwl")
	more, _ := filepath.Glob("../testdata/projects/*/cwl-workflow/*.cwl")
	overrides, _ := filepath.Glob("../testdata/cwlpatch-overrides/*.cwl")
	images := [][2]string{{"localhost:5000/crop", "1"}, {"ghcr.io/eoap/water-bodies/rio", "v2.0-rc_1"}, {"crop", ""}, {"registry.example.org:8443/a/b/c", "latest"}}
	for i, file := range append(append(files, more...), overrides...) {
		if data, err := os.ReadFile(file); err == nil {
			im := images[i%len(images)]
			f.Add(data, im[0], im[1])
		}
	}
	for _, doc := range []string{
		"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: >+\n      old\n\n    x: 1\n",
		"$graph:\n- class: CommandLineTool\n  id: a\n  hints: &h {DockerRequirement: {dockerPull: &p old}}\n- {class: CommandLineTool, id: b, hints: *h}\n- class: CommandLineTool\n  id: c\n  hints: {<<: *h}\n",
		`{"class": "CommandLineTool", "hints": [{"class": "DockerRequirement", "dockerPull": "a\/b"}], "x": "\/\\\/"}`,
	} {
		f.Add([]byte(doc), "localhost:5000/crop", "1")
	}
	f.Fuzz(func(t *testing.T, data []byte, repo, tag string) {
		ref := repo
		if tag != "" {
			ref += ":" + tag
		}
		ref += "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		img, err := pinnedRef(ref, builder.PinTagDigest)
		if err != nil {
			return
		}
		d, err := parseDocument("f.cwl", data)
		if err != nil {
			return
		}
		for i, p := range d.Processes {
			edits, _, err := d.PinEdits(p, img)
			if err != nil {
				continue
			}
			out := applyEdits(data, edits)
			d2, err := parseDocument("f.cwl", out)
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
			if string(applyEdits(out, again)) != string(out) {
				t.Fatalf("pinning %q twice is not idempotent\n--- out:\n%s", p.ID, out)
			}
		}
	})
}

// sameProcess finds p again in a re-parsed document: by id, or by position
// for anonymous processes.
func sameProcess(d *cwlDocument, p *cwlProcess, index int) *cwlProcess {
	if index < len(d.Processes) && d.Processes[index].ID == p.ID && d.Processes[index].Class == p.Class {
		return d.Processes[index]
	}
	return nil
}

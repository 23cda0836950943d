package cwlpatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

const img = "localhost:5000/crop:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestPinEdits(t *testing.T) {
	tests := []struct{ name, in, id, want string }{
		{"map hint plain, comment kept",
			"$graph:\n- class: CommandLineTool\n  id: crop\n  hints:\n    DockerRequirement:\n      dockerPull: old:latest # was here\n",
			"crop",
			"$graph:\n- class: CommandLineTool\n  id: crop\n  hints:\n    DockerRequirement:\n      dockerPull: " + img + " # was here\n"},
		{"double quoted requirement",
			"class: CommandLineTool\nrequirements:\n  DockerRequirement:\n    dockerPull: \"old\"\n", "",
			"class: CommandLineTool\nrequirements:\n  DockerRequirement:\n    dockerPull: \"" + img + "\"\n"},
		{"single quoted list hint",
			"class: CommandLineTool\nhints:\n  - class: DockerRequirement\n    dockerPull: 'old'\n", "",
			"class: CommandLineTool\nhints:\n  - class: DockerRequirement\n    dockerPull: '" + img + "'\n"},
		{"inject into map requirements",
			"class: CommandLineTool\nid: crop\nrequirements:\n    InlineJavascriptRequirement: {}\nbaseCommand: echo\n", "crop",
			"class: CommandLineTool\nid: crop\nrequirements:\n    DockerRequirement:\n        dockerPull: " + img + "\n    InlineJavascriptRequirement: {}\nbaseCommand: echo\n"},
		{"inject into list requirements",
			"$graph:\n  - class: CommandLineTool\n    id: crop\n    requirements:\n      - class: InlineJavascriptRequirement\n", "#crop",
			"$graph:\n  - class: CommandLineTool\n    id: crop\n    requirements:\n      - class: DockerRequirement\n        dockerPull: " + img + "\n      - class: InlineJavascriptRequirement\n"},
		{"inject with no requirements",
			"$graph:\n- class: CommandLineTool\n  id: crop\n  baseCommand: echo\n", "crop",
			"$graph:\n- class: CommandLineTool\n  id: crop\n  requirements:\n    DockerRequirement:\n      dockerPull: " + img + "\n  baseCommand: echo\n"},
		{"inject flow requirements",
			"class: CommandLineTool\nid: crop\nrequirements: {InlineJavascriptRequirement: {}}\n", "",
			"class: CommandLineTool\nid: crop\nrequirements: {DockerRequirement: {dockerPull: " + img + "}, InlineJavascriptRequirement: {}}\n"},
		{"json update",
			"{\n  \"class\": \"CommandLineTool\",\n  \"hints\": [{\"class\": \"DockerRequirement\", \"dockerPull\": \"old\"}]\n}\n", "",
			"{\n  \"class\": \"CommandLineTool\",\n  \"hints\": [{\"class\": \"DockerRequirement\", \"dockerPull\": \"" + img + "\"}]\n}\n"},
		{"json inject",
			"{\"$graph\": [{\"class\": \"CommandLineTool\", \"id\": \"#crop\", \"inputs\": []}]}\n", "crop",
			"{\"$graph\": [{\"class\": \"CommandLineTool\", \"id\": \"#crop\", \"requirements\": [{\"class\": \"DockerRequirement\", \"dockerPull\": \"" + img + "\"}], \"inputs\": []}]}\n"},
		{"crlf inject",
			"class: CommandLineTool\r\nid: crop\r\nbaseCommand: echo\r\n", "",
			"class: CommandLineTool\r\nid: crop\r\nrequirements:\r\n  DockerRequirement:\r\n    dockerPull: " + img + "\r\nbaseCommand: echo\r\n"},
		{"block scalar, strip",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: |-\n      old:1\nbaseCommand: echo\n", "",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: |-\n      " + img + "\nbaseCommand: echo\n"},
		{"block scalar, clip, comment and blank line kept",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: |  # the image\n        old:1\n\n# next\nbaseCommand: echo\n", "",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: |-  # the image\n        " + img + "\n\n# next\nbaseCommand: echo\n"},
		{"folded block scalar over two lines, keep",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: >+\n      old\n      :1\n    dockerOutputDirectory: /out\n", "",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: >-\n      " + img + "\n    dockerOutputDirectory: /out\n"},
		{"block scalar in a list item, next key at the item's indentation",
			"class: CommandLineTool\nhints:\n- dockerPull: |-\n    old\n  class: DockerRequirement\n", "",
			"class: CommandLineTool\nhints:\n- dockerPull: |-\n    " + img + "\n  class: DockerRequirement\n"},
		{"block scalar, explicit indentation, CRLF",
			"class: CommandLineTool\r\nhints:\r\n  DockerRequirement:\r\n    dockerPull: |2-\r\n      old\r\n", "",
			"class: CommandLineTool\r\nhints:\r\n  DockerRequirement:\r\n    dockerPull: |-\r\n      " + img + "\r\n"},
		{"anchored scalar, aliased in another process",
			"$graph:\n- class: CommandLineTool\n  id: crop\n  hints: {DockerRequirement: {dockerPull: &img old}}\n- class: CommandLineTool\n  id: crop2\n  hints: {DockerRequirement: {dockerPull: *img}}\n", "crop2",
			"$graph:\n- class: CommandLineTool\n  id: crop\n  hints: {DockerRequirement: {dockerPull: &img " + img + "}}\n- class: CommandLineTool\n  id: crop2\n  hints: {DockerRequirement: {dockerPull: *img}}\n"},
		{"tagged scalar",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: !!str 'old'\n", "",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: !!str '" + img + "'\n"},
		{"hints through a merge key",
			"$graph:\n- class: CommandLineTool\n  id: base\n  hints: &h {DockerRequirement: {dockerPull: old}}\n- class: CommandLineTool\n  id: crop\n  hints:\n    <<: *h\n", "crop",
			"$graph:\n- class: CommandLineTool\n  id: base\n  hints: &h {DockerRequirement: {dockerPull: " + img + "}}\n- class: CommandLineTool\n  id: crop\n  hints:\n    <<: *h\n"},
		{"json escaped solidus, more on the line",
			`{"class": "CommandLineTool", "id": "a\/b", "hints": [{"class": "DockerRequirement", "dockerPull": "ghcr.io\/x\/old:1", "dockerOutputDirectory": "\/out"}], "baseCommand": "echo"}` + "\n", "",
			`{"class": "CommandLineTool", "id": "a\/b", "hints": [{"class": "DockerRequirement", "dockerPull": "` + img + `", "dockerOutputDirectory": "\/out"}], "baseCommand": "echo"}` + "\n"},
		{"json null dockerPull stays JSON",
			`{"class": "CommandLineTool", "hints": [{"class": "DockerRequirement", "dockerPull": null}]}` + "\n", "",
			`{"class": "CommandLineTool", "hints": [{"class": "DockerRequirement", "dockerPull": "` + img + `"}]}` + "\n"},
		{"empty value filled before a comment",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull:   # to be built\n", "",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: " + img + "   # to be built\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, p := findProcess(t, tc.in, tc.id)
			edits, _, err := d.PinEdits(p, img)
			if err != nil {
				t.Fatal(err)
			}
			got := string(applyEdits(d.Data, edits))
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			// Idempotent: pinning the result again changes nothing.
			d2, err := parseDocument("t.cwl", []byte(got))
			if err != nil {
				t.Fatalf("result does not parse: %v", err)
			}
			p2, _ := d2.Find(tc.id)
			edits2, _, err := d2.PinEdits(p2, img)
			if err != nil {
				t.Fatal(err)
			}
			if again := string(applyEdits(d2.Data, edits2)); again != got {
				t.Errorf("second pin changed the file:\n%s", again)
			}
		})
	}
}

// TestPinEditsRefused: forms cwlpatch cannot pin say why, with file:line
// and the process; nothing is edited.
func TestPinEditsRefused(t *testing.T) {
	tests := []struct{ name, in, id, want string }{
		{"include", "class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: {$include: img.txt}\n", "",
			"t.cwl:4: hints.DockerRequirement of the CommandLineTool in t.cwl: dockerPull is the text of img.txt ($include)"},
		{"image id only", "class: CommandLineTool\nid: crop\nrequirements:\n- class: DockerRequirement\n  dockerImageId: local\n", "",
			`t.cwl:4: requirements.DockerRequirement of process "crop" has dockerImageId and no dockerPull`},
		{"docker file only", "class: CommandLineTool\nhints: {DockerRequirement: {dockerFile: 'FROM x'}}\n", "",
			"has dockerFile and no dockerPull"},
		{"no dockerPull at all", "class: CommandLineTool\nhints: {DockerRequirement: {dockerOutputDirectory: /o}}\n", "",
			"t.cwl:2: hints.DockerRequirement of the CommandLineTool in t.cwl has no dockerPull to pin"},
		{"a list value", "class: CommandLineTool\nhints: {DockerRequirement: {dockerPull: [a]}}\n", "",
			"dockerPull is not a string"},
		{"import of a missing file", "class: CommandLineTool\nrequirements: [{$import: gone.yml}]\n", "",
			"t.cwl:2: $import gone.yml: no such file or directory"},
		{"inject into aliased requirements", "$graph:\n- class: CommandLineTool\n  id: a\n  requirements: &r [{class: InlineJavascriptRequirement}]\n- class: CommandLineTool\n  id: b\n  requirements: *r\n", "b",
			`t.cwl:5: process "b" has no DockerRequirement and its requirements are shared`},
		{"inject into imported requirements", "class: CommandLineTool\nrequirements: {$import: reqs.yml}\n", "",
			"$import reqs.yml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, p := findProcess(t, tc.in, tc.id)
			edits, _, err := d.PinEdits(p, img)
			if err == nil {
				t.Fatalf("pinned:\n%s", applyEdits(d.Data, edits))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

// TestImportFollowed: an $import-ed DockerRequirement is pinned in the
// imported file, which is where cwltool reads it; nothing is injected
// before the import (where cwltool would still take the imported one).
func TestImportFollowed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docker.yml"), []byte("class: DockerRequirement\ndockerPull: old # keep\n"), 0o644)
	file := filepath.Join(dir, "t.cwl")
	in := "class: CommandLineTool\nrequirements:\n- $import: docker.yml\n- class: InlineJavascriptRequirement\n"
	d, err := parseDocument(file, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := d.Find("")
	edits, _, err := d.PinEdits(p, img)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 1 || edits[0].Doc == d || !strings.HasSuffix(edits[0].Doc.File, "docker.yml") {
		t.Fatalf("edits %+v: want one, in docker.yml", edits)
	}
	if got := string(applyEdits(edits[0].Doc.Data, edits)); got != "class: DockerRequirement\ndockerPull: "+img+" # keep\n" {
		t.Errorf("docker.yml:\n%s", got)
	}
}

// TestEmptyValueWithTagRefused: "dockerPull: !" and "dockerPull: &a" are
// empty values with a tag or an anchor; filling in after the colon would
// leave the tag or anchor inside the new value (found by fuzzing).
func TestEmptyValueWithTagRefused(t *testing.T) {
	for _, v := range []string{"!", "&a", "!!str"} {
		in := "class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: " + v + "\n"
		d, p := findProcess(t, in, "")
		if edits, _, err := d.PinEdits(p, img); err == nil {
			t.Errorf("%q: pinned to\n%s", v, applyEdits(d.Data, edits))
		} else if !strings.Contains(err.Error(), "t.cwl:4") {
			t.Errorf("%q: error %q does not name t.cwl:4", v, err)
		}
	}
}

func TestWarnings(t *testing.T) {
	doc := "$graph:\n- class: Workflow\n  id: main\n  requirements:\n    DockerRequirement: {dockerPull: other}\n  steps:\n    s: {run: '#crop'}\n- class: CommandLineTool\n  id: crop\n  hints:\n    DockerRequirement: {dockerPull: old}\n"
	d, _ := parseDocument("w.cwl", []byte(doc))
	p, _ := d.Find("crop")
	_, warnings, err := d.PinEdits(p, img)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(warnings, "\n")
	if !strings.Contains(all, `workflow "main" requires a DockerRequirement`) {
		t.Errorf("warnings:\n%s", all)
	}
}

// TestImageIDRefused: cwltool pulls dockerPull, then runs dockerImageId,
// so a dockerImageId beside the pin is refused, not warned about; one
// already equal to the pin runs the pin.
func TestImageIDRefused(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"stale", `w.cwl:5: process "crop" has dockerImageId "stale" beside dockerPull: cwltool runs that image`},
		{"docker.io/attacker/evil:latest", `has dockerImageId "docker.io/attacker/evil:latest"`},
		{img, ""},
	} {
		doc := "class: CommandLineTool\nid: crop\nrequirements:\n  DockerRequirement:\n    dockerImageId: " + tc.id + "\n    dockerPull: old\n"
		d, _ := parseDocument("w.cwl", []byte(doc))
		p, _ := d.Find("crop")
		_, _, err := d.PinEdits(p, img)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("dockerImageId equal to the pin: %v", err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("dockerImageId %s: error %v, want %q", tc.id, err, tc.want)
		}
	}
}

// TestPatchedAnchorValidates pins every tool of the anchor's packed workflow
// and has cwltool validate the result.
func TestPatchedAnchorValidates(t *testing.T) {
	cwltool := testenv.LookPath(t, "cwltool")
	dir := testenv.CopyDir(t, "../testdata/projects/anchor/cwl-workflow")
	file := filepath.Join(dir, "app-water-bodies-cloud-native.cwl")
	data, _ := os.ReadFile(file)
	d, err := parseDocument(file, data)
	if err != nil {
		t.Fatal(err)
	}
	var edits []byteEdit
	for _, id := range []string{"crop", "norm_diff", "otsu", "stac", "stac-geoparquet"} {
		p, err := d.Find(id)
		if err != nil {
			t.Fatal(err)
		}
		e, _, err := d.PinEdits(p, "localhost:5000/"+id+"@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		if err != nil {
			t.Fatal(err)
		}
		edits = append(edits, e...)
	}
	out := applyEdits(data, edits)
	os.WriteFile(file, out, 0o644)
	if n := strings.Count(string(out), "@sha256:"); n != 5 {
		t.Errorf("%d pinned references, want 5", n)
	}
	if !strings.Contains(string(out), "# The workflow: one scatter over the STAC items.") {
		t.Error("comment lost")
	}
	cmd := exec.Command(cwltool, "--validate", file+"#water-bodies")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cwltool --validate: %v\n%s", err, b)
	}
}

// findProcess parses a CWL document given as text and finds a process in
// it, failing the test if either goes wrong.
func findProcess(t *testing.T, src, id string) (*cwlDocument, *cwlProcess) {
	t.Helper()
	d, err := parseDocument("t.cwl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Find(id)
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

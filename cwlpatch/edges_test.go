package cwlpatch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

// TestRewriteAtEdges pins dockerPull values that end the file (no final
// line break), carry properties, are empty, or are block scalars with every
// header form, and injects into flow collections spread over lines: the
// bounds of every scan over the bytes. The result is exact: only the value
// (or the added entry) changes.
func TestRewriteAtEdges(t *testing.T) {
	const pre = "class: CommandLineTool\nhints:\n  DockerRequirement:\n    "
	for _, tc := range []struct{ name, in, want string }{
		{"plain, end of file", pre + "dockerPull: old", pre + "dockerPull: IMG"},
		{"double quoted, end of file", pre + `dockerPull: "old"`, pre + `dockerPull: "IMG"`},
		{"double quoted, escaped quote last", pre + `dockerPull: "o\""`, pre + `dockerPull: "IMG"`},
		{"single quoted, end of file", pre + "dockerPull: 'old'", pre + "dockerPull: 'IMG'"},
		{"single quoted, doubled quote last", pre + "dockerPull: 'it'''", pre + "dockerPull: 'IMG'"},
		{"anchor, end of file", pre + "dockerPull: &a old", pre + "dockerPull: &a IMG"},
		{"tag, end of file", pre + "dockerPull: !!str old", pre + "dockerPull: !!str IMG"},
		{"anchor and tag, tab, quoted", pre + "dockerPull: &a !!str\t'old'", pre + "dockerPull: &a !!str\t'IMG'"},
		{"empty, end of file", pre + "dockerPull:", pre + "dockerPull: IMG"},
		{"empty, space before the colon", pre + "dockerPull  :", pre + "dockerPull  : IMG"},
		{"empty, then a comment", pre + "dockerPull: # c\n", pre + "dockerPull: IMG # c\n"},
		{"block, strip", pre + "dockerPull: |-\n      old\n", pre + "dockerPull: |-\n      IMG\n"},
		{"block, folded with indentation 2", pre + "dockerPull: >2\n      old\n", pre + "dockerPull: >-\n      IMG\n"},
		{"block, indentation 9", pre + "dockerPull: |9\n             old\n", pre + "dockerPull: |-\n             IMG\n"},
		{"block, indentation 1 then strip", pre + "dockerPull: |1-\n      old\n", pre + "dockerPull: |-\n      IMG\n"},
		{"block, keep, blank line kept", pre + "dockerPull: |+\n      old\n\n", pre + "dockerPull: |-\n      IMG\n\n"},
		{"flow mappings, end of file", "class: CommandLineTool\nhints: {DockerRequirement: {dockerPull: old}}",
			"class: CommandLineTool\nhints: {DockerRequirement: {dockerPull: IMG}}"},
		{"flow list item, end of file", "class: CommandLineTool\nrequirements:\n  - class: InlineJavascriptRequirement\n  - {class: DockerRequirement, dockerPull: old}",
			"class: CommandLineTool\nrequirements:\n  - class: InlineJavascriptRequirement\n  - {class: DockerRequirement, dockerPull: IMG}"},
		{"inject into a flow list, one item a line", "class: CommandLineTool\nrequirements: [\n  {class: InlineJavascriptRequirement}\n]\n",
			"class: CommandLineTool\nrequirements: [\n  {class: DockerRequirement, dockerPull: IMG},\n  {class: InlineJavascriptRequirement}\n]\n"},
		{"inject into a flow list, first item beside the bracket", "class: CommandLineTool\nrequirements: [ {class: InlineJavascriptRequirement},\n  {class: ShellCommandRequirement}]\n",
			"class: CommandLineTool\nrequirements: [ {class: DockerRequirement, dockerPull: IMG}, {class: InlineJavascriptRequirement},\n  {class: ShellCommandRequirement}]\n"},
		{"inject into map requirements indented one space", "class: CommandLineTool\nrequirements:\n InlineJavascriptRequirement: {}\n",
			"class: CommandLineTool\nrequirements:\n DockerRequirement:\n   dockerPull: IMG\n InlineJavascriptRequirement: {}\n"},
		{"inject into list requirements with padding after the dash", "class: CommandLineTool\nrequirements:\n  -   class: InlineJavascriptRequirement\n",
			"class: CommandLineTool\nrequirements:\n  -   class: DockerRequirement\n      dockerPull: IMG\n  -   class: InlineJavascriptRequirement\n"},
		{"new requirements after every identifying key", "class: CommandLineTool\nid: a\nlabel: l\ndoc: d\ncwlVersion: v1.2\nbaseCommand: echo\n",
			"class: CommandLineTool\nid: a\nlabel: l\ndoc: d\ncwlVersion: v1.2\nrequirements:\n  DockerRequirement:\n    dockerPull: IMG\nbaseCommand: echo\n"},
		{"new requirements in a flow process", "{class: CommandLineTool, id: a, baseCommand: echo}\n",
			"{class: CommandLineTool, id: a, \"requirements\": [{\"class\": \"DockerRequirement\", \"dockerPull\": \"IMG\"}], baseCommand: echo}\n"},
		{"new requirements in a one-key flow process, end of file", "{class: CommandLineTool}",
			"{\"requirements\": [{\"class\": \"DockerRequirement\", \"dockerPull\": \"IMG\"}], class: CommandLineTool}"},
		{"inject into flow requirements, end of file", "class: CommandLineTool\nrequirements: {InlineJavascriptRequirement: {}}",
			"class: CommandLineTool\nrequirements: {DockerRequirement: {dockerPull: IMG}, InlineJavascriptRequirement: {}}"},
		{"inject into a flow list indented four", "class: CommandLineTool\nrequirements: [\n    {class: A},\n    {class: B}]\n",
			"class: CommandLineTool\nrequirements: [\n    {class: DockerRequirement, dockerPull: IMG},\n    {class: A},\n    {class: B}]\n"},
		{"inject before a flow mapping list item", "class: CommandLineTool\nrequirements:\n  - {class: InlineJavascriptRequirement}\n",
			"class: CommandLineTool\nrequirements:\n  - class: DockerRequirement\n    dockerPull: IMG\n  - {class: InlineJavascriptRequirement}\n"},
		{"inject before an empty list item", "class: CommandLineTool\nrequirements:\n  - {}\n",
			"class: CommandLineTool\nrequirements:\n  - class: DockerRequirement\n    dockerPull: IMG\n  - {}\n"},
		{"block of two lines with a blank one between", pre + "dockerPull: |-\n      old\n\n      more\n    other: 1\n", pre + "dockerPull: |-\n      IMG\n    other: 1\n"},
		{"block, a blank line, then a key", pre + "dockerPull: |-\n      old\n\n    other: 1\n", pre + "dockerPull: |-\n      IMG\n\n    other: 1\n"},
		{"inject into a flow mapping, one entry a line", "class: CommandLineTool\nrequirements: {\n  InlineJavascriptRequirement: {}\n}\n",
			"class: CommandLineTool\nrequirements: {\n  DockerRequirement: {dockerPull: IMG},\n  InlineJavascriptRequirement: {}\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pinDoc(t, tc.in, "")
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(tc.want, "IMG", img); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// TestRewriteRefused: forms cwlpatch cannot edit in place are refused with
// the file and line, never written half right.
func TestRewriteRefused(t *testing.T) {
	for _, tc := range []struct{ name, in, id, want string }{
		{"plain scalar over two lines", "class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: old\n      continued\n", "",
			"t.cwl:4: dockerPull is written in a form cwlpatch cannot rewrite in place"},
		{"a tag alone at the end of the file", "class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: !!str", "",
			"t.cwl:4: cannot locate dockerPull"},
		{"an anchor alone at the end of the file", "class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: &a", "",
			"t.cwl:4: dockerPull is empty in a form cwlpatch cannot fill in"},
		{"a block header at the end of the file", "class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: |", "",
			"t.cwl:4: dockerPull is a block scalar cwlpatch cannot rewrite in place"},
		{"a block header with chomping at the end of the file", "class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: |-", "",
			"t.cwl:4: dockerPull is a block scalar cwlpatch cannot rewrite in place"},
		{"a bare dash before the first requirement", "class: CommandLineTool\nrequirements:\n  -\n    class: InlineJavascriptRequirement\n", "",
			"t.cwl:1: requirements of \"\" are laid out in a way cwlpatch cannot extend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := pinDoc(t, tc.in, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestInjectNestedIndent: a DockerRequirement added to a $graph process's
// map requirements is indented as deep below its key as the existing
// entries are below requirements, not below the file's left edge.
func TestInjectNestedIndent(t *testing.T) {
	in := "$graph:\n- class: CommandLineTool\n  id: a\n  requirements:\n      InlineJavascriptRequirement: {}\n"
	want := "$graph:\n- class: CommandLineTool\n  id: a\n  requirements:\n      DockerRequirement:\n          dockerPull: " + img + "\n      InlineJavascriptRequirement: {}\n"
	if got, err := pinDoc(t, in, "a"); err != nil || got != want {
		t.Errorf("got  %q (%v)\nwant %q", got, err, want)
	}
}

// pinDoc parses src as t.cwl, finds the process id names, and pins it to
// img: the pinned text, or PinEdits' error.
func pinDoc(t *testing.T, src, id string) (string, error) {
	t.Helper()
	d, p := findProcess(t, src, id)
	edits, _, err := d.PinEdits(p, img)
	if err != nil {
		return "", err
	}
	return string(applyEdits(d.Data, edits)), nil
}

// TestPlainSafe: an image is written plain only when it reads back as
// itself; the first character decides at each end of the three ranges.
func TestPlainSafe(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"a/x" + digest, true}, {"z/x" + digest, true}, {"A/x" + digest, true}, {"Z/x" + digest, true},
		{"0.io/x" + digest, true}, {"9.io/x" + digest, true},
		{"`x", false}, {"{x", false}, {"@x", false}, {"[x", false}, {"/x", false}, {":x", false}, {"-x", false},
		{"", false}, {"x:", false}, {"a b", false}, {"a#b", false}, {"a,b", false},
		// Without a digest the YAML reading decides: "true" and "1.5"
		// would not be strings.
		{"true", false}, {"1.5", false}, {"null", false}, {"0x1F", false}, {"crop", true}, {"crop:1.0", true},
		{"x" + digest + "!", true},
	} {
		if got := plainSafe(tc.value); got != tc.want {
			t.Errorf("plainSafe(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

// TestPinnedRefForms: the tag is kept beside the digest, except latest and
// under --pin digest; a tag with no digest is refused.
func TestPinnedRefForms(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	for _, tc := range []struct {
		tag  string
		mode builder.PinMode
		want string
	}{
		{"r.io/crop:1.0@" + d, builder.PinTagDigest, "r.io/crop:1.0@" + d},
		{"r.io/crop:latest@" + d, builder.PinTagDigest, "r.io/crop@" + d},
		{"r.io/crop:1.0@" + d, builder.PinDigest, "r.io/crop@" + d},
		{"r.io/crop@" + d, builder.PinTagDigest, "r.io/crop@" + d},
		{"r.io/crop:1.0", builder.PinTagDigest, "error"},
	} {
		got, err := pinnedRef(tc.tag, tc.mode)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("pinnedRef(%q, %v) = %q (%v), want %q", tc.tag, tc.mode, got, err, tc.want)
		}
	}
}

// TestReadCWLSizeLimit: a file of exactly maxCWLSize bytes is read; one
// byte more is refused with the limit named.
func TestReadCWLSizeLimit(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int64{maxCWLSize, maxCWLSize + 1} {
		f := filepath.Join(dir, "big.cwl")
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(f, size); err != nil {
			t.Fatal(err)
		}
		data, err := readCWL(f)
		if size == maxCWLSize && (err != nil || int64(len(data)) != size) {
			t.Errorf("%d bytes: %v", size, err)
		}
		if size > maxCWLSize && (err == nil || !strings.Contains(err.Error(), "limit 64 MB")) {
			t.Errorf("%d bytes: %v", size, err)
		}
	}
}

// TestOverrideWarnings: a DockerRequirement in the requirements of a step
// running the tool, or of a workflow around it, beats the tool's hint in
// cwltool; each is reported once, naming the step as the workflow's steps
// name it (map key, list id, else its line) and the image when it is one
// scalar.
func TestOverrideWarnings(t *testing.T) {
	const tool = "- class: CommandLineTool\n  id: crop\n  hints:\n    DockerRequirement: {dockerPull: old}\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"map-form step",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    s:\n      run: '#crop'\n      requirements:\n        DockerRequirement: {dockerPull: other}\n" + tool,
			`w.cwl:8: step "s" of workflow "main" requires a DockerRequirement (dockerPull other) that overrides the pin of "crop"`},
		{"list-form step with an id",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    - id: '#main/s'\n      run: '#crop'\n      requirements:\n        - class: DockerRequirement\n          dockerPull: other\n" + tool,
			`w.cwl:8: step "s" of workflow "main" requires a DockerRequirement (dockerPull other) that overrides the pin of "crop"`},
		{"step without an id, image by id",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    - run: '#crop'\n      requirements:\n        DockerRequirement: {dockerImageId: x}\n" + tool,
			`w.cwl:7: step at line 5 of workflow "main" requires a DockerRequirement that overrides the pin of "crop"`},
		{"second map-form step, dockerPull not a scalar",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    a: {run: '#crop'}\n    b:\n      run: '#crop'\n      requirements: {DockerRequirement: {dockerPull: [x]}}\n" + tool,
			`w.cwl:8: step "b" of workflow "main" requires a DockerRequirement that overrides the pin of "crop"`},
		{"outer workflow reached by two steps, reported once",
			"$graph:\n- class: Workflow\n  id: main\n  requirements: {DockerRequirement: {dockerPull: w}}\n  steps:\n    a: {run: '#inner'}\n    b: {run: '#inner'}\n- class: Workflow\n  id: inner\n  steps:\n    c: {run: '#crop'}\n" + tool,
			`w.cwl:4: workflow "main" requires a DockerRequirement (dockerPull w) that overrides the pin of "crop"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseDocument("w.cwl", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			p, err := d.Find("crop")
			if err != nil {
				t.Fatal(err)
			}
			_, warnings, err := d.PinEdits(p, img)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 1 || !strings.HasPrefix(warnings[0], tc.want+", whose own DockerRequirement is only a hint") {
				t.Errorf("warnings %q\nwant one starting %q", warnings, tc.want)
			}
		})
	}
}

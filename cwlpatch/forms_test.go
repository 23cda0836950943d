package cwlpatch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TestMalformedDocuments: unusual or broken CWL is either read as cwltool
// reads it or refused with the file and line; nothing panics.
func TestMalformedDocuments(t *testing.T) {
	tests := []struct {
		name, doc string
		procs     int    // processes found, when it parses
		wantErr   string // else
	}{
		{"leading newline", "\nclass: CommandLineTool\nid: a\n", 1, ""},
		{"empty file", "", 0, "f.cwl: empty document"},
		{"only a comment", "# nothing\n", 0, "f.cwl: empty document"},
		{"graph entry without class", "$graph:\n- id: a\n- {class: CommandLineTool, id: b}\n", 1, ""},
		{"graph entry not a mapping", "$graph:\n- just text\n- {class: CommandLineTool, id: b}\n", 1, ""},
		{"graph not a list", "$graph: {a: 1}\n", 0, "f.cwl:1: $graph is not a list"},
		{"step without run", "class: Workflow\nid: main\nsteps:\n  s: {in: []}\n", 1, ""},
		{"step run is a list", "class: Workflow\nid: main\nsteps:\n  s: {run: [a]}\n", 1, ""},
		{"only class and id", "class: CommandLineTool\nid: a\n", 1, ""},
		{"top level a list", "- class: CommandLineTool\n", 0, "not a CWL document"},
		{"no class", "id: a\nbaseCommand: echo\n", 0, "no class and no $graph"},
		{"lone CR at the end", "class: CommandLineTool\nid: a\r", 0, "f.cwl:2: a carriage return without a line feed"},
		{"lone CR inside", "class: CommandLineTool\rid: a\n", 0, "f.cwl:1: a carriage return without a line feed"},
		{"NEL", "class: CommandLineTool\nid: a\u0085b\n", 0, "f.cwl:2: a Unicode line or paragraph separator"},
		{"LS", "class: CommandLineTool\u2028id: a\n", 0, "f.cwl:1: a Unicode line or paragraph separator"},
		{"PS", "class: CommandLineTool\nid: a\n\u2029", 0, "f.cwl:3: a Unicode line or paragraph separator"},
		{"CRLF is fine", "class: CommandLineTool\r\nid: a\r\n", 1, ""},
		{"not YAML", "a: [\n", 0, "not valid YAML or JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseDocument("f.cwl", []byte(tc.doc))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Processes) != tc.procs {
				t.Errorf("%d processes, want %d", len(d.Processes), tc.procs)
			}
			// Pinning whatever was found never panics, and an accepted
			// pin reads back.
			for _, p := range d.Processes {
				if edits, _, err := d.PinEdits(p, img); err == nil {
					d2, err := parseDocument("f.cwl", applyEdits(d.Data, edits))
					if err != nil {
						t.Fatalf("pinned %s no longer parses: %v", p.Name(), err)
					}
					if len(d2.Processes) != len(d.Processes) {
						t.Errorf("pinning changed the number of processes")
					}
				}
			}
		})
	}
}

// TestRewriteForms: every way a dockerPull or a requirements section may be
// written is pinned in its own form, or refused with the line.
func TestRewriteForms(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"backslash escapes in double quotes",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: \"old\\\\name\\\"x\\u00e9\"  # c\n",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: \"" + img + "\"  # c\n"},
		{"doubled quote in single quotes",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: 'it''s old'\n",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull: '" + img + "'\n"},
		{"space before the colon",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull : old\n",
			"class: CommandLineTool\nhints:\n  DockerRequirement:\n    dockerPull : " + img + "\n"},
		{"inject into a flow list",
			"class: CommandLineTool\nrequirements: [{class: InlineJavascriptRequirement}]\n",
			"class: CommandLineTool\nrequirements: [{class: DockerRequirement, dockerPull: " + img + "}, {class: InlineJavascriptRequirement}]\n"},
		{"inject into empty flow mapping",
			"class: CommandLineTool\nrequirements: {}\nbaseCommand: echo\n",
			"class: CommandLineTool\nrequirements: {DockerRequirement: {dockerPull: " + img + "}}\nbaseCommand: echo\n"},
		{"inject into empty flow list",
			"class: CommandLineTool\nrequirements: []\nbaseCommand: echo\n",
			"class: CommandLineTool\nrequirements: [{class: DockerRequirement, dockerPull: " + img + "}]\nbaseCommand: echo\n"},
		{"list at zero indent",
			"class: CommandLineTool\nrequirements:\n- class: InlineJavascriptRequirement\nbaseCommand: echo\n",
			"class: CommandLineTool\nrequirements:\n- class: DockerRequirement\n  dockerPull: " + img + "\n- class: InlineJavascriptRequirement\nbaseCommand: echo\n"},
		{"no requirements: follow the hints' list style",
			"class: CommandLineTool\nid: a\nhints:\n  - class: ResourceRequirement\nbaseCommand: echo\n",
			"class: CommandLineTool\nid: a\nrequirements:\n  - class: DockerRequirement\n    dockerPull: " + img + "\nhints:\n  - class: ResourceRequirement\nbaseCommand: echo\n"},
		{"no requirements: follow the hints' map style",
			"class: CommandLineTool\nid: a\nhints:\n  ResourceRequirement: {}\nbaseCommand: echo\n",
			"class: CommandLineTool\nid: a\nrequirements:\n  DockerRequirement:\n    dockerPull: " + img + "\nhints:\n  ResourceRequirement: {}\nbaseCommand: echo\n"},
		{"requirements: null",
			"class: CommandLineTool\nid: a\nrequirements: null\nbaseCommand: echo\n",
			"refuse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pinDoc(t, tc.in, "")
			if tc.want == "refuse" {
				if err == nil {
					// Accepted: then it must read back as pinned.
					d2, err := parseDocument("t.cwl", []byte(got))
					if err != nil {
						t.Fatalf("result does not parse: %v\n%s", err, got)
					}
					p2, _ := d2.Find("")
					sites, _ := processSites(p2)
					if len(sites) == 0 || sites[0].pull == nil || sites[0].pull.Value != img {
						t.Fatalf("accepted without pinning:\n%s", got)
					}
				} else if !strings.Contains(err.Error(), "t.cwl:") {
					t.Errorf("refusal names no line: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestMatching: builds are matched to tools by image name under any
// registry, Docker Hub's spellings included; an image naming two tools, a
// tool built twice and a tag of another repository are errors.
func TestMatching(t *testing.T) {
	dir := t.TempDir()
	toml := "[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000/pkg\"\n[build.cluster]\nregistry = \"ghcr.io/eoap\"\n" +
		"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\nimage = \"busybox\"\n" +
		"[tools.b]\ncontext = \".\"\npath = \"app.cwl#b\"\n"
	p := loadTOML(t, dir, toml)
	d := "@sha256:" + strings.Repeat("1", 64)
	tests := []struct {
		name   string
		builds []buildjson.Build
		want   string // "" for success
	}{
		{"docker hub spellings", []buildjson.Build{{ImageName: "docker.io/library/busybox", Tag: "index.docker.io/library/busybox:1" + d}}, ""},
		{"any profile's registry", []buildjson.Build{{ImageName: "ghcr.io/eoap/b", Tag: "ghcr.io/eoap/b:1" + d}}, ""},
		{"built twice", []buildjson.Build{{ImageName: "ghcr.io/eoap/b", Tag: "ghcr.io/eoap/b:1" + d, Line: 1}, {ImageName: "localhost:5000/pkg/b", Tag: "localhost:5000/pkg/b:1" + d, Line: 2}}, `tool "b" was built twice`},
		{"unknown image", []buildjson.Build{{ImageName: "ghcr.io/eoap/c", Tag: "ghcr.io/eoap/c:1" + d, Line: 1}}, "matches no tool"},
		{"tag of another repository", []buildjson.Build{{ImageName: "ghcr.io/eoap/b", Tag: "ghcr.io/eoap/a:1" + d, Line: 1}}, "is not an image of ghcr.io/eoap/b"},
		{"no digest", []buildjson.Build{{ImageName: "ghcr.io/eoap/b", Tag: "ghcr.io/eoap/b:1", Line: 1}}, "has no digest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			matches, _, err := matchBuilds(p, &buildjson.Output{Builds: tc.builds}, "b.json", builder.PinTagDigest)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "" && len(matches) != 1:
				t.Fatalf("%d matches", len(matches))
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	// One image naming two tools is refused when the project loads.
	clash := filepath.Join(t.TempDir(), "project.toml")
	os.WriteFile(clash, []byte(toml+"[tools.c]\ncontext = \".\"\npath = \"app.cwl#c\"\nimage = \"ghcr.io/eoap/b\"\n"), 0o644)
	if _, err := builder.LoadProjectWith(clash, builder.LoadOptions{SkipContexts: true, SkipCWL: true}); err == nil || !strings.Contains(err.Error(), `tools "b" and "c" both build image "ghcr.io/eoap/b"`) {
		t.Errorf("one image, two tools: %v", err)
	}
}

// loadTOML writes project.toml into dir and loads it without looking at
// contexts or CWL files.
func loadTOML(t *testing.T, dir, toml string) *builder.Plan {
	t.Helper()
	file := filepath.Join(dir, "project.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := builder.Load(file, builder.LoadOptions{SkipContexts: true, SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

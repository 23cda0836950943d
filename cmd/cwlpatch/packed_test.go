package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

const packedDir = "../../testdata/projects/packed"

// packedBuilds are the images a build of testdata/projects/packed made.
var packedBuilds = map[string]string{
	"rev":   "localhost:5000/packed/rev:0.1.0@sha256:" + strings.Repeat("a", 64),
	"upper": "localhost:5000/packed/upper:0.1.0@sha256:" + strings.Repeat("b", 64),
}

const packedExternal = "docker.io/library/busybox:1.36@sha256:7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c"

func writePackedBuildJSON(t *testing.T, dir string) {
	t.Helper()
	var builds []string
	for _, tool := range []string{"upper", "rev"} {
		builds = append(builds, `{"imageName":"localhost:5000/packed/`+tool+`","tag":"`+packedBuilds[tool]+`"}`)
	}
	if err := os.WriteFile(filepath.Join(dir, "build.json"), []byte(`{"builds":[`+strings.Join(builds, ",")+"]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPackedPackage: the copy `cwltool --pack` makes of a tool file without
// an id ("#rev.cwl"), anonymous inline CommandLineTools pulling a built
// repository (by "latest", by no tag, through a YAML alias) are pinned with
// the tool, and cwltool's own loader then finds a digest on every
// CommandLineTool of every workflow; --check fails before the patch, after
// it on each way a process can be left floating, and on a package that only
// declares workflows.
func TestPackedPackage(t *testing.T) {
	dir := testenv.CopyDir(t, packedDir)
	cwltool := testenv.LookPath(t, "cwltool")

	// The packed workflow is what cwltool itself packs from its source.
	pack := exec.Command(cwltool, "--pack", "cwl-workflow/src/wf.cwl")
	pack.Dir = dir
	packed, err := pack.Output()
	if err != nil {
		t.Fatalf("cwltool --pack: %v", err)
	}
	golden := filepath.Join(packedDir, "cwl-workflow", "packed.cwl")
	if *update {
		os.WriteFile(golden, packed, 0o644)
	}
	if want, _ := os.ReadFile(golden); string(packed) != string(want) {
		t.Fatalf("cwltool --pack gives another packed.cwl than the committed one (-update rewrites it):\n%s", packed)
	}
	if !strings.Contains(string(packed), `"id": "#rev.cwl"`) {
		t.Fatalf("cwltool no longer names the packed copy after the file:\n%s", packed)
	}
	t.Chdir(dir)

	stdout, _, code := run(t, "", "--check")
	for _, want := range []string{
		`cwl-workflow/packed.cwl:8: tool "rev": process "rev.cwl" pulls localhost:5000/packed/rev:0.0.1, not pinned by digest`,
		`cwl-workflow/inline.cwl:36: tool "rev": the CommandLineTool of step "reverse" of workflow "main" pulls localhost:5000/packed/rev, not pinned by digest`,
		`cwl-workflow/inline.cwl:19: tool "upper": the CommandLineTool of step "shout" of workflow "main" pulls localhost:5000/packed/upper:latest, not pinned by digest`,
		`cwl-workflow/inline.cwl:19: tool "upper": the CommandLineTool of step "shout-again" of workflow "main" pulls localhost:5000/packed/upper:latest`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--check before the patch lacks %q:\n%s", want, stdout)
		}
	}
	if code != 1 {
		t.Errorf("--check before the patch: exit %d, want 1", code)
	}

	writePackedBuildJSON(t, dir)
	_, stderr, code := run(t, "", "build.json")
	if code != 0 {
		t.Fatalf("cwlpatch: exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		"pinned     rev    " + packedBuilds["rev"] + ` (3 processes: command-line-tools/rev/rev.cwl:6, cwl-workflow/packed.cwl:8, cwl-workflow/inline.cwl:36 (step "reverse"))`,
		"pinned     upper  " + packedBuilds["upper"] + ` (3 processes: cwl-workflow/inline.cwl:65, cwl-workflow/inline.cwl:19 (step "shout"), cwl-workflow/inline.cwl:19 (step "shout-again"))`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report lacks %q:\n%s", want, stderr)
		}
	}

	// cwltool's own resolution: every CommandLineTool runs a digest, the
	// built repositories' exactly the build's.
	images := testenv.CWLToolImages(t, dir, "cwl-workflow/packed.cwl", "cwl-workflow/inline.cwl", "command-line-tools/rev/rev.cwl")
	if len(images) != 7 {
		t.Errorf("cwltool resolved %d CommandLineTools, want 7: %+v", len(images), images)
	}
	for _, im := range images {
		pull := ""
		if im.DockerPull != nil {
			pull = *im.DockerPull
		}
		want := packedExternal
		for tool, ref := range packedBuilds {
			if strings.HasPrefix(pull, "localhost:5000/packed/"+tool) {
				want = ref
			}
		}
		if pull != want {
			t.Errorf("%s %v: cwltool runs %q, want %s", im.Ref, im.Via, pull, want)
		}
	}
	if _, stderr, code := run(t, "", "--check"); code != 0 || !strings.Contains(stderr, "all 7 processes are pinned by digest (2 tools)") ||
		!strings.Contains(stderr, `external image, not built here: cwl-workflow/inline.cwl:53: the CommandLineTool of step "external" of workflow "main" runs `+packedExternal) {
		t.Errorf("--check after the patch: exit %d:\n%s", code, stderr)
	}
	if _, stderr, code := run(t, "", "--check", "build.json"); code != 0 {
		t.Errorf("--check build.json after the patch: exit %d:\n%s", code, stderr)
	}

	// Each way a process can be left floating fails --check, naming it.
	pinned := snapshot(t, dir)
	for _, v := range []struct{ name, file, old, new, want string }{
		{"external by tag", "cwl-workflow/inline.cwl", packedExternal, "docker.io/library/busybox:1.36",
			`cwl-workflow/inline.cwl:53: the CommandLineTool of step "external" of workflow "main" pulls docker.io/library/busybox:1.36, not pinned by digest (no tool of this package builds it: pin it by digest by hand)`},
		{"packed copy", "cwl-workflow/packed.cwl", packedBuilds["rev"], "localhost:5000/packed/rev:0.0.1",
			`cwl-workflow/packed.cwl:8: tool "rev": process "rev.cwl" pulls localhost:5000/packed/rev:0.0.1, not pinned by digest`},
		{"anonymous latest", "cwl-workflow/inline.cwl", "dockerPull: " + packedBuilds["upper"], "dockerPull: localhost:5000/packed/upper:latest",
			`cwl-workflow/inline.cwl:19: tool "upper": the CommandLineTool of step "shout" of workflow "main" pulls localhost:5000/packed/upper:latest`},
	} {
		t.Run(v.name, func(t *testing.T) {
			for f, data := range pinned {
				os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644)
			}
			data := pinned[v.file]
			if strings.Count(data, v.old) == 0 {
				t.Fatalf("%s holds no %q", v.file, v.old)
			}
			os.WriteFile(filepath.Join(dir, v.file), []byte(strings.Replace(data, v.old, v.new, 1)), 0o644)
			stdout, _, code := run(t, "", "--check")
			if code != 1 || !strings.Contains(stdout, v.want) {
				t.Errorf("--check: exit %d, want 1 with %q:\n%s", code, v.want, stdout)
			}
		})
	}

	// A package that only declares workflows: every floating pull is a
	// problem, not "all 0 tools are pinned".
	for f, data := range snapshot(t, filepath.Join(testenv.ModuleRoot(), "testdata", "projects", "packed")) {
		os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte("[project]\nname = \"workflows-only\"\n[build]\nengine = \"local\"\n[[workflows]]\npath = \"cwl-workflow/inline.cwl\"\n"), 0o644)
	stdout, _, code = run(t, "", "--check")
	if code != 1 || strings.Count(stdout, "not pinned by digest (no tool of this package builds it") != 4 {
		t.Errorf("--check of a workflows-only package: exit %d, want 1 and 4 floating pulls:\n%s", code, stdout)
	}
}

// TestCheckRegistry: --check --registry asks the registry for every pinned
// image and fails, naming the place, on one it does not serve.
func TestCheckRegistry(t *testing.T) {
	host := testenv.MemoryRegistry(t)
	dir := t.TempDir()
	pin := host + "/pkg/a@sha256:" + strings.Repeat("1", 64)
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\nclass: CommandLineTool\nid: a\nhints:\n  DockerRequirement:\n    dockerPull: "+pin+"\ninputs: []\noutputs: []\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte("[build]\nengine = \"local\"\n[build.local]\nregistry = \""+host+"/pkg\"\n[tools.a]\ncontext = \".\"\npath = \"app.cwl\"\n"), 0o644)
	t.Chdir(dir)
	if _, stderr, code := run(t, "", "--check"); code != 0 {
		t.Fatalf("--check without the registry: exit %d\n%s", code, stderr)
	}
	stdout, _, code := run(t, "", "--check", "--registry")
	if code != 1 || !strings.Contains(stdout, `app.cwl:6: process "a" pins an image the registry does not serve`) {
		t.Errorf("--check --registry: exit %d\n%s", code, stdout)
	}
}

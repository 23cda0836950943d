package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/internal/textdiff"
)

// publishedBuilds is a build output for testdata/projects/published, in an
// order that is neither project.toml's nor alphabetical.
var publishedBuilds = map[string]string{
	"crop":      "ghcr.io/eoap/water-bodies/crop:v2@sha256:1111111111111111111111111111111111111111111111111111111111111111",
	"norm_diff": "ghcr.io/eoap/water-bodies/norm_diff:v2@sha256:2222222222222222222222222222222222222222222222222222222222222222",
	"rio":       "ghcr.io/eoap/water-bodies/rio:v2@sha256:3333333333333333333333333333333333333333333333333333333333333333",
	"otsu":      "ghcr.io/eoap/water-bodies/otsu:v2@sha256:4444444444444444444444444444444444444444444444444444444444444444",
}

func writePublishedBuildJSON(t *testing.T, dir string) {
	t.Helper()
	var lines []string
	for _, tool := range []string{"crop", "norm_diff", "rio", "otsu"} {
		tag := publishedBuilds[tool]
		lines = append(lines, `{"imageName":"`+strings.Split(tag, ":")[0]+`","tag":"`+tag+`"}`)
	}
	if err := os.WriteFile(filepath.Join(dir, "build.json"), []byte(`{"builds":[`+strings.Join(lines, ",\n")+"]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// processTool says which tool's image each process id of the published
// package runs.
var processTool = map[string]string{
	"crop": "crop", "norm_diff": "norm_diff", "otsu": "otsu",
	"rio_stack": "rio", "rio_color": "rio", "rio_info": "rio",
}

// TestPublishedPackage patches a package shaped like the published ones
// (two packed workflows with their own copies of every tool, an anchored
// DockerRequirement shared by three processes of one tool, one pulled in
// with $import, a block scalar, JSON with \/ escapes, a workflow path
// without #id) with its build contexts deleted, then asks cwltool itself
// which image every CommandLineTool of every workflow runs: each must be
// exactly the one just built.
func TestPublishedPackage(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/published")
	// A patch-only CI job has the CWL and build.json, not the contexts.
	if err := os.RemoveAll(filepath.Join(dir, "command-line-tools")); err != nil {
		t.Fatal(err)
	}
	writePublishedBuildJSON(t, dir)
	t.Chdir(dir)
	before := snapshot(t, dir)

	_, stderr, code := run(t, "", "build.json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	after := snapshot(t, dir)
	for _, want := range []string{
		`project.toml:51: unknown key "pool_logs_basepath" in [workflows.tests.execution.cluster] (did you mean "tool_logs_basepath"?): ignored`,
		"pinned     rio        " + publishedBuilds["rio"] + " (6 processes: cwl-workflow/app-water-bodies.cwl:78, cwl-workflow/app-water-bodies-cloud-native.cwl:159, cwl-workflow/app-water-bodies-cloud-native.cwl:183, cwl-workflow/app-water-bodies-cloud-native.cwl:204)",
		"pinned     norm_diff  " + publishedBuilds["norm_diff"] + " (2 processes: cwl-workflow/norm-diff-docker.yml:3)",
		"pinned     crop       " + publishedBuilds["crop"] + " (2 processes: cwl-workflow/app-water-bodies.cwl:44, cwl-workflow/app-water-bodies-cloud-native.cwl:88)",
		"4 of 4 tools pinned, 3 of 3 files changed",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("report lacks %q:\n%s", want, stderr)
		}
	}

	// Only the pin lines changed: every removed line held an old image,
	// every added line holds a new one.
	changed := 0
	for file, old := range before {
		if after[file] == old {
			continue
		}
		changed++
		for _, line := range strings.Split(textdiff.Unified([]byte(old), []byte(after[file]), "a", "b"), "\n") {
			switch {
			case strings.HasPrefix(line, "---"), strings.HasPrefix(line, "+++"):
			case strings.HasPrefix(line, "-"):
				if !strings.Contains(strings.ReplaceAll(line, `\/`, "/"), ":1.0.0") {
					t.Errorf("%s: a line that held no pin changed: %q", file, line)
				}
			case strings.HasPrefix(line, "+"):
				if !strings.Contains(line, "@sha256:") {
					t.Errorf("%s: a line that holds no pin was added: %q", file, line)
				}
			}
		}
	}
	if changed != 3 {
		t.Errorf("%d files changed, want 3 (both workflows and the imported file)", changed)
	}

	// What cwltool runs, through its own loader: every CommandLineTool of
	// both workflows, and every tool path on its own.
	refs := []string{"cwl-workflow/app-water-bodies.cwl", "cwl-workflow/app-water-bodies-cloud-native.cwl#main"}
	for id := range processTool {
		refs = append(refs, "cwl-workflow/app-water-bodies.cwl#"+id, "cwl-workflow/app-water-bodies-cloud-native.cwl#"+id)
	}
	images := testenv.CWLToolImages(t, dir, refs...)
	if want := 2*len(processTool) + len(refs) - 2; len(images) != want {
		t.Errorf("cwltool resolved %d CommandLineTools, want %d", len(images), want)
	}
	for _, im := range images {
		tool, ok := processTool[im.ID]
		switch {
		case !ok:
			t.Errorf("%s %v: unexpected process %q", im.Ref, im.Via, im.ID)
		case im.DockerPull == nil:
			t.Errorf("%s %v: cwltool finds no dockerPull for %s", im.Ref, im.Via, im.ID)
		case *im.DockerPull != publishedBuilds[tool]:
			t.Errorf("%s %v: cwltool runs %s for %s, want %s", im.Ref, im.Via, *im.DockerPull, im.ID, publishedBuilds[tool])
		case im.DockerImageID != nil:
			t.Errorf("%s %v: %s has dockerImageId %s", im.Ref, im.Via, im.ID, *im.DockerImageID)
		}
	}
	cwltool := testenv.LookPath(t, "cwltool")
	for _, f := range []string{"cwl-workflow/app-water-bodies.cwl", "cwl-workflow/app-water-bodies-cloud-native.cwl"} {
		if out, err := exec.Command(cwltool, "--validate", f).CombinedOutput(); err != nil {
			t.Errorf("cwltool --validate %s: %v\n%s", f, err, out)
		}
	}

	// A second run changes no byte; --check agrees, with and without the
	// build output.
	if _, stderr, code := run(t, "", "build.json"); code != 0 || !strings.Contains(stderr, "0 of 4 tools pinned, 0 of 3 files changed") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
	if !equalFiles(t, after, snapshot(t, dir)) {
		t.Error("a second run changed files")
	}
	for _, args := range [][]string{{"--check", "build.json"}, {"--check"}} {
		if _, stderr, code := run(t, "", args...); code != 0 {
			t.Errorf("%v after patching: exit %d\n%s", args, code, stderr)
		}
	}
	if _, stderr, _ := run(t, "", "--check"); !strings.Contains(stderr, "all 12 processes are pinned by digest (4 tools)") {
		t.Errorf("--check report:\n%s", stderr)
	}
}

// TestPublishedCheckSeesEveryCopy: --check fails when one copy of a tool, in
// a workflow its path does not name, still pulls an unpinned image, with
// and without the build output.
func TestPublishedCheckSeesEveryCopy(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/published")
	writePublishedBuildJSON(t, dir)
	t.Chdir(dir)
	if _, stderr, code := run(t, "", "build.json"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	json := filepath.Join(dir, "cwl-workflow", "app-water-bodies-cloud-native.cwl")
	data, _ := os.ReadFile(json)
	stale := strings.Replace(string(data), publishedBuilds["crop"], `ghcr.io\/eoap\/water-bodies\/crop:1.0.0`, 1)
	if stale == string(data) {
		t.Fatal("no crop pin in the JSON workflow")
	}
	os.WriteFile(json, []byte(stale), 0o644)
	stdout, _, code := run(t, "", "--check")
	if code != 1 || !strings.Contains(stdout, `cwl-workflow/app-water-bodies-cloud-native.cwl:88: tool "crop": process "crop" pulls ghcr.io/eoap/water-bodies/crop:1.0.0, not pinned by digest`) {
		t.Errorf("--check: exit %d\n%s", code, stdout)
	}
	stdout, _, code = run(t, "", "--check", "build.json")
	if code != 1 || !strings.Contains(stdout, "+                    \"dockerPull\": \""+publishedBuilds["crop"]+"\"") {
		t.Errorf("--check build.json: exit %d\n%s", code, stdout)
	}
}

// TestOverridesAgreeWithCWLTool: the pins cwlpatch warns about (and --check
// refuses) are exactly those cwltool itself does not run: a tool's hint
// loses to a step's requirement and to an enclosing (sub)workflow's; a
// tool's own requirement wins over both.
func TestOverridesAgreeWithCWLTool(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/cwlpatch-overrides")
	t.Chdir(dir)
	_, stderr, code := run(t, "", "build.json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	warned := map[string]bool{}
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "warning: ") && strings.Contains(line, "overrides the pin of") {
			warned[strings.Split(strings.SplitAfter(line, `overrides the pin of "`)[1], `"`)[0]] = true
		}
	}
	want := map[string]string{ // what cwltool runs
		"alpha": "localhost:5000/pkg/alpha:v1@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		"beta":  "localhost:5000/pkg/step-image:1",
		"gamma": "localhost:5000/pkg/sub-image:1",
		"delta": "localhost:5000/pkg/delta:v1@sha256:4444444444444444444444444444444444444444444444444444444444444444",
	}
	images := testenv.CWLToolImages(t, dir, "app.cwl")
	if len(images) != len(want) {
		t.Fatalf("cwltool resolved %d tools, want %d: %+v", len(images), len(want), images)
	}
	for _, im := range images {
		if im.DockerPull == nil || *im.DockerPull != want[im.ID] {
			t.Errorf("cwltool runs %v for %s, want %s", im.DockerPull, im.ID, want[im.ID])
		}
		overridden := !strings.Contains(want[im.ID], "@sha256:")
		if warned[im.ID] != overridden {
			t.Errorf("%s: warned %v, but cwltool overrides its pin: %v\n%s", im.ID, warned[im.ID], overridden, stderr)
		}
	}
	stdout, _, code := run(t, "", "--check", "build.json")
	if code != 1 || strings.Count(stdout, "overrides the pin of") != 2 ||
		!strings.Contains(stdout, `app.cwl:14: step "b" of workflow "main" requires a DockerRequirement (dockerPull localhost:5000/pkg/step-image:1) that overrides the pin of "beta"`) ||
		!strings.Contains(stdout, `app.cwl:21: workflow "sub" requires a DockerRequirement (dockerPull localhost:5000/pkg/sub-image:1) that overrides the pin of "gamma"`) {
		t.Errorf("--check: exit %d\n%s", code, stdout)
	}
}

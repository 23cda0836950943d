package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestCheckPublishedPackage: a package shaped like the published ones
// (tool paths as lists, a workflow path without #id, pool_logs_basepath in
// a workflow test) checks clean, with the unknown execution key a warning.
func TestCheckPublishedPackage(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/published")
	proj := filepath.Join(dir, "project.toml")
	out, stderr, code := run(t, "check", "-f", proj)
	if code != 0 || !strings.Contains(out, "ok (4 tools, 2 workflows)") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, `project.toml:51: unknown key "pool_logs_basepath" in [workflows.tests.execution.cluster] (did you mean "tool_logs_basepath"?): ignored`) {
		t.Errorf("no warning for pool_logs_basepath:\n%s", stderr)
	}
	// generate builds images only: it needs no CWL file.
	os.RemoveAll(filepath.Join(dir, "cwl-workflow"))
	if _, stderr, code := run(t, "generate", "-f", proj, "-o", "-"); code != 0 {
		t.Errorf("generate without the CWL files: exit %d\n%s", code, stderr)
	}
}

// TestCheckFindsProcessProblems: check lists every problem of the CWL
// references, not only the first: two tools naming one process, a misspelt
// id with the nearest one suggested, a path naming a Workflow.
func TestCheckFindsProcessProblems(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/published")
	proj := filepath.Join(dir, "project.toml")
	data, _ := os.ReadFile(proj)
	s := strings.Replace(string(data), "app-water-bodies.cwl#norm_diff", "app-water-bodies.cwl#norm-diff", 1)
	s = strings.Replace(s, "app-water-bodies.cwl#otsu", "app-water-bodies.cwl#crop", 1)
	s += "\n[tools.all]\ncontext = \"command-line-tools/crop\"\nimage = \"ghcr.io/eoap/water-bodies/all\"\npath = \"cwl-workflow/app-water-bodies.cwl\"\n"
	os.WriteFile(proj, []byte(s), 0o644)
	out, _, code := run(t, "check", "-f", proj)
	for _, want := range []string{
		`cwl-workflow/app-water-bodies.cwl:40: tools "otsu" and "crop" both name process "crop": one image per process`,
		`no process with id "norm-diff" in cwl-workflow/app-water-bodies.cwl (did you mean "norm_diff"?) (tools.norm_diff.path, ` + proj + `:40)`,
		`cwl-workflow/app-water-bodies.cwl:5: tools.all.path names "main", a Workflow`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q", want)
		}
	}
	if code != 1 || strings.Count(out, `both name process "crop"`) != 2 {
		t.Errorf("exit %d; want each clash once per file", code)
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestWorkflowTestsOnly: a package with workflow tests and no [tools] is
// checked and its tests planned; only generate, which has nothing to build,
// refuses it.
func TestWorkflowTestsOnly(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/published")
	proj := filepath.Join(dir, "project.toml")
	data, _ := os.ReadFile(proj)
	s := string(data)
	s = s[:strings.Index(s, "# Tools are not")] + s[strings.Index(s, "[[workflows]]"):]
	os.WriteFile(proj, []byte(s), 0o644)
	if out, stderr, code := run(t, "check", "-f", proj); code != 0 || !strings.Contains(out, "ok (0 tools, 2 workflows)") {
		t.Errorf("check: exit %d\n%s%s", code, out, stderr)
	}
	t.Setenv("DASK_GATEWAY_ADDRESS", "")
	out, stderr, code := run(t, "test", "-f", proj, "--dry-run", "--engine", "cluster", "--cluster-mode", "pod")
	if code != 0 || !strings.Contains(out, "calrissian") || !strings.Contains(out, "cwl-workflow/app-water-bodies.cwl ") {
		t.Errorf("test --dry-run: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := run(t, "generate", "-f", proj, "-o", "-"); code != 1 || !strings.Contains(stderr, "nothing to build") {
		t.Errorf("generate with no tools: exit %d\n%s", code, stderr)
	}
}

// TestBuildRequestsCheckedFirst: a multi-platform Kaniko request and a bad
// tarball tag are refused before any executor runs.
func TestBuildRequestsCheckedFirst(t *testing.T) {
	record := filepath.Join(t.TempDir(), "ran")
	executor := filepath.Join(t.TempDir(), "executor")
	os.WriteFile(executor, []byte("#!/bin/sh\ntouch "+record+"\n"), 0o755)
	t.Setenv("IMAGE", "127.0.0.1:5000/x/y:1")
	t.Setenv("BUILD_CONTEXT", t.TempDir())
	t.Setenv("PUSH_IMAGE", "true")
	t.Setenv("PLATFORMS", "linux/amd64,linux/arm64")
	if _, stderr, code := run(t, "plugin", "--backend", "kaniko", "--executor", executor); code == 0 || !strings.Contains(stderr, "kaniko builds one platform per run") {
		t.Errorf("plugin, two platforms: exit %d %s", code, stderr)
	}
	dir := testenv.CopyDir(t, "../../testdata/projects/published")
	if _, stderr, code := run(t, "tar", "-f", filepath.Join(dir, "project.toml"), "--tag", "-bad", "--executor", executor, "-o", filepath.Join(dir, "out")); code != 1 || !strings.Contains(stderr, `tag "-bad" must be`) {
		t.Errorf("tar, bad tag: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(record); err == nil {
		t.Error("an executor ran")
	}
}

// TestCheckMissingContextAndCWL: a missing build context hides none of the
// CWL problems: check lists both, with every missing workflow file.
func TestCheckMissingContextAndCWL(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/published")
	proj := filepath.Join(dir, "project.toml")
	os.RemoveAll(filepath.Join(dir, "command-line-tools", "crop"))
	os.Remove(filepath.Join(dir, "cwl-workflow", "app-water-bodies.cwl"))
	os.Remove(filepath.Join(dir, "cwl-workflow", "app-water-bodies-cloud-native.cwl"))
	out, stderr, code := run(t, "check", "-f", proj)
	all := out + stderr
	for _, want := range []string{"command-line-tools/crop", "cwl-workflow/app-water-bodies.cwl", "cwl-workflow/app-water-bodies-cloud-native.cwl"} {
		if !strings.Contains(all, want) {
			t.Errorf("check output lacks %q:\n%s", want, all)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
}

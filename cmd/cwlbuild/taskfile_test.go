package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestInitTaskfileQuotesValues runs the Taskfile `cwlbuild init` writes with
// go-task, the programs it calls replaced by stubs that record their argv,
// and values a fork's pull request or a git tag name can carry: each
// reaches its program as one literal argument, no shell code runs, no glob
// expands, and a build's output goes to a name of its own.
func TestInitTaskfileQuotesValues(t *testing.T) {
	taskBin, err := exec.Command("go", "tool", "-n", "task").Output()
	if err != nil {
		testenv.Missing(t, "go-task (go tool task)", err)
	}
	dir := testenv.CopyDir(t, "../../testdata/projects/sample")
	if _, stderr, code := run(t, "init", "-f", filepath.Join(dir, "project.toml")); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	stubs := t.TempDir()
	record := filepath.Join(t.TempDir(), "argv")
	stub := "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\" >> " + record + "; done\necho END >> " + record + "\n" +
		// skaffold writes the build output where --file-output says.
		"while [ $# -gt 0 ]; do [ \"$1\" = --file-output ] && echo '{\"builds\":[]}' > \"$2\"; shift; done\n"
	for _, name := range []string{"cwlbuild", "cwlpatch", "skaffold"} {
		os.WriteFile(filepath.Join(stubs, name), []byte(stub), 0o755)
	}
	mark := filepath.Join(dir, "PWNED")
	hostile := "x$(touch " + mark + ");touch " + mark + " `touch " + mark + "` *"
	for _, tc := range []struct {
		args []string
		want []string // the stub's argv, program name last element of $0
	}{
		{[]string{"update", "BUILD_JSON=" + hostile}, []string{"cwlpatch", "--", hostile}},
		{[]string{"test-tool", "TOOL=" + hostile, "ENGINE=" + hostile}, []string{"cwlbuild", "test", "--tool=" + hostile, "--engine=" + hostile}},
		{[]string{"test-workflow", "WORKFLOW=" + hostile}, []string{"cwlbuild", "test", "--workflow=" + hostile}},
		{[]string{"test-all", "ENGINE=" + hostile}, []string{"cwlbuild", "test", "--keep-going", "--engine=" + hostile}},
		{[]string{"sign-publish", "REF_FILE=" + hostile}, []string{"cwlbuild", "publish", "--ref-file=" + hostile}},
		{[]string{"build", "PROFILE=" + hostile}, []string{"skaffold", "build", "-f", "skaffold-auto.yaml", "-p", hostile, "--file-output", "TMP"}},
	} {
		os.Remove(record)
		cmd := exec.Command(strings.TrimSpace(string(taskBin)), tc.args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("task %s: %v\n%s", tc.args[0], err, out)
			continue
		}
		data, _ := os.ReadFile(record)
		var got []string
		for _, call := range strings.Split(strings.TrimSuffix(string(data), "END\n"), "END\n") {
			argv := strings.Split(strings.TrimSuffix(call, "\n"), "\n")
			if filepath.Base(argv[0]) == tc.want[0] {
				got = append([]string{tc.want[0]}, argv[1:]...)
			}
		}
		if tc.want[0] == "skaffold" && len(got) == len(tc.want) {
			if !regexp.MustCompile(`^build\.json\.[A-Za-z0-9]{6}$`).MatchString(got[len(got)-1]) {
				t.Errorf("task build: the build output goes to %q, not a name of its own", got[len(got)-1])
			}
			got[len(got)-1] = "TMP"
		}
		if strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
			t.Errorf("task %s: %s ran with %q, want %q", tc.args[0], tc.want[0], got, tc.want)
		}
		if _, err := os.Stat(mark); err == nil {
			t.Fatalf("task %s: a value ran shell code", tc.args[0])
		}
	}
	os.Remove(record)
	cmd := exec.Command(strings.TrimSpace(string(taskBin)), "release", "TAGS=latest "+hostile)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("task release: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(record)
	want := "publish\n--tag=latest\n"
	for _, w := range strings.Fields(hostile) {
		want += "--tag=" + w + "\n"
	}
	if !strings.Contains(string(data), want+"END\n") {
		t.Errorf("task release: cwlbuild publish ran with\n%s\nwant the tags one by one:\n%s", data, want)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("task release: a tag ran shell code")
	}
}

// TestInitRefusesBesideAnyTaskfile: go-task reads one Taskfile per
// directory, in a fixed order: beside any of its names init writes nothing.
func TestInitRefusesBesideAnyTaskfile(t *testing.T) {
	for _, name := range []string{"Taskfile.yml", "taskfile.yaml", "Taskfile.dist.yml", "taskfile.dist.yaml"} {
		dir := testenv.CopyDir(t, "../../testdata/projects/sample")
		os.WriteFile(filepath.Join(dir, name), []byte("version: '3'\n"), 0o644)
		_, stderr, code := run(t, "init", "-f", filepath.Join(dir, "project.toml"))
		if code != 1 || !strings.Contains(stderr, name+" exists") {
			t.Errorf("beside %s: exit %d: %s", name, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "Taskfile.yaml")); err == nil && name != "Taskfile.yaml" {
			t.Errorf("beside %s: Taskfile.yaml written", name)
		}
	}
}

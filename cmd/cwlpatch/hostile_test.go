package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/synth"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestHostileInputs: each input is refused with a clear error (or patched
// correctly), and a refused run changes no file.
func TestHostileInputs(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'k'; i++ {
		bomb += fmt.Sprintf("%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T) // in the package directory
		want    string
	}{
		// yaml.v3's node tree keeps aliases unexpanded: a billion laughs costs
		// nothing, and the package next to it is patched as usual.
		{"alias bomb", func(t *testing.T) {
			data, _ := os.ReadFile("app.cwl")
			os.WriteFile("app.cwl", append([]byte(bomb), data...), 0o644)
		}, ""},
		{"deep nesting", func(t *testing.T) {
			os.WriteFile("app.cwl", []byte("cwlVersion: v1.2\nx: "+strings.Repeat("[", 200000)+strings.Repeat("]", 200000)+"\n"), 0o644)
		}, "app.cwl"},
		{"non-UTF-8 bytes", func(t *testing.T) {
			data, _ := os.ReadFile("app.cwl")
			os.WriteFile("app.cwl", append([]byte("# \xff\xfe bad bytes\n"), data...), 0o644)
		}, "app.cwl"},
		{"100 MB CWL", func(t *testing.T) {
			f, _ := os.OpenFile("app.cwl", os.O_WRONLY, 0)
			f.Truncate(100 << 20) // sparse: no disk, no memory
			f.Close()
		}, "larger than cwlpatch reads"},
		{"1 GB build.json", func(t *testing.T) {
			f, _ := os.OpenFile("build.json", os.O_WRONLY, 0)
			f.Truncate(1 << 30)
			f.Close()
		}, "larger than any build output"},
		{"directory for build.json", func(t *testing.T) {
			os.Rename("build.json", "b.json")
			os.Mkdir("build.json", 0o755)
		}, "is a directory"},
		{"read-only CWL", func(t *testing.T) {
			os.Chmod("app.cwl", 0o444)
		}, "read-only file"},
		{"directory for the CWL file", func(t *testing.T) {
			os.Rename("app.cwl", "app.cwl.bak")
			os.Mkdir("app.cwl", 0o755)
		}, "not a regular file"},
		{"context outside the project", func(t *testing.T) {
			data, _ := os.ReadFile("project.toml")
			os.WriteFile("project.toml", []byte(strings.Replace(string(data), `context = "context"`, `context = "../context"`, 1)), 0o644)
		}, `"../context": outside the project directory`},
		{"CWL path outside the project", func(t *testing.T) {
			data, _ := os.ReadFile("project.toml")
			os.WriteFile("project.toml", []byte(strings.Replace(string(data), `path = "app.cwl#zeta"`, `path = "/etc/app.cwl#zeta"`, 1)), 0o644)
		}, `outside the project directory`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := setupCase(t, "order")
			t.Chdir(dir)
			tc.prepare(t)
			before := snapshot(t, dir)
			_, stderr, code := run(t, "", "build.json")
			t.Logf("stderr: %.300s", stderr)
			if tc.want == "" {
				data, _ := os.ReadFile("app.cwl")
				if code != 0 || strings.Count(string(data), "@sha256:") != 3 {
					t.Errorf("exit %d: %s", code, stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
			if !equalFiles(t, before, snapshot(t, dir)) {
				t.Error("a refused run changed files")
			}
		})
	}
}

func TestAllowOutsidePaths(t *testing.T) {
	root := t.TempDir()
	testenv.CopyTree(t, filepath.Join(casesDir, "context"), filepath.Join(root, "shared-context"), nil)
	dir := filepath.Join(root, "pkg")
	testenv.CopyTree(t, filepath.Join(casesDir, "order"), dir, caseFiles)
	data, _ := os.ReadFile(filepath.Join(dir, "project.toml"))
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(strings.ReplaceAll(string(data), `context = "context"`, `context = "../shared-context"`)), 0o644)
	t.Chdir(dir)
	if _, _, code := run(t, "", "build.json"); code != 1 {
		t.Fatal("a context outside the project was accepted")
	}
	if _, stderr, code := run(t, "", "--allow-outside-paths", "build.json"); code != 0 {
		t.Errorf("--allow-outside-paths: exit %d: %s", code, stderr)
	}
}

// TestKillNine kills cwlpatch with SIGKILL at random moments while it pins
// a 3000-tool package: afterwards the CWL file is always either entirely the
// old content or entirely the new, never a mix or a truncated file; the next
// complete run removes the temporary files the killed ones left.
func TestKillNine(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/cwlpatch")
	pkg, err := synth.Write(t.TempDir(), 3000)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(pkg.CWL)
	cmd := exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	patched, _ := os.ReadFile(pkg.CWL)
	start := time.Now()
	cmd = exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
	os.WriteFile(pkg.CWL, old, 0o644)
	cmd.Run()
	full := time.Since(start)

	rng := rand.New(rand.NewSource(1))
	outcomes := map[string]int{}
	for i := 0; i < 20; i++ {
		os.WriteFile(pkg.CWL, old, 0o644)
		cmd := exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int63n(int64(full) + 1)))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		got, err := os.ReadFile(pkg.CWL)
		switch {
		case err != nil:
			t.Fatalf("after kill %d: %v", i, err)
		case string(got) == string(old):
			outcomes["old"]++
		case string(got) == string(patched):
			outcomes["new"]++
		default:
			t.Fatalf("after kill %d the CWL is neither old nor new (%d bytes)", i, len(got))
		}
	}
	t.Logf("outcomes over 20 kills: %v (a full run takes %v)", outcomes, full)
	testenv.RequireNoLeftoversAfterRun(t, pkg.CWL, exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON))
}

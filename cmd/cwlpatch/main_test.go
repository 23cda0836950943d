package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/cwlpatch")

const casesDir = "../../testdata/cwlpatch"

// run runs cwlpatch in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return cliapp.Run(newApp(), 2, stdin, args...)
}

// caseFiles are the control files of a case directory, not package files.
var caseFiles = map[string]bool{"base": true, "args": true, "want": true, "want.err": true, "want.out": true}

// setupCase builds a package in a temporary directory: the shared build
// context, the case named in the case's base file, then the case itself.
func setupCase(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join(casesDir, "context"), filepath.Join(dir, "context"), nil)
	src := filepath.Join(casesDir, name)
	if base, err := os.ReadFile(filepath.Join(src, "base")); err == nil {
		testenv.CopyTree(t, filepath.Join(casesDir, strings.TrimSpace(string(base))), dir, caseFiles)
	}
	testenv.CopyTree(t, src, dir, caseFiles)
	return dir
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if info, err := d.Info(); err == nil && info.Size() > 8<<20 {
				// Huge hostile inputs: their size and mtime stand for them.
				files[filepath.ToSlash(rel)] = fmt.Sprintf("%d bytes, modified %v", info.Size(), info.ModTime())
				return nil
			}
			data, _ := os.ReadFile(p)
			files[filepath.ToSlash(rel)] = string(data)
		}
		return nil
	})
	return files
}

func caseNames(t *testing.T) []string {
	entries, err := os.ReadDir(casesDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "context" {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestCases runs every case of testdata/cwlpatch: the patched files must
// equal the case's want/ files, a case with want.err must fail with those
// lines and change no file, and a second run must change no byte.
func TestCases(t *testing.T) {
	for _, name := range caseNames(t) {
		t.Run(name, func(t *testing.T) {
			dir := setupCase(t, name)
			src, _ := filepath.Abs(filepath.Join(casesDir, name))
			var args []string
			if a, err := os.ReadFile(filepath.Join(src, "args")); err == nil {
				args = strings.Fields(string(a))
			}
			wantErr, _ := os.ReadFile(filepath.Join(src, "want.err"))
			before := snapshot(t, dir)
			t.Chdir(dir)
			stdout, stderr, code := run(t, "", append(args, "build.json")...)
			after := snapshot(t, dir)

			if len(wantErr) > 0 {
				if code != 1 {
					t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
				}
				for _, line := range strings.Split(strings.TrimSpace(string(wantErr)), "\n") {
					if !strings.Contains(stderr, line) {
						t.Errorf("stderr lacks %q:\n%s", line, stderr)
					}
				}
				if !equalFiles(t, before, after) {
					t.Error("a failed run changed files")
				}
			} else if code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			checkGolden(t, filepath.Join(src, "want.out"), stdout)
			wantDir := filepath.Join(src, "want")
			changed := map[string]string{}
			for f, data := range after {
				if before[f] != data {
					changed[f] = data
				}
			}
			if *update {
				os.RemoveAll(wantDir)
				for f, data := range changed {
					os.MkdirAll(filepath.Dir(filepath.Join(wantDir, f)), 0o755)
					os.WriteFile(filepath.Join(wantDir, f), []byte(data), 0o644)
				}
			}
			want := map[string]string{}
			filepath.WalkDir(wantDir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					data, _ := os.ReadFile(p)
					rel, _ := filepath.Rel(wantDir, p)
					want[filepath.ToSlash(rel)] = string(data)
				}
				return nil
			})
			for f := range want {
				if _, ok := changed[f]; !ok {
					t.Errorf("%s: not changed, want the content of want/%s", f, f)
				}
			}
			for f, got := range changed {
				if w, ok := want[f]; !ok {
					t.Errorf("%s changed but the case has no want/%s", f, f)
				} else if got != w {
					t.Errorf("%s differs from want/%s:\n%s", f, f, got)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "build.json")); err != nil {
				t.Errorf("build.json is gone: %v", err)
			}
			if code == 0 {
				// Idempotent: a second run changes no byte.
				if _, stderr, code := run(t, "", append(args, "build.json")...); code != 0 {
					t.Fatalf("second run: exit %d: %s", code, stderr)
				}
				if !equalFiles(t, after, snapshot(t, dir)) {
					t.Error("a second run changed files")
				}
			}
		})
	}
}

func equalFiles(t *testing.T, a, b map[string]string) bool {
	t.Helper()
	if len(a) != len(b) {
		return false
	}
	for f, d := range a {
		if b[f] != d {
			t.Logf("%s changed", f)
			return false
		}
	}
	return true
}

func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if got == "" {
			os.Remove(file)
		} else {
			os.WriteFile(file, []byte(got), 0o644)
		}
		return
	}
	want, _ := os.ReadFile(file)
	if got != string(want) {
		t.Errorf("stdout differs from %s:\n%s", file, got)
	}
}

// TestPatchedCasesValidate runs cwlpatch on every case that should succeed
// and then Debian's cwltool --validate on each CWL file the run changed, in
// place beside the files it imports: a pin that breaks the CWL is not a pin.
func TestPatchedCasesValidate(t *testing.T) {
	cwltool := testenv.LookPath(t, "cwltool")
	bin := testenv.BuildBinary(t, "./cmd/cwlpatch")
	var files []string
	for _, name := range caseNames(t) {
		src := filepath.Join(casesDir, name)
		if _, err := os.Stat(filepath.Join(src, "want.err")); err == nil {
			continue
		}
		var args []string
		if a, err := os.ReadFile(filepath.Join(src, "args")); err == nil {
			args = strings.Fields(string(a))
		}
		if slices.Contains(args, "--dry-run") || slices.Contains(args, "--check") {
			continue
		}
		dir := setupCase(t, name)
		before := snapshot(t, dir)
		cmd := exec.Command(bin, append(args, "build.json")...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		for f, data := range snapshot(t, dir) {
			if strings.HasSuffix(f, ".cwl") && before[f] != data {
				files = append(files, filepath.Join(dir, f))
			}
		}
	}
	sort.Strings(files)
	if len(files) < 8 {
		t.Fatalf("only %d patched documents", len(files))
	}
	var wg sync.WaitGroup
	errs := make([]string, len(files))
	sem := make(chan struct{}, 4)
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := exec.Command(cwltool, "--validate", f).CombinedOutput()
			if err != nil {
				errs[i] = f + ": " + err.Error() + "\n" + string(out)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
}

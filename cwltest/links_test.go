package cwltest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/shell"
)

// TestExecuteRefusesLinks: a symlink committed at a test's log, at its
// params file, or at the .cwlbuild directory its volume lies in makes the
// run fail before the engine starts, and nothing outside the package is
// written; without one the run writes its files.
func TestExecuteRefusesLinks(t *testing.T) {
	outside := t.TempDir()
	rc := filepath.Join(outside, "bashrc")
	for _, tc := range []struct {
		name  string
		plant func(pkg string)
	}{
		{"stderr log", func(pkg string) {
			os.MkdirAll(filepath.Join(pkg, ".cwlbuild", "tests", "t"), 0o755)
			os.Symlink(rc, filepath.Join(pkg, ".cwlbuild", "tests", "t", "t.stderr.log"))
		}},
		{"params", func(pkg string) {
			os.MkdirAll(filepath.Join(pkg, ".cwlbuild", "tests", "t"), 0o755)
			os.Symlink(rc, filepath.Join(pkg, ".cwlbuild", "tests", "t", "t.params.yaml"))
		}},
		{".cwlbuild", func(pkg string) { os.Symlink(outside, filepath.Join(pkg, ".cwlbuild")) }},
		{"outdir", func(pkg string) {
			os.MkdirAll(filepath.Join(pkg, ".cwlbuild", "tests", "t"), 0o755)
			os.Symlink(outside, filepath.Join(pkg, ".cwlbuild", "tests", "t", "outputs"))
		}},
		{"none", func(string) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(rc, []byte("# rc\n"), 0o644)
			pkg := t.TempDir()
			tc.plant(pkg)
			vol := filepath.Join(pkg, ".cwlbuild", "tests", "t")
			r := &Run{Dir: pkg, Argv: shell.Command{"true"}, Volume: vol, Params: filepath.Join(vol, "t.params.yaml"),
				ParamsYAML: []byte("x: 1\n"), Stdout: filepath.Join(vol, "t.stdout.json"), Stderr: filepath.Join(vol, "t.stderr.log"), Outdir: filepath.Join(vol, "outputs")}
			err := Execute(context.Background(), r, nil).Err
			if tc.name == "none" {
				if err != nil {
					t.Fatal(err)
				}
				if data, _ := os.ReadFile(r.Params); string(data) != "x: 1\n" {
					t.Errorf("params %q", data)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "is a symlink") {
				t.Errorf("err %v, want a refused symlink", err)
			}
			if data, _ := os.ReadFile(rc); string(data) != "# rc\n" {
				t.Errorf("the file outside changed: %q", data)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 1 {
				t.Errorf("written outside the package: %v", entries)
			}
		})
	}
}

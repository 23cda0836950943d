package atomicfile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteKeepsModeAndLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.cwl")
	os.WriteFile(target, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.cwl")
	if err := os.Symlink("real.cwl", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	data, _ := os.ReadFile(target)
	fi, _ := os.Stat(target)
	if string(data) != "new" || fi.Mode().Perm() != 0o640 {
		t.Errorf("target %q mode %v, want new 0640", data, fi.Mode().Perm())
	}
	if err := Write(filepath.Join(dir, "fresh"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "fresh")); fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v", fi.Mode().Perm())
	}
}

func TestWriteRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, []byte("x"), 0o644); err == nil {
		t.Fatal("wrote over a directory")
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if filepath.Ext(e.Name()) != "" && e.Name()[0] == '.' {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestWriteAllIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cwl")
	os.WriteFile(a, []byte("old a"), 0o644)
	blocked := filepath.Join(dir, "b.cwl")
	os.Mkdir(blocked, 0o755) // a directory where a file is expected
	err := WriteAll([]string{a, blocked}, [][]byte{[]byte("new a"), []byte("new b")}, 0o644)
	if err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	if data, _ := os.ReadFile(a); string(data) != "old a" {
		t.Errorf("a.cwl = %q after a failed WriteAll, want it untouched", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteAll([]string{a}, [][]byte{[]byte("new a")}, 0o644); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(a); string(data) != "new a" {
		t.Errorf("a.cwl = %q, want new a", data)
	}
}

// TestStaleTemporaryFilesRemoved: a commit removes the temporary files of
// writers that were killed (their process is gone) or that are older than
// any write takes, and leaves those of live writers and other files alone.
func TestStaleTemporaryFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "app.cwl")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := os.Getppid()      // the go test driver, alive while we run
	files := map[string]bool{ // name: should survive
		fmt.Sprintf(".app.cwl.tmp-%d-123", dead.Process.Pid): false,
		fmt.Sprintf(".app.cwl.tmp-%d-456", live):             true,
		fmt.Sprintf(".app.cwl.tmp-%d-789", live):             false, // aged below
		".app.cwl.tmp-notapid":                               true,
		".other.cwl.tmp-1-1":                                 true,
		"app.cwl.tmp-1-1":                                    true,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAge)
	if err := os.Chtimes(filepath.Join(dir, fmt.Sprintf(".app.cwl.tmp-%d-789", live)), old, old); err != nil {
		t.Fatal(err)
	}
	if err := Write(target, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, survive := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if survive && err != nil {
			t.Errorf("%s was removed", name)
		}
		if !survive && err == nil {
			t.Errorf("%s was left", name)
		}
	}
}

// TestOwnStagedFilesSurvive: while WriteAll commits one file, the files it
// has staged for the others (same process) are not taken for stale ones.
func TestOwnStagedFilesSurvive(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.cwl"), filepath.Join(dir, "b.cwl")
	sa, err := Stage(a, []byte("A"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Stage(a, []byte("A2"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Commit(); err != nil {
		t.Fatalf("a staged file of this process was removed by another commit: %v", err)
	}
	if err := WriteAll([]string{a, b}, [][]byte{[]byte("x"), []byte("y")}, 0o644); err != nil {
		t.Fatal(err)
	}
}

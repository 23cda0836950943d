package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
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

package genfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesLinks: a symlink at the file, or at a directory on the way to
// it, is refused by Check, Read and WriteAll, and nothing outside is read
// or written; a foreign file is not overwritten; a missing one is created.
func TestRefusesLinks(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "rc")
	os.WriteFile(secret, []byte("SECRET=1\n"), 0o644)
	os.Mkdir(filepath.Join(outside, "dir"), 0o755)
	os.Symlink(secret, filepath.Join(root, "linked.yaml"))
	os.Symlink(filepath.Join(outside, "dir"), filepath.Join(root, "linkdir"))
	os.WriteFile(filepath.Join(root, "hard"), nil, 0o644)
	os.Link(filepath.Join(root, "hard"), filepath.Join(outside, "hard"))
	os.Mkdir(filepath.Join(root, "fifo-dir"), 0o755)
	for _, tc := range []struct{ path, want string }{
		{"linked.yaml", "is a symlink"},
		{"linkdir/x.Dockerfile", "is a symlink"},
		{"hard", "hard links"},
		{"fifo-dir", "not a regular file"},
		{"../escape", "outside"},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			path := filepath.Join(root, tc.path)
			if err := Check(root, path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check %s: %v, want %q", tc.path, err, tc.want)
			}
			if data, err := Read(root, path); err == nil || len(data) > 0 {
				t.Errorf("Read %s: %q %v", tc.path, data, err)
			}
			if err := WriteAll(context.Background(), []File{{Root: root, Path: path, Data: []byte("pwned")}}); err == nil {
				t.Errorf("WriteAll %s: no error", tc.path)
			}
		})
	}
	if data, _ := os.ReadFile(secret); string(data) != "SECRET=1\n" {
		t.Errorf("the file outside changed: %q", data)
	}
	if entries, _ := os.ReadDir(filepath.Join(outside, "dir")); len(entries) != 0 {
		t.Errorf("written through the linked directory: %v", entries)
	}

	mine := func(old []byte) bool { return strings.HasSuffix(string(old), "# generated\n") }
	foreign := filepath.Join(root, "ctx", ".cwlbuild", "t.Dockerfile")
	os.MkdirAll(filepath.Dir(foreign), 0o755)
	os.WriteFile(foreign, []byte("FROM user\n"), 0o644)
	if err := WriteAll(context.Background(), []File{{Root: root, Path: foreign, Data: []byte("x# generated\n"), Ours: mine}}); err == nil || !strings.Contains(err.Error(), "was not written by cwlbuild generate") {
		t.Errorf("a foreign file: %v", err)
	}
	os.WriteFile(foreign, []byte("old\n# generated\n"), 0o644)
	fresh := filepath.Join(root, "new", "dir", "f")
	if err := WriteAll(context.Background(), []File{{Root: root, Path: foreign, Data: []byte("new\n# generated\n"), Ours: mine}, {Root: root, Path: fresh, Data: []byte("f")}}); err != nil {
		t.Fatal(err)
	}
	if data, err := Read(root, foreign); err != nil || string(data) != "new\n# generated\n" {
		t.Errorf("replaced: %q %v", data, err)
	}
	if _, err := Read(root, filepath.Join(root, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

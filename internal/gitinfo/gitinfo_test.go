package gitinfo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRead: a loose ref, a packed ref, a detached HEAD, a linked worktree
// (".git" a file, refs in the common directory), a subdirectory of the work
// tree, credentials dropped from the remote, and no repository at all.
func TestRead(t *testing.T) {
	a := strings.Repeat("a", 40)
	b := strings.Repeat("b", 40)
	root := t.TempDir()
	main := filepath.Join(root, "main")
	write(t, filepath.Join(main, ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(main, ".git", "refs", "heads", "main"), a+"\n")
	write(t, filepath.Join(main, ".git", "packed-refs"), "# pack-refs with: peeled\n"+b+" refs/heads/release\n")
	write(t, filepath.Join(main, ".git", "config"), "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://other.example/x.git\n[remote \"origin\"]\n\turl = https://bot:tok@git.example.com/eoap/pkg.git\n")
	write(t, filepath.Join(main, "tools", "crop", "Dockerfile"), "FROM scratch\n")
	if got := Read(filepath.Join(main, "tools", "crop")); got != (Info{Revision: a, Remote: "https://git.example.com/eoap/pkg.git"}) {
		t.Errorf("loose ref from a subdirectory: %+v", got)
	}
	write(t, filepath.Join(main, ".git", "HEAD"), "ref: refs/heads/release\n")
	if got := Read(main); got.Revision != b {
		t.Errorf("packed ref: %+v", got)
	}
	write(t, filepath.Join(main, ".git", "HEAD"), a+"\n")
	if got := Read(main); got.Revision != a {
		t.Errorf("detached HEAD: %+v", got)
	}
	sha256 := strings.Repeat("d", 64) // a repository with SHA-256 object ids
	write(t, filepath.Join(main, ".git", "HEAD"), sha256+"\n")
	if got := Read(main); got.Revision != sha256 {
		t.Errorf("64-digit id: %+v", got)
	}
	write(t, filepath.Join(main, ".git", "HEAD"), strings.Repeat("d", 41)+"\n")
	if got := Read(main); got.Revision != "" {
		t.Errorf("41-digit id accepted: %+v", got)
	}
	write(t, filepath.Join(main, ".git", "HEAD"), "not a ref\n")
	if got := Read(main); got.Revision != "" {
		t.Errorf("garbage HEAD gave %+v", got)
	}

	wt := filepath.Join(root, "wt")
	gitDir := filepath.Join(main, ".git", "worktrees", "wt")
	write(t, filepath.Join(wt, ".git"), "gitdir: "+gitDir+"\n")
	write(t, filepath.Join(gitDir, "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(gitDir, "commondir"), "../..\n")
	if got := Read(wt); got != (Info{Revision: a, Remote: "https://git.example.com/eoap/pkg.git"}) {
		t.Errorf("linked worktree: %+v", got)
	}

	if got := Read(t.TempDir()); got != (Info{}) {
		t.Errorf("outside a repository: %+v", got)
	}
	for in, want := range map[string]string{
		"git@github.com:eoap/pkg.git":         "git@github.com:eoap/pkg.git",
		"https://github.com/eoap/pkg":         "https://github.com/eoap/pkg",
		"https://x-token:abc@gitlab.com/a/b":  "https://gitlab.com/a/b",
		"ssh://git@host.example:2222/pkg.git": "ssh://host.example:2222/pkg.git",
	} {
		if got := withoutCredentials(in); got != want {
			t.Errorf("withoutCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}

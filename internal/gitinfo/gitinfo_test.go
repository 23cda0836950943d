package gitinfo

import (
	"fmt"
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
	// The forms git writes a remote in, quoted as git quotes a value with
	// '#' or ';': the credentials never come out (the URL forms are
	// internal/scrub's table).
	for in, want := range map[string]string{
		`"https://ci-bot:glpat-Tok#en;SECRET@gitlab.example/org/pkg.git"`: "https://gitlab.example/org/pkg.git",
		`https://x-token:SECRET@gitlab.com/a/b ; a comment`:               "https://gitlab.com/a/b",
		`"https://gitlab.example/org/pkg.git?private_token=SECRET"`:       "https://gitlab.example/org/pkg.git",
		`https://user:p%zzSECRET@gitlab.example/org/pkg`:                  "https://gitlab.example/org/pkg",
		`ci:SECRET@gitlab.example:org/pkg.git`:                            "gitlab.example:org/pkg.git",
		`"https://gitlab.example/a\"b"`:                                   "",
	} {
		t.Run(fmt.Sprint(in), func(t *testing.T) {
			write(t, filepath.Join(main, ".git", "config"), "[remote \"origin\"]\n\turl = "+in+"\n")
			if got := Read(main).Remote; got != want {
				t.Errorf("remote %s: %q, want %q", in, got, want)
			}
		})
	}
}

// Package gitinfo reads what a release records about its source from the
// work tree's .git directory: the commit checked out and the "origin"
// remote. It reads files and runs no program: a package may be built where
// git is not installed (inside the Kaniko image), and a work tree's config
// is not trusted to run anything.
package gitinfo

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/eoap/cwlbuild/internal/scrub"
)

// Info is what was found; fields are "" when unknown.
type Info struct {
	// Revision is the full commit id of HEAD.
	Revision string
	// Remote is the URL of the "origin" remote, without credentials.
	Remote string
}

// Read looks for the .git of the work tree holding dir (dir or a parent).
func Read(dir string) Info {
	gitDir, common := find(dir)
	if gitDir == "" {
		return Info{}
	}
	return Info{Revision: revision(gitDir, common), Remote: remote(common)}
}

// find returns the git directory of the work tree holding dir and its
// common directory (they differ for a linked worktree).
func find(dir string) (gitDir, common string) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				return p, p
			}
			// A worktree or submodule: ".git" is a file "gitdir: PATH".
			data, err := os.ReadFile(p)
			if err != nil {
				return "", ""
			}
			g, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir: ")
			if !ok {
				return "", ""
			}
			if !filepath.IsAbs(g) {
				g = filepath.Join(d, g)
			}
			common = g
			if c, err := os.ReadFile(filepath.Join(g, "commondir")); err == nil {
				common = strings.TrimSpace(string(c))
				if !filepath.IsAbs(common) {
					common = filepath.Join(g, common)
				}
			}
			return g, common
		}
		if filepath.Dir(d) == d {
			return "", ""
		}
	}
}

func revision(gitDir, common string) string {
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	h := strings.TrimSpace(string(head))
	ref, ok := strings.CutPrefix(h, "ref: ")
	if !ok {
		return commitID(h)
	}
	for _, d := range []string{gitDir, common} {
		if data, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
			return commitID(strings.TrimSpace(string(data)))
		}
	}
	f, err := os.Open(filepath.Join(common, "packed-refs"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, name, ok := strings.Cut(sc.Text(), " "); ok && name == ref {
			return commitID(id)
		}
	}
	return ""
}

// commitID accepts a 40- or 64-digit lowercase hex object id.
func commitID(s string) string {
	if len(s) != 40 && len(s) != 64 {
		return ""
	}
	if strings.Trim(s, "0123456789abcdef") != "" {
		return ""
	}
	return s
}

// remote reads [remote "origin"] url from the repository's config.
func remote(common string) string {
	f, err := os.Open(filepath.Join(common, "config"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inOrigin := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inOrigin = strings.ReplaceAll(line, " ", "") == `[remote"origin"]`
			continue
		}
		if !inOrigin {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "url" {
			return scrub.URL(configValue(v))
		}
	}
	return ""
}

// configValue reads a git config value as git does: double quotes group,
// a backslash escapes, '#' or ';' outside quotes starts a comment. git
// writes a URL holding '#' or ';' (a token) quoted.
func configValue(v string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			default:
				b.WriteByte(v[i])
			}
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '#' || c == ';'):
			return strings.TrimSpace(b.String())
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

package scrub

import (
	"fmt"
	"strings"
	"testing"
)

// TestURL is the table of the URL forms git writes for a remote, with the
// credentials CI systems put in them: none survives, the public part does.
func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://github.com/eoap/pkg.git", "https://github.com/eoap/pkg.git"},
		{"https://ci-bot:glpat-Tok#en;SECRET@gitlab.example/org/pkg.git", "https://gitlab.example/org/pkg.git"},
		{"https://oauth2:ghp_SECRET@github.com/eoap/pkg", "https://github.com/eoap/pkg"},
		{"https://x-access-token:SECRET@github.com/eoap/pkg.git", "https://github.com/eoap/pkg.git"},
		{"https://SECRET@github.com/eoap/pkg", "https://github.com/eoap/pkg"},
		{"https://user:p%zzSECRET@gitlab.example/org/pkg", "https://gitlab.example/org/pkg"},
		{"https://gitlab.example/org/pkg.git?private_token=SECRET", "https://gitlab.example/org/pkg.git"},
		{"https://gitlab.example/org/pkg.git#SECRET", "https://gitlab.example/org/pkg.git"},
		{"https://user:SE@CRET@gitlab.example:8443/org/pkg", "https://gitlab.example:8443/org/pkg"},
		{"HTTPS://Host.Example/a", "https://Host.Example/a"},
		{"http://[::1]:3000/a.git", "http://[::1]:3000/a.git"},
		{"ssh://git@github.com/eoap/pkg.git", "ssh://github.com/eoap/pkg.git"},
		{"ssh://deploy:SECRET@git.example:2222/srv/pkg.git", "ssh://git.example:2222/srv/pkg.git"},
		{"git://git.example/pkg.git", "git://git.example/pkg.git"},
		{"git@github.com:eoap/pkg.git", "github.com:eoap/pkg.git"},
		{"ci:SECRET@gitlab.example:org/pkg.git", "gitlab.example:org/pkg.git"},
		{"file:///srv/git/pkg.git", "file:///srv/git/pkg.git"},
		{"/srv/git/pkg.git", "/srv/git/pkg.git"},
		{"../pkg.git", "../pkg.git"},
		{"", ""},
		{"https://gitlab.example/org/pkg\nSECRET", ""},
		{"https://héllo.example/x", ""},
		{"h{{cmd}}://x/y", ""},
		{"https://bad host/x", ""},
		{"no-colon-no-slash", ""},
		{"https://u:ab/cSECRET@host.example/path", ""},
		{"https://u:abSECRET/x", ""},
		{"http://[::1]/a", "http://[::1]/a"},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			got := URL(tc.in)
			if got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, "SECRET") {
				t.Errorf("URL(%q) leaks: %q", tc.in, got)
			}
		})
	}
}

// FuzzURL: whatever the input, a marked secret in the userinfo, the query
// or the fragment never comes out.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"https://a:b@h/p", "u:p@h:p", "ssh://u@h/p?x#y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, in := range []string{
			"https://u:" + s + "SECRET@host.example/path",
			"https://host.example/path?t=" + s + "SECRET",
			"https://host.example/path#" + s + "SECRET",
		} {
			if got := URL(in); strings.Contains(got, "SECRET") {
				t.Fatalf("URL(%q) = %q", in, got)
			}
		}
	})
}

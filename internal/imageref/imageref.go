// Package imageref owns every rule about image names: splitting references
// ("repo[:tag][@digest]") the way registries and Docker read them, the name
// grammar, registry hosts and Docker Hub's aliases, which registries speak
// plain HTTP, how Kaniko (go-containerregistry's pkg/name) reads a name, and
// the digest an image tarball will have once pushed. No other package
// parses an image name.
//
// The grammar is its own, stricter than go-containerregistry's on hosts
// (any byte there would reach a CWL file) and one-letter repositories
// (Docker allows them; KanikoRepository says where Kaniko differs).
package imageref

import (
	"fmt"
	"strings"
)

// isSHA256Digest reports whether d is "sha256:" and 64 lowercase hex digits.
// (A regexp for this costs half a millisecond to compile at every start.)
func isSHA256Digest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Reference is an image reference split into its parts.
type Reference struct {
	Repo   string // registry/path/name
	Tag    string // "" when absent
	Digest string // "sha256:..." or ""
}

// Split splits "repo[:tag][@digest]". A registry port is not a tag:
// the tag is only looked for after the last '/'.
func Split(ref string) (Reference, error) {
	var r Reference
	rest := ref
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
		if !isSHA256Digest(r.Digest) {
			return r, fmt.Errorf("%q: digest %q is not sha256 and 64 hex digits", ref, r.Digest)
		}
	}
	slash := strings.LastIndexByte(rest, '/')
	if i := strings.LastIndexByte(rest, ':'); i > slash {
		r.Tag = rest[i+1:]
		rest = rest[:i]
	}
	r.Repo = rest
	if r.Repo == "" {
		return r, fmt.Errorf("%q: no repository", ref)
	}
	if r.Tag != "" && !ValidTag(r.Tag) {
		return r, fmt.Errorf("%q: tag %q must be 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", ref, r.Tag)
	}
	return r, nil
}

// Parse is Split that also checks the repository against the name grammar
// registries enforce (see ValidName): what a pin may write into a CWL file.
func Parse(ref string) (Reference, error) {
	r, err := Split(ref)
	if err != nil {
		return r, err
	}
	if err := ValidName(r.Repo); err != nil {
		return r, fmt.Errorf("%q: %v", ref, err)
	}
	return r, nil
}

// ValidName checks an image name without tag or digest against the
// distribution grammar: an optional registry host (DNS labels, or
// "localhost", with an optional port; the first component is a host only
// when it holds a '.' or a ':' or is "localhost", as Docker reads it), then
// lowercase path components separated by '/', each letters and digits
// joined by '.', '_', '__' or runs of '-'. At most 255 characters. Unlike
// go-containerregistry, it allows one-letter repositories (Docker does),
// and unlike go-containerregistry's strict mode it checks the host: any
// byte there would otherwise reach a CWL file.
func ValidName(name string) error {
	if len(name) > 255 {
		return fmt.Errorf("longer than 255 characters")
	}
	if strings.ContainsAny(name, "@") {
		return fmt.Errorf("give the name without tag or digest")
	}
	host, path, ok := splitHost(name)
	if ok && !validHost(host) {
		return fmt.Errorf("registry host %q is not a host name with an optional port", host)
	}
	parts := strings.Split(path, "/")
	for i, c := range parts {
		if validComponent(c) {
			continue
		}
		if name, tag, ok := strings.Cut(c, ":"); ok && i == len(parts)-1 && validComponent(name) && ValidTag(tag) {
			return fmt.Errorf("give the name without tag or digest")
		}
		return fmt.Errorf("path components must be lowercase letters, digits and separators (. _ __ -)")
	}
	return nil
}

// validHost: DNS labels of letters, digits and inner '-', joined by '.',
// then an optional ":PORT".
func validHost(host string) bool {
	if h, port, ok := strings.Cut(host, ":"); ok {
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
		host = h
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '-' {
				return false
			}
		}
	}
	return true
}

// validComponent: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
func validComponent(c string) bool {
	if c == "" || !isAlnum(c[0]) || !isAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); i++ {
		if isAlnum(c[i]) {
			continue
		}
		switch {
		case c[i] == '.':
			if !isAlnum(c[i+1]) {
				return false
			}
		case c[i] == '_':
			if c[i+1] == '_' {
				i++
			}
			if !isAlnum(c[i+1]) {
				return false
			}
		case c[i] == '-':
			for c[i+1] == '-' {
				i++
			}
			if !isAlnum(c[i+1]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// Normalize makes the spellings of one Docker Hub image the same name:
// "busybox", "library/busybox", "docker.io/library/busybox" and
// "index.docker.io/library/busybox" all become "docker.io/library/busybox".
// Other names are returned as they are.
func Normalize(name string) string {
	host, path, ok := splitHost(name)
	if ok && !IsDockerHub(host) {
		return name
	}
	if !strings.Contains(path, "/") {
		path = "library/" + path
	}
	return DockerHub + "/" + path
}

// String reassembles the reference.
func (r Reference) String() string {
	s := r.Repo
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// ValidTag reports whether t is a tag registries accept: [A-Za-z0-9_]
// then up to 127 of [A-Za-z0-9_.-].
func ValidTag(t string) bool {
	if len(t) == 0 || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

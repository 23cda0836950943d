// Package imageref splits container image references ("repo[:tag][@digest]")
// the way registries and Docker read them. It is small on purpose: the full
// reference parsers (go-containerregistry's, distribution's) compile
// regular expressions at start-up that every cwlbuild run would pay for.
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
	if r.Tag != "" && !validTag(r.Tag) {
		return r, fmt.Errorf("%q: tag %q must be 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", ref, r.Tag)
	}
	return r, nil
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

// validTag reports whether t is a tag registries accept: [A-Za-z0-9_]
// then up to 127 of [A-Za-z0-9_.-].
func validTag(t string) bool {
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

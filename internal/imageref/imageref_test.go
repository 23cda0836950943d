package imageref

import (
	"fmt"
	"strings"
	"testing"
)

const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func TestSplit(t *testing.T) {
	for _, tc := range []struct{ in, repo, tag, digest string }{
		{"localhost:5000/pkg/crop:v1@" + d1, "localhost:5000/pkg/crop", "v1", d1},
		{"localhost:5000/pkg/crop@" + d1, "localhost:5000/pkg/crop", "", d1},
		{"localhost:5000/crop", "localhost:5000/crop", "", ""},
		{"busybox:1.36", "busybox", "1.36", ""},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			r, err := Split(tc.in)
			if err != nil || r.Repo != tc.repo || r.Tag != tc.tag || r.Digest != tc.digest {
				t.Errorf("Split(%q) = %+v, %v", tc.in, r, err)
			}
			if r.String() != tc.in {
				t.Errorf("String() = %q, want %q", r.String(), tc.in)
			}
		})
	}
	for _, bad := range []string{"x@sha256:12", "x@sha256:" + strings.Repeat("A", 64), "x@sha256:" + strings.Repeat("g", 64), "x@sha256:" + strings.Repeat("0", 65), "x@md5:" + strings.Repeat("0", 64), "@" + d1, ":tag", "x:-bad", "x:" + strings.Repeat("t", 129)} {
		if _, err := Split(bad); err == nil {
			t.Errorf("Split(%q) accepted", bad)
		}
	}
}

func TestValidName(t *testing.T) {
	good := []string{
		"a", "ab", "crop", "ghcr.io/eoap/crop", "localhost/x", "localhost:5000/pkg/crop", "127.0.0.1:5000/a",
		"Registry.Example.COM/a", "a.b/c", "a/b_c", "a/b__c", "a/b---c", "a/b.c", "x-y.example/a0/b9",
		"h:1/a", strings.Repeat("a", 255),
	}
	bad := []string{
		"", "A", "a/B", "a/", "/a", "a//b", "a/-b", "a/b-", "a/b_", "a/_b", "a/b___c", "a/b..c", "a/.b",
		"a/b c", "a/b\nc", "a:1", "a/b:1", "a/b@x", "!./00", ".\xd6/00", "ex ample.com/a", "-h.com/a",
		"h-.com/a", "h..com/a", "h.com:/a", "h.com:123456/a", "h.com:x/a", "h_x.com/a", "ghcr.io/",
		strings.Repeat("a", 256), "ghcr.io/é",
	}
	for _, n := range good {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q): %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidName(n); err == nil {
			t.Errorf("ValidName(%q) accepted", n)
		}
	}
}

func TestParse(t *testing.T) {
	if r, err := Parse("ghcr.io/eoap/crop:v1@" + d1); err != nil || r.Repo != "ghcr.io/eoap/crop" {
		t.Errorf("Parse: %+v %v", r, err)
	}
	for _, bad := range []string{"!./00:0@" + d1, "ghcr.io/Eoap/crop:v1", "ghcr.io/eoap/crop\ndockerImageId: x:v1@" + d1} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                         "docker.io/library/busybox",
		"library/busybox":                 "docker.io/library/busybox",
		"docker.io/library/busybox":       "docker.io/library/busybox",
		"index.docker.io/library/busybox": "docker.io/library/busybox",
		"docker.io/busybox":               "docker.io/library/busybox",
		"eoap/crop":                       "docker.io/eoap/crop",
		"ghcr.io/eoap/crop":               "ghcr.io/eoap/crop",
		"localhost/x":                     "localhost/x",
		"localhost:5000/x":                "localhost:5000/x",
	} {
		t.Run(fmt.Sprint(in), func(t *testing.T) {
			if got := Normalize(in); got != want {
				t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

// TestTagBoundaries: every character class at the start and the end of a
// tag, 128 characters and 129.
func TestTagBoundaries(t *testing.T) {
	good := []string{"_", "a", "Z", "0", "a.", "a-", "a_", "A.b-c_D9", strings.Repeat("t", 128), "_" + strings.Repeat(".", 127)}
	bad := []string{".a", "-a", "a/b", "a b", "a+b", "a@b", "é", strings.Repeat("t", 129), "a\n"}
	for _, tag := range good {
		if _, err := Split("r/x:" + tag); err != nil {
			t.Errorf("tag %q refused: %v", tag, err)
		}
	}
	for _, tag := range bad {
		if r, err := Split("r/x:" + tag); err == nil && r.Tag == tag {
			t.Errorf("tag %q accepted", tag)
		}
	}
	// A port is not a tag; a tag after a port is.
	if r, err := Split("localhost:5000/x"); err != nil || r.Tag != "" || r.Repo != "localhost:5000/x" {
		t.Errorf("port as tag: %+v %v", r, err)
	}
	if r, err := Split("localhost:5000/x:v1"); err != nil || r.Tag != "v1" {
		t.Errorf("tag after a port: %+v %v", r, err)
	}
}

// TestCharacterClassBoundaries: the bytes just outside each character range
// the grammar allows ('/' and ':' around the digits, '`' and '{' around the
// lowercase letters, '@' and '[' around the uppercase ones, 'g' after the hex
// letters) are refused wherever the range is checked, and the range's own
// ends are accepted.
func TestCharacterClassBoundaries(t *testing.T) {
	hex := func(c byte) string { return "sha256:" + strings.Repeat("a", 63) + string(c) }
	for c, ok := range map[byte]bool{'0': true, '9': true, 'a': true, 'f': true, '/': false, ':': false, '`': false, 'g': false, 'A': false} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			if got := isSHA256Digest(hex(c)); got != ok {
				t.Errorf("digest ending in %q: %v, want %v", c, got, ok)
			}
		})
	}
	for c, ok := range map[byte]bool{'a': true, 'z': true, '0': true, '9': true, '`': false, '{': false, '/': false, ':': false, 'A': false} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			if got := isAlnum(c); got != ok {
				t.Errorf("isAlnum(%q) = %v", c, got)
			}
			if got := validComponent("x" + string(c) + "y"); got != ok {
				t.Errorf("component x%cy: %v, want %v", c, got, ok)
			}
		})
	}
	for c, ok := range map[byte]bool{'a': true, 'z': true, 'A': true, 'Z': true, '0': true, '9': true, '_': true, '.': true, '-': true,
		'`': false, '{': false, '@': false, '[': false, '/': false, ':': false, '^': false} {
		if got := ValidTag("v" + string(c)); got != ok {
			t.Errorf("tag v%c: %v, want %v", c, got, ok)
		}
	}
	for host, ok := range map[string]bool{
		"a.example": true, "A.Example": true, "Zz.example": true, "z9.example": true, "a-b.example": true,
		"a@.example": false, "a[.example": false, "a`.example": false, "a{.example": false,
		"h.example:1": true, "h.example:65535": true, "h.example:99999": true, "h.example:123456": false,
		"h.example:": false, "h.example:1/": false, "h.example:a1": false,
	} {
		t.Run(fmt.Sprint(host), func(t *testing.T) {
			if got := validHost(host); got != ok {
				t.Errorf("validHost(%q) = %v, want %v", host, got, ok)
			}
		})
	}
	// A tag given with the name is named as such, on the last component only.
	if err := ValidName("ghcr.io/eoap/crop:1.0"); err == nil || !strings.Contains(err.Error(), "without tag") {
		t.Errorf("name with a tag: %v", err)
	}
	if err := ValidName("ghcr.io/eo:ap/crop"); err == nil || strings.Contains(err.Error(), "without tag") {
		t.Errorf("':' inside the path is not a tag: %v", err)
	}
	if err := ValidName("ghcr.io/eoap/crop:Bad Tag"); err == nil || strings.Contains(err.Error(), "without tag") {
		t.Errorf("an invalid tag is not a tag: %v", err)
	}
}

// TestComponentSeparators: a path component's separators (".", "_", "__",
// one or more "-") each sit between alphanumerics; two in a row, or one at
// an end, are refused.
func TestComponentSeparators(t *testing.T) {
	for c, ok := range map[string]bool{
		"a.b": true, "a_b": true, "a__b": true, "a-b": true, "a---b": true, "a1.b2_c3__d4-e5": true,
		"a.-b": false, "a._b": false, "a..b": false, "a___b": false, "a_.b": false, "a-.b": false, "a-_b": false,
		".a": false, "a.": false, "_a": false, "a_": false, "-a": false, "a-": false, "": false,
	} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			if got := validComponent(c); got != ok {
				t.Errorf("validComponent(%q) = %v, want %v", c, got, ok)
			}
		})
	}
}

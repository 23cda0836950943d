package imageref

import (
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
		r, err := Split(tc.in)
		if err != nil || r.Repo != tc.repo || r.Tag != tc.tag || r.Digest != tc.digest {
			t.Errorf("Split(%q) = %+v, %v", tc.in, r, err)
		}
		if r.String() != tc.in {
			t.Errorf("String() = %q, want %q", r.String(), tc.in)
		}
	}
	for _, bad := range []string{"x@sha256:12", "x@sha256:" + strings.Repeat("A", 64), "x@sha256:" + strings.Repeat("g", 64), "x@sha256:" + strings.Repeat("0", 65), "x@md5:" + strings.Repeat("0", 64), "@" + d1, ":tag", "x:-bad", "x:" + strings.Repeat("t", 129)} {
		if _, err := Split(bad); err == nil {
			t.Errorf("Split(%q) accepted", bad)
		}
	}
}

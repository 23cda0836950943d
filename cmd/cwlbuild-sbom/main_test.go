package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestUsage: no image, a reference without a digest, an unknown format,
// --no-attach without --output, and an archive without --output are
// refused before any registry or file is read.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage:"},
		{[]string{"reg.example/a:1"}, 1, "want REPOSITORY[:TAG]@sha256:DIGEST"},
		{[]string{"--format", "swid", "reg.example/a@sha256:" + strings.Repeat("a", 64)}, 1, `SBOM format "swid"`},
		{[]string{"--no-attach", "reg.example/a@sha256:" + strings.Repeat("a", 64)}, 1, "would keep nothing"},
		// An archive's SBOM has no registry to go to: it needs --output,
		// and every input is checked before the first is catalogued.
		{[]string{"docker-archive:/nonexistent/a.tar"}, 1, "written into --output DIR: none given"},
		{[]string{"--output", t.TempDir(), "docker-archive:/nonexistent/a.tar", "reg.example/a:1"}, 1, "want REPOSITORY[:TAG]@sha256:DIGEST"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}

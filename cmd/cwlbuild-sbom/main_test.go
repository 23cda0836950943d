package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestUsage: no image, a reference without a digest, an unknown format,
// and --no-attach without --output are refused before any registry is
// asked.
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
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}

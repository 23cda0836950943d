package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecRefused: a spec that does not decode, or names an unknown key,
// fails before any cluster is asked, with exit 1 and the file named; a
// missing --spec is a usage error.
func TestSpecRefused(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown.json": `{"name": "r", "image": "i:1", "imagePullPolicy": "Always"}`,
		"noname.json":  `{"image": "i:1"}`,
		"broken.json":  `{"name":`,
	} {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(body), 0o600)
		var stdout, stderr bytes.Buffer
		if code := run([]string{"run", "--spec", f}, strings.NewReader(""), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), f) {
			t.Errorf("%s: exit %d, stderr %q; want 1 naming the file", name, code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run"}, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage:") {
		t.Errorf("no --spec: exit %d, %q", code, stderr.String())
	}
}

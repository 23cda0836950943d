package build

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExecRetriesTransientFaults: a command that fails with a runtime's
// transient fault runs once more, saying so, and its second outcome counts;
// any other failure is not retried.
func TestExecRetriesTransientFaults(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	// Fails the first time with what buildah's chroot isolation prints when
	// the kernel refuses to seal its memfd copy, then succeeds.
	flaky := filepath.Join(dir, "flaky")
	os.WriteFile(flaky, []byte("#!/bin/sh\necho run >> "+runs+"\n[ \"$(wc -l < "+runs+")\" -ge 2 ] && exit 0\necho 'Close_Fd sealing memfd copy: Device or resource busy' >&2\nexit 1\n"), 0o755)
	broken := filepath.Join(dir, "broken")
	os.WriteFile(broken, []byte("#!/bin/sh\necho run >> "+runs+"\necho 'Error: building at STEP \"RUN false\": exit status 1' >&2\nexit 1\n"), 0o755)

	var stderr bytes.Buffer
	if err := Exec(&bytes.Buffer{}, &stderr)(context.Background(), Command{flaky}); err != nil {
		t.Fatalf("a transient fault was not retried: %v\n%s", err, stderr.String())
	}
	if data, _ := os.ReadFile(runs); strings.Count(string(data), "run") != 2 || !strings.Contains(stderr.String(), "running it once more") {
		t.Errorf("runs %q, stderr %s", data, stderr.String())
	}
	os.Remove(runs)
	if err := Exec(&bytes.Buffer{}, &bytes.Buffer{})(context.Background(), Command{broken}); err == nil {
		t.Fatal("a failing build succeeded")
	}
	if data, _ := os.ReadFile(runs); strings.Count(string(data), "run") != 1 {
		t.Errorf("a real failure was retried: %q", data)
	}
}

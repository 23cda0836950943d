package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Skip and Fatalf are recorded, not run.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Skip(args ...any)                  { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

// TestOptional: outside CI a missing optional part skips the test and lists
// it, with the command that makes it, for the summary; under CI it fails.
func TestOptional(t *testing.T) {
	file := filepath.Join(ModuleRoot(), MissingFile)
	before, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	defer func() {
		if before == nil {
			os.Remove(file)
		} else {
			os.WriteFile(file, before, 0o644)
		}
	}()
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	Optional(r, "the Calrissian image", "scripts/setup.sh")
	listed, _ := os.ReadFile(file)
	want := t.Name() + ": the Calrissian image is not available; make it with: scripts/setup.sh"
	if r.failed != "" || r.skipped != want || !strings.Contains(string(listed), want+"\n") {
		t.Errorf("outside CI: failed %q, skipped %q, listed %q", r.failed, r.skipped, listed)
	}
	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	Optional(r, "the Calrissian image", "scripts/setup.sh")
	if !strings.Contains(r.failed, "the Calrissian image is not available") || r.skipped != "" {
		t.Errorf("under CI: failed %q, skipped %q", r.failed, r.skipped)
	}
}

package skaffold

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestSkaffoldPinsAgree: the schema this module renders with (go.mod) and
// the Skaffold CLI the chain and the tests run (scripts/skaffold/go.mod) are
// one release: a bump of one alone would generate configs the other reads
// differently.
func TestSkaffoldPinsAgree(t *testing.T) {
	re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/GoogleContainerTools/skaffold/v2 (v\S+)`)
	var versions []string
	for _, f := range []string{"go.mod", filepath.Join("scripts", "skaffold", "go.mod")} {
		data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(), f))
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s does not require Skaffold", f)
		}
		versions = append(versions, string(m[1]))
	}
	if versions[0] != versions[1] {
		t.Errorf("go.mod pins Skaffold %s, scripts/skaffold/go.mod %s: bump both", versions[0], versions[1])
	}
}

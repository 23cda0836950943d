package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseProject: any bytes either load or fail with an error that names
// the file; nothing panics, and a loaded project plans.
func FuzzParseProject(f *testing.F) {
	files, _ := filepath.Glob("../testdata/projects/*/project.toml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("[tools.a]\ncontext = \"x\"\n[tools.a.buildArgs]\nk = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProject("fuzz/project.toml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz/project.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		plan := NewPlan(p)
		if len(plan.Artifacts) != len(p.ToolOrder) {
			t.Fatalf("%d artifacts for %d tools", len(plan.Artifacts), len(p.ToolOrder))
		}
	})
}

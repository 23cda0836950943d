package cwlpatch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TestEveryProblemReported: a plan with several problems reports all of
// them, each reachable through errors.As as one element of builder.Errors.
func TestEveryProblemReported(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\n$graph:\n- {class: CommandLineTool, id: a}\n- {class: Workflow, id: main, steps: []}\n"), 0o644)
	toml := "[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n" +
		"[tools.x]\ncontext = \".\"\npath = \"app.cwl#nope\"\n" +
		"[tools.y]\ncontext = \".\"\npath = \"app.cwl#main\"\n" +
		"[tools.z]\ncontext = \".\"\npath = \"gone.cwl#a\"\n"
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true, SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	if errs := CheckProject(p); len(errs) != 3 {
		t.Errorf("CheckProject: %d problems, want 3: %v", len(errs), errs)
	}
	d := "@sha256:" + strings.Repeat("1", 64)
	out := &buildjson.Output{Builds: []buildjson.Build{{ImageName: "localhost:5000/x", Tag: "localhost:5000/x" + d}}}
	matches, _, err := MatchBuilds(p, out, "build.json", PinTagDigest)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Plan(p, matches)
	var list builder.Errors
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("Plan: %v", err)
	}
	for i, want := range []string{`no process with id "nope"`, `names process "main", a Workflow`, "gone.cwl: no such file"} {
		found := false
		for _, e := range list {
			found = found || strings.Contains(e.Error(), want)
		}
		if !found {
			t.Errorf("problem %d (%s) missing from %v", i, want, list)
		}
	}
}

package cwlpatch

import (
	"errors"
	"fmt"
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

// TestPlanEveryCopy: a tool copied into two workflow files, and a second
// tool whose DockerRequirement comes from an $import, are pinned in every
// place; the result says where, per tool, and a second plan changes nothing.
func TestPlanEveryCopy(t *testing.T) {
	dir := t.TempDir()
	tool := "- class: CommandLineTool\n  id: a\n  hints:\n    DockerRequirement:\n      dockerPull: old-a\n"
	os.WriteFile(filepath.Join(dir, "one.cwl"), []byte("cwlVersion: v1.2\n$graph:\n"+tool+
		"- class: CommandLineTool\n  id: b\n  requirements:\n    - $import: b-docker.yml\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "two.cwl"), []byte("cwlVersion: v1.2\n$graph:\n"+tool), 0o644)
	os.WriteFile(filepath.Join(dir, "b-docker.yml"), []byte("class: DockerRequirement\ndockerPull: old-b\n"), 0o644)
	toml := "[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n" +
		"[tools.a]\ncontext = \".\"\npath = [\"one.cwl#a\", \"two.cwl#a\"]\n" +
		"[tools.b]\ncontext = \".\"\npath = \"one.cwl#b\"\n" +
		"[[workflows]]\npath = \"one.cwl#a\"\n[[workflows]]\npath = \"two.cwl#a\"\n"
	p := loadTOML(t, dir, toml)
	d := "@sha256:" + strings.Repeat("1", 64)
	out := &buildjson.Output{Builds: []buildjson.Build{
		{ImageName: "localhost:5000/a", Tag: "localhost:5000/a:1" + d},
		{ImageName: "localhost:5000/b", Tag: "localhost:5000/b:1" + d},
	}}
	matches, _, err := MatchBuilds(p, out, "build.json", PinTagDigest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Plan(p, matches)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, pin := range res.Pinned {
		got[pin.Tool] = fmt.Sprintf("%s %d %v %v", pin.Ref, pin.Processes, pin.Places, pin.Changed)
	}
	want := map[string]string{
		"a": "localhost:5000/a:1" + d + " 2 [one.cwl:7 two.cwl:7] true",
		"b": "localhost:5000/b:1" + d + " 1 [b-docker.yml:2] true",
	}
	for tool := range want {
		if got[tool] != want[tool] {
			t.Errorf("tool %s: %s\nwant    %s", tool, got[tool], want[tool])
		}
	}
	if n := len(res.Changed()); n != 3 {
		t.Errorf("%d files change, want 3", n)
	}
	for _, c := range res.Changed() {
		if !strings.Contains(string(c.New), "dockerPull: localhost:5000/") || strings.Contains(string(c.New), "old-") {
			t.Errorf("%s:\n%s", c.File, c.New)
		}
		if err := os.WriteFile(c.Path, c.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	again, err := Plan(p, matches)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Changed()); n != 0 {
		t.Errorf("a second plan changes %d files", n)
	}
}

package cwlpatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/filelock"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TestEveryProblemReported: a plan with several problems reports all of
// them, each one error of the list the error unwraps to.
func TestEveryProblemReported(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\n$graph:\n- {class: CommandLineTool, id: a}\n- {class: Workflow, id: main, steps: []}\n"), 0o644)
	toml := localRegistry +
		"[tools.x]\ncontext = \".\"\npath = \"app.cwl#nope\"\n" +
		"[tools.y]\ncontext = \".\"\npath = \"app.cwl#main\"\n" +
		"[tools.z]\ncontext = \".\"\npath = \"gone.cwl#a\"\n"
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true, SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	if diags := Check(p); len(diags) != 3 || diags[0].Severity != builder.SeverityError {
		t.Errorf("Check: %d problems, want 3 errors: %v", len(diags), diags)
	}
	d := testDigest
	out := &buildjson.Output{Builds: []buildjson.Build{{ImageName: "localhost:5000/x", Tag: "localhost:5000/x" + d}}}
	matches, _, err := matchBuilds(p, out, "build.json", builder.PinTagDigest)
	if err != nil {
		t.Fatal(err)
	}
	_, err = planEdits(p, matches)
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 3 {
		t.Fatalf("Plan: %v", err)
	}
	list := joined.Unwrap()
	for i, want := range []string{`no process with id "nope"`, `names "main", a Workflow`, "gone.cwl: no such file"} {
		found := false
		for _, e := range list {
			found = found || strings.Contains(e.Error(), want)
		}
		if !found {
			t.Errorf("problem %d (%s) missing from %v", i, want, list)
		}
	}
}

// TestPlanEveryCopy: a tool's copy in another [[workflows]] file is
// pinned with the one its path names (a Workflow of the same id in that file
// is not a copy), a second tool whose DockerRequirement comes from an
// $import is pinned in the imported file, a file listed twice in
// [[workflows]] counts once, the result lists tools in project.toml order
// whatever order build.json has, with where each was pinned, and a second
// plan changes nothing.
func TestPlanEveryCopy(t *testing.T) {
	dir := t.TempDir()
	tool := "- class: CommandLineTool\n  id: a\n  hints:\n    DockerRequirement:\n      dockerPull: old-a\n"
	one := "cwlVersion: v1.2\n$graph:\n" + tool + "- class: CommandLineTool\n  id: b\n  requirements:\n    - $import: b-docker.yml\n"
	two := "cwlVersion: v1.2\n$graph:\n" + tool + "- class: Workflow\n  id: b\n  inputs: []\n  outputs: []\n  steps: []\n"
	os.WriteFile(filepath.Join(dir, "one.cwl"), []byte(one), 0o644)
	os.WriteFile(filepath.Join(dir, "two.cwl"), []byte(two), 0o644)
	os.WriteFile(filepath.Join(dir, "b-docker.yml"), []byte("class: DockerRequirement\ndockerPull: old-b\n"), 0o644)
	toml := localRegistry +
		"[tools.a]\ncontext = \".\"\npath = \"one.cwl#a\"\n" +
		"[tools.b]\ncontext = \".\"\npath = \"one.cwl#b\"\n" +
		"[[workflows]]\npath = \"one.cwl#a\"\n[[workflows]]\npath = \"two.cwl#a\"\n[[workflows]]\npath = \"one.cwl#b\"\n"
	p := loadTOML(t, dir, toml)
	d := testDigest
	out := &buildjson.Output{Builds: []buildjson.Build{
		{ImageName: "localhost:5000/b", Tag: "localhost:5000/b:1" + d},
		{ImageName: "localhost:5000/a", Tag: "localhost:5000/a:1" + d},
	}}
	matches, _, err := matchBuilds(p, out, "build.json", builder.PinTagDigest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := planEdits(p, matches)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pin := range res.Pinned {
		got = append(got, fmt.Sprintf("%s %s %d %v %v", pin.Tool, pin.Ref, pin.Processes, pin.Places, pin.Changed))
	}
	want := []string{
		"a localhost:5000/a:1" + d + " 2 [one.cwl:7 two.cwl:7] true",
		"b localhost:5000/b:1" + d + " 1 [b-docker.yml:2] true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pinned:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	news := map[string]string{}
	for _, c := range res.Changed() {
		news[c.File] = string(c.New)
		if err := os.WriteFile(c.Path, c.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pinA := strings.Replace(tool, "old-a", "localhost:5000/a:1"+d, 1)
	wantNew := map[string]string{
		"one.cwl":      strings.Replace(one, tool, pinA, 1),
		"two.cwl":      strings.Replace(two, tool, pinA, 1),
		"b-docker.yml": "class: DockerRequirement\ndockerPull: localhost:5000/b:1" + d + "\n",
	}
	for f, w := range wantNew {
		if news[f] != w {
			t.Errorf("%s:\n%s\nwant:\n%s", f, news[f], w)
		}
	}
	if len(news) != len(wantNew) {
		t.Errorf("%d files change, want %d", len(news), len(wantNew))
	}
	again, err := planEdits(p, matches)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Changed()); n != 0 {
		t.Errorf("a second plan changes %d files", n)
	}
	for _, pin := range again.Pinned {
		if pin.Changed {
			t.Errorf("a second plan says %s changed", pin.Tool)
		}
	}
}

// TestPlanSharedPulls: a dockerPull shared through a YAML anchor is pinned
// when every process sharing it is pinned to the same image, and refused
// (naming the other user and why) when one is another tool's, is not
// pinned, or is a step's requirement.
func TestPlanSharedPulls(t *testing.T) {
	const head = "cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  hints: &h\n    DockerRequirement:\n      dockerPull: old\n"
	for _, tc := range []struct{ name, cwl, tools, want string }{
		{"same tool", head + "- class: CommandLineTool\n  id: a2\n  hints: *h\n",
			"[tools.a]\ncontext = \".\"\npath = [\"app.cwl#a\", \"app.cwl#a2\"]\n", ""},
		{"another tool's process", head + "- class: CommandLineTool\n  id: b\n  hints: *h\n",
			"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\n[tools.b]\ncontext = \".\"\npath = \"app.cwl#b\"\n",
			`app.cwl:5: anchor &h: process "a" (tool "a") shares its dockerPull with process "b", which is pinned to tool "b"'s image: give each its own DockerRequirement, or list both in tools.a.path`},
		{"a process no tool pins", head + "- class: CommandLineTool\n  id: c\n  hints: *h\n",
			"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\n",
			`app.cwl:5: anchor &h: process "a" (tool "a") shares its dockerPull with process "c", which is not pinned`},
		{"anchor on the scalar", "cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  hints:\n    DockerRequirement:\n      dockerPull: &p old\n- class: CommandLineTool\n  id: c\n  hints:\n    DockerRequirement:\n      dockerPull: *p\n",
			"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\n",
			`app.cwl:7: anchor &p: process "a" (tool "a") shares its dockerPull with process "c", which is not pinned`},
		{"an imported hints section", "cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  hints:\n    $import: hints.yml\n- class: CommandLineTool\n  id: c\n  hints:\n    $import: hints.yml\n",
			"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\n",
			`hints.yml:2 (hints.yml, imported at app.cwl:6): process "a" (tool "a") shares its dockerPull with process "c", which is not pinned`},
		{"a step's requirement", head + "- class: Workflow\n  id: main\n  inputs: []\n  outputs: []\n  steps:\n    s:\n      run: '#a'\n      in: []\n      out: []\n      requirements: *h\n",
			"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\n",
			`shares its dockerPull with step "s" of workflow "main", which is not pinned`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(tc.cwl), 0o644)
			os.WriteFile(filepath.Join(dir, "hints.yml"), []byte("DockerRequirement:\n  dockerPull: old\n"), 0o644)
			p := loadTOML(t, dir, localRegistry+tc.tools)
			res, err := planEdits(p, matchAll(t, p))
			if tc.want == "" {
				if err != nil || len(res.Changed()) != 1 || res.Pinned[0].Processes != 2 || len(res.Pinned[0].Places) != 1 {
					t.Fatalf("%v %+v", err, res)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestPlaces: a pin added as a new requirement is placed at the line the
// new entry starts on (the start of a line), and an empty dockerPull that
// opens an imported file (byte 0) is filled in.
func TestPlaces(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  requirements:\n    - class: InlineJavascriptRequirement\n"+
		"- class: CommandLineTool\n  id: b\n  requirements:\n    - $import: b.yml\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.yml"), []byte("dockerPull:\nclass: DockerRequirement\n"), 0o644)
	p := loadTOML(t, dir, localRegistry+"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\n[tools.b]\ncontext = \".\"\npath = \"app.cwl#b\"\n")
	res, err := planEdits(p, matchAll(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Pinned[0].Places, res.Pinned[1].Places); got != "[app.cwl:6] [b.yml:1]" {
		t.Errorf("places %s", got)
	}
	for _, c := range res.Changed() {
		if c.File == "b.yml" && string(c.New) != "dockerPull: localhost:5000/b:1"+testDigest+"\nclass: DockerRequirement\n" {
			t.Errorf("b.yml:\n%s", c.New)
		}
	}
}

// TestPatchWrites: Patch with Write replaces the changed files and leaves
// no journal; without Write it changes nothing; a journal left by a killed
// run makes a run that must not write refuse, and a writing run completes
// it first.
func TestPatchWrites(t *testing.T) {
	p, cwl := oneToolPackage(t)
	orig, _ := os.ReadFile(cwl)
	out := buildAll(p)
	d := testDigest
	ctx := context.Background()
	oc, err := Patch(ctx, p, out, Options{Pin: builder.PinTagDigest, Source: "build.json"})
	if err != nil || len(oc.Changed()) != 1 || len(oc.matches) != 1 || len(oc.Unbuilt) != 0 {
		t.Fatalf("dry run: %v %+v", err, oc)
	}
	if data, _ := os.ReadFile(cwl); string(data) != string(orig) {
		t.Error("a run without Write changed the file")
	}
	// A killed run's journal: the dry run refuses, the writing run
	// completes it (nothing was staged: 0 files) and goes on.
	os.WriteFile(journalPath(p), []byte(`{"renames":[]}`), 0o644)
	if _, err := Patch(ctx, p, out, Options{Pin: builder.PinTagDigest}); err == nil || !strings.Contains(err.Error(), "was killed while replacing files") {
		t.Errorf("dry run with a journal: %v", err)
	}
	oc, err = Patch(ctx, p, out, Options{Pin: builder.PinTagDigest, Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(cwl); !strings.Contains(string(data), "dockerPull: localhost:5000/a:1"+d+"\n") {
		t.Errorf("not written:\n%s", data)
	}
	if _, err := os.Stat(journalPath(p)); err == nil {
		t.Error("the journal was left")
	}
	// A build of no tool of the project is an error; a second run
	// changes nothing.
	if _, err := Patch(ctx, p, &buildjson.Output{Builds: []buildjson.Build{{ImageName: "localhost:5000/zz", Tag: "localhost:5000/zz:1" + d}}}, Options{Pin: builder.PinTagDigest}); err == nil {
		t.Error("a build of no tool was accepted")
	}
	if oc, err := Patch(ctx, p, out, Options{Pin: builder.PinTagDigest, Write: true}); err != nil || len(oc.Changed()) != 0 {
		t.Errorf("second run: %v %d changed", err, len(oc.Changed()))
	}
}

// TestUnpinned: --check's and a release's lists name, with file and line,
// each process not pinned by digest, without a dockerPull, with no
// DockerRequirement, or overridden by its workflow.
func TestUnpinned(t *testing.T) {
	dir := t.TempDir()
	d := testDigest
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\n$graph:\n"+
		"- class: CommandLineTool\n  id: pinned\n  requirements:\n    DockerRequirement:\n      dockerPull: r.io/pinned"+d+"\n"+
		"- class: CommandLineTool\n  id: floating\n  hints:\n    DockerRequirement:\n      dockerPull: r.io/b:1\n"+
		"- class: CommandLineTool\n  id: bare\n"+
		"- class: CommandLineTool\n  id: nopull\n  hints:\n    DockerRequirement:\n      dockerImageId: x\n"+
		"- class: Workflow\n  id: main\n  requirements:\n    DockerRequirement:\n      dockerPull: r.io/w"+d+"\n  steps:\n    s: {run: '#hinted'}\n    t: {run: '#bare'}\n"+
		"- class: CommandLineTool\n  id: hinted\n  hints:\n    DockerRequirement:\n      dockerPull: r.io/hinted"+d+"\n"+
		"- class: CommandLineTool\n  id: foreign\n  hints:\n    DockerRequirement:\n      dockerPull: r.io/floating"+d+"\n"), 0o644)
	toml := "[build]\nengine = \"local\"\n[build.local]\nregistry = \"r.io\"\n"
	for _, id := range []string{"pinned", "floating", "bare", "nopull", "hinted", "foreign"} {
		toml += "[tools." + id + "]\ncontext = \".\"\npath = \"app.cwl#" + id + "\"\n"
	}
	p := loadTOML(t, dir, toml+"[[workflows]]\npath = \"app.cwl#main\"\n")
	problems, checked, err := unpinned(p)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, pr := range problems {
		lines = append(lines, pr.Message)
		if pr.Tool == nil {
			t.Errorf("a tool's process reported as external: %s", pr.Message)
		}
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		`app.cwl:12: tool "floating": process "floating" pulls r.io/b:1, not pinned by digest`,
		`app.cwl:13: tool "bare": process "bare" has no DockerRequirement.dockerPull`,
		`app.cwl:19: tool "nopull": process "nopull" has a DockerRequirement without a dockerPull string`,
		`requires a DockerRequirement (dockerPull r.io/w` + d + `) that overrides the pin of "hinted"`,
		`app.cwl:37: tool "foreign": process "foreign" is pinned to r.io/floating` + d + `, which is not an image of the tool's repository`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	// A process with no DockerRequirement at all (bare, run by main) is
	// reported as such, not also as overridden by the workflow.
	if checked != 6 || len(lines) != 5 || strings.Contains(all, `"pinned"`) {
		t.Errorf("%d checked, %d lines:\n%s", checked, len(lines), all)
	}
}

// TestLineBreaksRefused: line breaks YAML counts and cwlpatch's splices
// would not (a lone carriage return, NEL, LS, PS) are refused with their
// line; \r\n is fine.
func TestLineBreaksRefused(t *testing.T) {
	for in, want := range map[string]string{
		"a: 1\r\nb: 2\r\n":        "",
		"a: 1\nb: 2\r":            "t.cwl:2: a carriage return without a line feed",
		"a: 1\rb: 2\n":            "t.cwl:1: a carriage return without a line feed",
		"a: 1\nb: \xc2\x85":       "t.cwl:2: a Unicode line or paragraph separator",
		"a: \xe2\x80\xa8\n":       "t.cwl:1: a Unicode line or paragraph separator",
		"a: 1\n\nb: \xe2\x80\xa9": "t.cwl:3: a Unicode line or paragraph separator",
		"a: \xe2\x80\xaa\n":       "",
		"a: \xc2\x86\n":           "",
	} {
		err := checkLineBreaks("t.cwl", []byte(in))
		if want == "" && err != nil || want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// TestPatchWaitsForLock: a writing run waits while another holds the lock
// on a CWL file it rewrites, then writes.
func TestPatchWaitsForLock(t *testing.T) {
	p, cwl := oneToolPackage(t)
	unlock, err := filelock.TryLock(cwl)
	if err != nil {
		t.Fatal(err)
	}
	out := buildAll(p)
	done := make(chan error)
	go func() {
		_, err := Patch(context.Background(), p, out, Options{Pin: builder.PinTagDigest, Write: true})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Patch ran while the file was locked: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(cwl); !strings.Contains(string(data), "localhost:5000/a:1@sha256:") {
		t.Errorf("not written:\n%s", data)
	}
}

// TestFilesOnce: a CWL file named directly and through a symlink is one
// file to lock and rewrite.
func TestFilesOnce(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\n$graph:\n- {class: CommandLineTool, id: a}\n"), 0o644)
	os.Symlink("app.cwl", filepath.Join(dir, "link.cwl"))
	p := loadTOML(t, dir, "[build]\nengine = \"local\"\n[build.local]\nregistry = \"r.io\"\n[tools.a]\ncontext = \".\"\npath = \"link.cwl#a\"\n[[workflows]]\npath = \"app.cwl#a\"\n")
	real, _ := filepath.EvalSymlinks(filepath.Join(dir, "app.cwl"))
	if got := cwlFiles(p); len(got) != 1 || got[0] != real {
		t.Errorf("Files = %q, want [%s]", got, real)
	}
}

// localRegistry is the [build] section of the test packages: local
// builds pushed to localhost:5000.
const localRegistry = "[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n"

// testDigest is the digest of every test build.
const testDigest = "@sha256:1111111111111111111111111111111111111111111111111111111111111111"

// buildAll is a build output naming every tool of p as
// localhost:5000/TOOL:1 with testDigest, in project.toml order.
func buildAll(p *builder.Plan) *buildjson.Output {
	out := &buildjson.Output{}
	for _, a := range p.Artifacts {
		out.Builds = append(out.Builds, buildjson.Build{ImageName: "localhost:5000/" + a.Tool, Tag: "localhost:5000/" + a.Tool + ":1" + testDigest})
	}
	return out
}

// matchAll matches buildAll(p) to p's tools.
func matchAll(t *testing.T, p *builder.Plan) []match {
	t.Helper()
	matches, _, err := matchBuilds(p, buildAll(p), "build.json", builder.PinTagDigest)
	if err != nil {
		t.Fatal(err)
	}
	return matches
}

// oneToolPackage is a package whose tool a runs in app.cwl, pulling "old".
func oneToolPackage(t *testing.T) (*builder.Plan, string) {
	t.Helper()
	dir := t.TempDir()
	cwl := filepath.Join(dir, "app.cwl")
	os.WriteFile(cwl, []byte("cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  hints:\n    DockerRequirement:\n      dockerPull: old\n"), 0o644)
	return loadTOML(t, dir, localRegistry+"[tools.a]\ncontext = \".\"\npath = \"app.cwl#a\"\n"), cwl
}

// TestFollowedFilesStayInside: a `run:` or an `$import` that leaves the
// package, by path or through a symlink committed in it, is an error naming
// the file and line, and the file outside is never read into the plan nor
// written; with AllowOutsidePaths it is followed.
func TestFollowedFilesStayInside(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "tool.cwl"), []byte("cwlVersion: v1.2\nclass: CommandLineTool\nhints: {DockerRequirement: {dockerPull: localhost:5000/a:old}}\n"), 0o644)
	os.WriteFile(filepath.Join(outside, "docker.yml"), []byte("class: DockerRequirement\ndockerPull: localhost:5000/a:old\n"), 0o644)
	const tool = "cwlVersion: v1.2\nclass: CommandLineTool\nhints: {DockerRequirement: {dockerPull: localhost:5000/a:old}}\n"
	for _, tc := range []struct{ name, steps, tool, want string }{
		{"run by absolute path", "  s: {run: OUTSIDE/tool.cwl, in: [], out: []}\n", tool, "wf.cwl:6: run OUTSIDE/tool.cwl: outside the package directory"},
		{"run through a symlink", "  s: {run: link/tool.cwl, in: [], out: []}\n", tool, "wf.cwl:6: run link/tool.cwl: outside the package directory"},
		{"import through a symlink", "  s: {run: a.cwl, in: [], out: []}\n", "cwlVersion: v1.2\nclass: CommandLineTool\nhints:\n- $import: link/docker.yml\n",
			"a.cwl:4: $import link/docker.yml: outside the package directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Symlink(outside, filepath.Join(dir, "link"))
			wf := "cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n" + strings.ReplaceAll(tc.steps, "OUTSIDE", outside)
			os.WriteFile(filepath.Join(dir, "wf.cwl"), []byte(wf), 0o644)
			os.WriteFile(filepath.Join(dir, "a.cwl"), []byte(tc.tool), 0o644)
			p := loadTOML(t, dir, localRegistry+"[tools.a]\ncontext = \".\"\npath = \"a.cwl\"\n[[workflows]]\npath = \"wf.cwl\"\n")
			want := strings.ReplaceAll(tc.want, "OUTSIDE", outside)
			if _, err := planEdits(p, matchAll(t, p)); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want %q", err, want)
			}
			p.AllowOutsidePaths = true
			if _, err := planEdits(p, matchAll(t, p)); err != nil {
				t.Errorf("allowed: %v", err)
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(outside, "tool.cwl")); !strings.Contains(string(data), ":old") {
		t.Errorf("the file outside was written: %s", data)
	}
}

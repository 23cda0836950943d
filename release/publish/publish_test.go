package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/testenv"
)

const pinnedTool = `  - class: CommandLineTool
    id: %s
    hints:
      DockerRequirement:
        dockerPull: %s
    baseCommand: [x]
    inputs: []
    outputs: []
`

// writePackage writes a package with one tool and two workflow files, one
// YAML and one JSON, the tool pinned as pull says.
func writePackage(t *testing.T, version, pull string) *builder.Plan {
	return writePackageAt(t, "ghcr.io/eoap", version, pull)
}

// writePackageAt is writePackage with the cluster registry given.
func writePackageAt(t *testing.T, registry, version, pull string) *builder.Plan {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	yml := "cwlVersion: v1.2\n$graph:\n" + fmt.Sprintf(pinnedTool, "a", pull)
	os.WriteFile(filepath.Join(dir, "App-Flow.cwl"), []byte(yml), 0o644)
	js := fmt.Sprintf(`{"cwlVersion": "v1.2", "$graph": [{"class": "CommandLineTool", "id": "a", "hints": {"DockerRequirement": {"dockerPull": %q}}, "baseCommand": ["x"], "inputs": [], "outputs": []}]}`, pull)
	os.WriteFile(filepath.Join(dir, "packed.json"), []byte(js), 0o644)
	toml := fmt.Sprintf(`[project]
name = "p"
version = %q
[build]
engine = "cluster"
[build.cluster]
namespace = "ns"
registry = %q
[tools.a]
context = "a"
path = "App-Flow.cwl#a"
[[workflows]]
path = "App-Flow.cwl#a"
[[workflows]]
path = "packed.json#a"
[[workflows]]
path = "App-Flow.cwl#a"
`, version, registry)
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
	plan, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestPrepare: each workflow file once, named PREFIX/STEM (lowercase) with
// the version and extra tags, typed by its encoding, with the manifest's
// digest known before any push; refusals for a floating image and for a
// missing version.
func TestPrepare(t *testing.T) {
	digest := "sha256:" + strings.Repeat("1", 64)
	plan := writePackage(t, "1.2.0", "ghcr.io/eoap/a@"+digest)
	rs, err := Prepare(context.Background(), plan, Options{Tags: []string{"latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d releases, want 2 (one per file)", len(rs))
	}
	for i, want := range []struct{ repo, mt string }{{"ghcr.io/eoap/app-flow", MediaTypeYAML}, {"ghcr.io/eoap/packed", MediaTypeJSON}} {
		r := rs[i]
		if r.Repo != want.repo || strings.Join(r.Tags, ",") != "1.2.0,latest" || r.Artifact.Files[0].MediaType != want.mt {
			t.Errorf("release %d: %s %v %s", i, r.Repo, r.Tags, r.Artifact.Files[0].MediaType)
		}
		data, _ := os.ReadFile(r.Path)
		if string(r.Artifact.Files[0].Data) != string(data) {
			t.Errorf("%s: the artifact does not hold the file as it is on disk", r.File)
		}
		manifest, _ := r.Artifact.Manifest()
		var m map[string]any
		if err := json.Unmarshal(manifest, &m); err != nil || m["artifactType"] != ArtifactType || !strings.HasPrefix(r.Digest, "sha256:") {
			t.Errorf("manifest %s (%v)", manifest, err)
		}
		if ann := m["annotations"].(map[string]any); ann["org.opencontainers.image.version"] != "1.2.0" || ann["org.opencontainers.image.created"] != nil {
			t.Errorf("annotations %v", ann)
		}
	}
	again, _ := Prepare(context.Background(), plan, Options{Tags: []string{"latest"}})
	if again[0].Digest != rs[0].Digest {
		t.Error("the same file and version gave two digests")
	}
	if rs, err := Prepare(context.Background(), plan, Options{Registry: "127.0.0.1:5000/rel/"}); err != nil || rs[0].Repo != "127.0.0.1:5000/rel/app-flow" {
		t.Errorf("--registry: %v %v", rs, err)
	}

	floating := writePackage(t, "1.2.0", "ghcr.io/eoap/a:1.2.0")
	if _, err := Prepare(context.Background(), floating, Options{}); err == nil || strings.Count(err.Error(), "not pinned by digest") != 2 {
		t.Errorf("floating image: %v", err)
	}
	noVersion := writePackage(t, "", "ghcr.io/eoap/a@"+digest)
	if _, err := Prepare(context.Background(), noVersion, Options{}); err == nil || !strings.Contains(err.Error(), "[project] version is not set") {
		t.Errorf("no version: %v", err)
	}
	badTag := writePackage(t, "1.2.0", "ghcr.io/eoap/a@"+digest)
	if _, err := Prepare(context.Background(), badTag, Options{Tags: []string{"no good"}}); err == nil || !strings.Contains(err.Error(), "cannot be published") {
		t.Errorf("bad tag: %v", err)
	}
}

// TestPush: every release lands under each of its tags with the digest
// Prepare computed; a pin the registry does not serve publishes nothing; a
// failure after the first manifest names what was published.
func TestPush(t *testing.T) {
	ctx := context.Background()
	host := testenv.MemoryRegistry(t)
	tool := pushTool(t, host)
	missing := writePackageAt(t, host+"/eoap", "1.2.0", host+"/eoap/a@sha256:"+strings.Repeat("1", 64))
	rs, err := Prepare(ctx, missing, Options{Registry: host + "/rel"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Push(ctx, missing, rs, nil); err == nil || !strings.Contains(err.Error(), "nothing pushed") || !strings.Contains(err.Error(), "App-Flow.cwl:7: process \"a\" pins an image the registry does not serve") {
		t.Errorf("a pin the registry lacks: %v", err)
	}
	if _, err := remote.Digest(ctx, rs[0].Repo+":1.2.0", nil); err == nil {
		t.Error("a release was published with a missing pin")
	}

	plan := writePackageAt(t, host+"/eoap", "1.2.0", host+"/eoap/a@"+tool)
	rs, err = Prepare(ctx, plan, Options{Registry: host + "/rel", Tags: []string{"latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Push(ctx, plan, rs, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		for _, tag := range r.Tags {
			if got, err := remote.Digest(ctx, r.Repo+":"+tag, nil); err != nil || got != r.Digest {
				t.Errorf("%s:%s: %s %v, want %s", r.Repo, tag, got, err, r.Digest)
			}
		}
	}
	wrong := "sha256:" + strings.Repeat("2", 64)
	rs[1].Digest = wrong
	err = Push(ctx, plan, rs, nil)
	if err == nil || !strings.Contains(err.Error(), "expected "+wrong) || !strings.Contains(err.Error(), "published before the error:\n  "+rs[0].Repo+":1.2.0@"+rs[0].Digest+" (App-Flow.cwl)") {
		t.Errorf("a failure after a manifest: %v", err)
	}
	if err := Push(ctx, plan, []*Release{{Repo: "Bad Repo", Tags: []string{"1"}, Artifact: rs[0].Artifact}}, nil); err == nil || !strings.Contains(err.Error(), "nothing published") {
		t.Errorf("a push to a bad name: %v", err)
	}
}

// TestPrepareOneStem: two workflow files with one file name would overwrite
// each other under one REPO:TAG: refused, naming both.
func TestPrepareOneStem(t *testing.T) {
	digest := "sha256:" + strings.Repeat("1", 64)
	plan := writePackage(t, "1.2.0", "ghcr.io/eoap/a@"+digest)
	os.MkdirAll(filepath.Join(plan.Dir, "b"), 0o755)
	data, _ := os.ReadFile(filepath.Join(plan.Dir, "App-Flow.cwl"))
	os.WriteFile(filepath.Join(plan.Dir, "b", "app-flow.cwl"), data, 0o644)
	toml, _ := os.ReadFile(plan.File)
	os.WriteFile(plan.File, append(toml, "[[workflows]]\npath = \"b/app-flow.cwl#a\"\n"...), 0o644)
	plan, err := builder.Load(plan.File, builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Prepare(context.Background(), plan, Options{})
	if err == nil || !strings.Contains(err.Error(), "App-Flow.cwl and b/app-flow.cwl would both be published as ghcr.io/eoap/app-flow") {
		t.Errorf("one stem: %v", err)
	}
}

// TestPrepareBuildJSON: with a build output, a workflow pinned to other
// images than that build's is refused, one pinned to them is released,
// and an unreadable build output is an error.
func TestPrepareBuildJSON(t *testing.T) {
	digest := "sha256:" + strings.Repeat("1", 64)
	build := filepath.Join(t.TempDir(), "build.json")
	os.WriteFile(build, []byte(`{"builds":[{"imageName":"ghcr.io/eoap/a","tag":"ghcr.io/eoap/a:1.2.0@`+digest+`"}]}`), 0o644)
	pinned := writePackage(t, "1.2.0", "ghcr.io/eoap/a:1.2.0@"+digest)
	if _, err := Prepare(context.Background(), pinned, Options{BuildJSON: build}); err != nil {
		t.Errorf("pinned to the build: %v", err)
	}
	other := writePackage(t, "1.2.0", "ghcr.io/eoap/a:1.1.0@sha256:"+strings.Repeat("2", 64))
	_, err := Prepare(context.Background(), other, Options{BuildJSON: build})
	if err == nil || strings.Count(err.Error(), "is not pinned to the images of "+build) != 2 {
		t.Errorf("pinned to another build: %v", err)
	}
	if _, err := Prepare(context.Background(), pinned, Options{BuildJSON: build + ".missing"}); err == nil {
		t.Error("a missing build output was accepted")
	}
}

// TestPrepareRefusals: no registry, no [[workflows]].
func TestPrepareRefusals(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.cwl"), []byte("cwlVersion: v1.2\nclass: CommandLineTool\nid: a\nbaseCommand: [x]\ninputs: []\noutputs: []\n"), 0o644)
	for toml, want := range map[string]string{
		"[build]\nengine = \"local\"\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\nimage = \"r.io/a\"\n[[workflows]]\npath = \"x.cwl#a\"\n": "no registry for profile local: give --registry",
		"[build]\nengine = \"local\"\n[build.local]\nregistry = \"r.io/p\"\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n":                  "no [[workflows]] to publish",
	} {
		os.WriteFile(filepath.Join(dir, "project.toml"), []byte("[project]\nname = \"p\"\nversion = \"1\"\n"+toml), 0o644)
		plan, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Prepare(context.Background(), plan, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want %q", err, want)
		}
	}
}

// TestAnnotations: title and version always; description, source and
// revision when the package has them; never a creation time.
func TestAnnotations(t *testing.T) {
	plan := &builder.Plan{}
	plan.Name, plan.Version = "p", "1"
	if got := fmt.Sprint(annotations(plan)); got != "map[org.opencontainers.image.title:p org.opencontainers.image.version:1]" {
		t.Errorf("bare: %s", got)
	}
	plan.Description, plan.Repository, plan.Revision = "d", "https://example.org/p", "cafe"
	want := "map[org.opencontainers.image.description:d org.opencontainers.image.revision:cafe org.opencontainers.image.source:https://example.org/p org.opencontainers.image.title:p org.opencontainers.image.version:1]"
	if got := fmt.Sprint(annotations(plan)); got != want {
		t.Errorf("full: %s", got)
	}
}

// TestMediaType: a file is JSON when its first non-blank byte, after a
// byte-order mark, is '{'.
func TestMediaType(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"cwlVersion: v1.2\n":         MediaTypeYAML,
		"{\"cwlVersion\": \"v1.2\"}": MediaTypeJSON,
		"\n \t\r\n{}":                MediaTypeJSON,
		"\ufeff{}":                   MediaTypeJSON,
		"":                           MediaTypeYAML,
		"# {\n":                      MediaTypeYAML,
	} {
		f := filepath.Join(dir, "w.cwl")
		os.WriteFile(f, []byte(content), 0o644)
		r, err := release(builder.ProcessRef{File: "w.cwl", Path: f}, "r.io/p", []string{"1"}, nil)
		if err != nil || r.Artifact.Files[0].MediaType != want || r.Repo != "r.io/p/w" {
			t.Errorf("%q: %v %+v, want %s", content, err, r, want)
		}
	}
	if _, err := release(builder.ProcessRef{File: "gone.cwl", Path: filepath.Join(dir, "gone.cwl")}, "r.io/p", []string{"1"}, nil); err == nil {
		t.Error("a missing file was released")
	}
}

// TestOneUnpinnedRule: a release refuses exactly what `cwlpatch --check`
// reports (cwlpatch.CheckPins), in the same words, and `cwlbuild check`
// warns, in those words, about the images no tool builds.
func TestOneUnpinnedRule(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/packed")
	inline := filepath.Join(dir, "cwl-workflow", "inline.cwl")
	data, _ := os.ReadFile(inline)
	os.WriteFile(inline, []byte(strings.Split(string(data), "busybox:1.36@")[0]+"busybox:1.36\n"+strings.SplitN(strings.Split(string(data), "busybox:1.36@")[1], "\n", 2)[1]), 0o644)
	plan, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := cwlpatch.CheckPins(context.Background(), plan, cwlpatch.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, d := range rep.Problems {
		all = append(all, d.String())
	}
	diags := cwlpatch.Check(plan)
	if len(all) != 7 || len(diags) != 1 || !strings.Contains(diags[0].Message, `step "external"`) {
		t.Fatalf("CheckPins: %d problems, Check: %v:\n%s", len(all), diags, strings.Join(all, "\n"))
	}
	_, err = Prepare(context.Background(), plan, Options{})
	var refused interface{ Unwrap() []error }
	if !errors.As(err, &refused) {
		t.Fatalf("Prepare: %v", err)
	}
	var got []string
	for _, e := range refused.Unwrap() {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(all, "\n") {
		t.Errorf("a release refuses:\n%s\n--check reports:\n%s", strings.Join(got, "\n"), strings.Join(all, "\n"))
	}
	if diags[0].Severity != builder.SeverityWarning || !slices.Contains(all, diags[0].String()) {
		t.Errorf("cwlbuild check: %v; want a warning in --check's words", diags)
	}
}

// TestPromoteCandidate: after `publish --candidate` (signed and verified
// in a release), `publish` puts the version on exactly the candidate's
// digest; a workflow changed in between (a concurrent run, a hand edit)
// publishes nothing.
func TestPromoteCandidate(t *testing.T) {
	ctx := context.Background()
	host := testenv.MemoryRegistry(t)
	tool := pushTool(t, host)
	plan := writePackageAt(t, host+"/eoap", "1.0.0", host+"/eoap/a@"+tool)
	cands, err := Prepare(ctx, plan, Options{Registry: host + "/rel", Candidate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Push(ctx, plan, cands, nil); err != nil {
		t.Fatal(err)
	}
	// A line appended to one workflow after the candidate was verified.
	f, _ := os.OpenFile(filepath.Join(plan.Dir, "App-Flow.cwl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# changed after the candidate\n")
	f.Close()
	rs, err := Prepare(ctx, plan, Options{Registry: host + "/rel", Tags: []string{"latest"}})
	if err != nil {
		t.Fatal(err)
	}
	err = Push(ctx, plan, rs, nil)
	if err == nil || !strings.Contains(err.Error(), "nothing pushed: App-Flow.cwl is no longer the candidate "+cands[0].Repo+":1.0.0-candidate@"+cands[0].Digest) {
		t.Fatalf("a changed workflow: %v", err)
	}
	for _, r := range rs {
		for _, tag := range r.Tags {
			if _, found, _ := remote.DigestIfExists(ctx, r.Repo+":"+tag, nil); found {
				t.Errorf("%s:%s was published", r.Repo, tag)
			}
		}
	}
	// The edit undone: the version is the candidate's digest.
	data, _ := os.ReadFile(filepath.Join(plan.Dir, "App-Flow.cwl"))
	os.WriteFile(filepath.Join(plan.Dir, "App-Flow.cwl"), []byte(strings.TrimSuffix(string(data), "# changed after the candidate\n")), 0o644)
	rs, err = Prepare(ctx, plan, Options{Registry: host + "/rel", Tags: []string{"latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Push(ctx, plan, rs, nil); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		for _, tag := range r.Tags {
			if got, _ := remote.Digest(ctx, r.Repo+":"+tag, nil); got != cands[i].Digest {
				t.Errorf("%s:%s is %s, the candidate %s", r.Repo, tag, got, cands[i].Digest)
			}
		}
	}
}

// pushTool pushes a tool's image to host/eoap/a and returns its digest.
func pushTool(t *testing.T, host string) string {
	t.Helper()
	tool, err := remote.Push(context.Background(), host+"/eoap/a", []string{"1"}, &remote.Artifact{ArtifactType: "application/x-tool", Files: []remote.File{{Data: []byte("x"), MediaType: "application/x-tool"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tool
}

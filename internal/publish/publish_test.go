package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
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
registry = "ghcr.io/eoap"
[tools.a]
context = "a"
path = "App-Flow.cwl#a"
[[workflows]]
path = "App-Flow.cwl#a"
[[workflows]]
path = "packed.json#a"
[[workflows]]
path = "App-Flow.cwl#a"
`, version)
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

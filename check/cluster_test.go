package check

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/agentapi"
)

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSpecOf: what the pre-flight checks comes from the plan as a cluster
// build would use it: each base image once, with the tools that name it and
// the references Kaniko tries (the registry map first); each tool's
// repository and the default cache repository; Skaffold's init image when
// none is set.
func TestSpecOf(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "project.toml", `[project]
name = "p"

[build]
engine = "cluster"

[build.cluster]
namespace = "ns"
serviceAccount = "sa"
registry = "ghcr.io/eoap"
secret = "push"

[build.kaniko]
registryMap = { "index.docker.io" = "harbor.internal/hub" }
insecureRegistries = ["harbor.internal"]

[tools.a]
context = "a"
path = "app.cwl#a"

[tools.b]
context = "b"
path = "app.cwl#b"
`)
	write(t, dir, "a/Dockerfile", "FROM busybox:1.36 AS base\nFROM base\nRUN true\n")
	write(t, dir, "b/Dockerfile", "FROM busybox:1.36\nFROM ghcr.io/eoap/tools:2\n")
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := SpecOf(p)
	if err != nil {
		t.Fatal(err)
	}
	want := &agentapi.Preflight{
		Namespace: "ns", ServiceAccount: "sa", Secret: "push",
		ExecutorImage: builder.DefaultExecutorImage,
		InitImage:     "gcr.io/k8s-skaffold/skaffold-helpers/busybox",
		Insecure:      []string{"harbor.internal"},
		Bases: []agentapi.Base{
			{Tool: "a, b", Image: "busybox:1.36", Pull: []string{"harbor.internal/hub/library/busybox:1.36", "busybox:1.36"}},
			{Tool: "b", Image: "ghcr.io/eoap/tools:2", Pull: []string{"ghcr.io/eoap/tools:2"}},
		},
		Push: []agentapi.Push{{Tool: "a", Repository: "ghcr.io/eoap/a"}, {Tool: "b", Repository: "ghcr.io/eoap/b"}, {Repository: "ghcr.io/eoap/cache"}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("spec\n%+v\nwant\n%+v", s, want)
	}
}

// TestResultLines: the agent's output reaches out unchanged, however it is
// cut, and each failed check (and only those) becomes an error at
// [build.cluster].
func TestResultLines(t *testing.T) {
	text := "ok    Skaffold's RBAC: pods, pods/exec\nthe probe pod was not started: x\nFAIL  push secret: \"s\" does not exist\nFAIL  cache repository r.io/c: 401"
	var out strings.Builder
	w := &resultLines{out: &out, file: "project.toml", line: 7}
	for i := 0; i < len(text); i += 5 {
		w.Write([]byte(text[i:min(i+5, len(text))]))
	}
	w.flush()
	if out.String() != text {
		t.Errorf("copied %q", out.String())
	}
	if len(w.failed) != 2 || w.failed[0].String() != `project.toml:7: cluster pre-flight: push secret: "s" does not exist` ||
		w.failed[1].Key != "build.cluster" || w.failed[1].Severity != builder.SeverityError || !strings.HasSuffix(w.failed[1].Message, "r.io/c: 401") {
		t.Errorf("failed: %+v", w.failed)
	}
}

package build_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/builder"
)

// loadSample is a plan of a package with two tools and a Kaniko cache.
func loadSample(t *testing.T) *builder.Plan {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(dir, tool), 0o755)
		os.WriteFile(filepath.Join(dir, tool, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	}
	toml := "[project]\nname = \"p\"\nversion = \"1.0\"\n[build]\nengine = \"local\"\n[build.local]\nruntime = \"buildah\"\nregistry = \"127.0.0.1:5000/p\"\n" +
		"[build.kaniko.cache]\nrepo = \"127.0.0.1:5000/p/cache\"\n" +
		"[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n[tools.a.buildArgs]\nX = \"1\"\n[tools.b]\ncontext = \"b\"\npath = \"x.cwl#b\"\n"
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImageThroughTheLibrary: a program outside this module builds a tool
// of a plan with any backend through Image, its commands run by the Runner
// it gives; a failing command is named in the error; a Kaniko build holds
// the container's lock, so a second one at the same time is refused.
func TestImageThroughTheLibrary(t *testing.T) {
	p := loadSample(t)
	a, _ := p.Artifact("a")
	spec := build.NewSpec(p, a, p.DefaultImage(a), "")
	var ran []build.Command
	record := func(ctx context.Context, cmd build.Command) error {
		ran = append(ran, cmd)
		return nil
	}
	be, err := build.ParseBackend("buildah", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := build.Image(context.Background(), spec, be, build.ImageOptions{Run: record}); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 2 || ran[0][0] != "buildah" || !strings.Contains(ran[0].String(), "--build-arg X=1") || ran[1][1] != "push" ||
		ran[1][len(ran[1])-1] != "docker://127.0.0.1:5000/p/a:1.0" {
		t.Errorf("buildah ran %q", ran)
	}
	fail := func(ctx context.Context, cmd build.Command) error { return errors.New("exit status 1") }
	if err := build.Image(context.Background(), spec, build.Podman{}, build.ImageOptions{Run: fail, Label: "tool a"}); err == nil ||
		!strings.Contains(err.Error(), "building tool a failed: podman build") {
		t.Errorf("a failing build: %v", err)
	}

	t.Setenv("TMPDIR", t.TempDir())
	ran = nil
	inner := error(nil)
	nested := func(ctx context.Context, cmd build.Command) error {
		ran = append(ran, cmd)
		// A second Kaniko build while this one runs.
		inner = build.Image(ctx, spec, build.Kaniko{}, build.ImageOptions{Run: record})
		return nil
	}
	if err := build.Image(context.Background(), spec, build.Kaniko{}, build.ImageOptions{Run: nested}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(inner, build.ErrKanikoBusy) {
		t.Errorf("a second Kaniko build at once: %v", inner)
	}
	if len(ran) != 1 || ran[0][0] != build.DefaultExecutor || !strings.Contains(ran[0].String(), "--cache-repo 127.0.0.1:5000/p/cache") {
		t.Errorf("kaniko ran %q", ran)
	}
}

// TestTarballsDryRun: a dry run runs nothing and writes nothing; it returns
// each tool's image and the executor's command for it.
func TestTarballsDryRun(t *testing.T) {
	p := loadSample(t)
	dir := filepath.Join(t.TempDir(), "out")
	never := func(ctx context.Context, cmd build.Command) error {
		t.Errorf("a dry run ran %s", cmd)
		return nil
	}
	tbs, err := build.Tarballs(context.Background(), p, build.TarballOptions{Dir: dir, DryRun: true, Run: never, Tools: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tbs) != 1 || tbs[0].Tool != "b" || tbs[0].ImageName != "127.0.0.1:5000/p/b" || len(tbs[0].Commands) != 1 ||
		!strings.Contains(tbs[0].Commands[0].String(), "--tar-path "+filepath.Join(dir, "b.tar")) {
		t.Errorf("dry run: %+v", tbs)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a dry run created the output directory")
	}
	if _, err := build.Tarballs(context.Background(), p, build.TarballOptions{Dir: dir, DryRun: true, Tag: "no good"}); err == nil {
		t.Error("a bad tag was accepted")
	}
}

// TestRegistryMapParsedOnce: "a/;b" in project.toml is two targets, each
// without its trailing '/', tried in turn: one --registry-map flag each;
// an empty target is refused when the project loads.
func TestRegistryMapParsedOnce(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	toml := "[build]\nengine = \"local\"\n[build.local]\nregistry = \"r.example/p\"\n[build.kaniko]\nregistryMap = { \"index.docker.io/\" = \"m1.example/hub/;m2.example\" }\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n"
	file := filepath.Join(dir, "project.toml")
	os.WriteFile(file, []byte(toml), 0o644)
	p, err := builder.Load(file, builder.LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := build.Kaniko{}.Commands(build.NewSpec(p, p.Artifacts[0], "r.example/p/a:1", ""))
	if err != nil {
		t.Fatal(err)
	}
	if s := cmds[0].String(); !strings.Contains(s, "--registry-map index.docker.io=m1.example/hub --registry-map index.docker.io=m2.example") {
		t.Errorf("argv: %s", s)
	}
	os.WriteFile(file, []byte(strings.Replace(toml, "m1.example/hub/;m2.example", "m1.example;;", 1)), 0o644)
	if _, err := builder.Load(file, builder.LoadOptions{SkipCWL: true}); err == nil || !strings.Contains(err.Error(), "an empty registry") {
		t.Errorf("an empty target: %v", err)
	}
}

package skaffold

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestRewriteFrom: each FROM whose registry the registry map (or a Docker Hub
// mirror) covers names the mirror, as Kaniko will pull it; stage names,
// scratch, build-arg images, unmapped registries and every other byte stay.
func TestRewriteFrom(t *testing.T) {
	maps := builder.ExecutorOptions{RegistryMap: map[string][]string{"docker.io": {"10.244.0.1:5001"}, "ghcr.io": {"harbor.internal/ghcr", "ghcr.io"}}}
	for _, tc := range []struct {
		name, in, want string
		changed        bool
	}{
		{"short hub name", "FROM busybox:1.36\nRUN true\n", "FROM 10.244.0.1:5001/library/busybox:1.36\nRUN true\n", true},
		{"full hub name", "FROM docker.io/library/busybox:1.36\n", "FROM 10.244.0.1:5001/library/busybox:1.36\n", true},
		{"index alias and user repo", "from index.docker.io/eoap/base@sha256:" + strings.Repeat("a", 64) + "\n",
			"from 10.244.0.1:5001/eoap/base@sha256:" + strings.Repeat("a", 64) + "\n", true},
		{"other mapped registry with a path", "FROM --platform=linux/amd64 ghcr.io/eoap/gdal:3 AS build\n",
			"FROM --platform=linux/amd64 harbor.internal/ghcr/eoap/gdal:3 AS build\n", true},
		{"unmapped registry", "FROM quay.io/x/y:1\n", "FROM quay.io/x/y:1\n", false},
		{"scratch and build args", "ARG BASE=busybox\nFROM $BASE\nFROM scratch\n", "ARG BASE=busybox\nFROM $BASE\nFROM scratch\n", false},
		{"stage name", "FROM busybox AS busy\nFROM busy\nCOPY --from=busy /x /x\n",
			"FROM 10.244.0.1:5001/library/busybox AS busy\nFROM busy\nCOPY --from=busy /x /x\n", true},
		{"line continuation", "FROM \\\n  busybox:1.36 \\\n  AS b\n", "FROM \\\n  10.244.0.1:5001/library/busybox:1.36 \\\n  AS b\n", true},
		{"comments and a word that merely contains the image", "# busybox is small\nFROM busybox\nLABEL x=busybox\n",
			"# busybox is small\nFROM 10.244.0.1:5001/library/busybox\nLABEL x=busybox\n", true},
		{"CRLF and no final newline", "FROM busybox:1\r\nRUN true", "FROM 10.244.0.1:5001/library/busybox:1\r\nRUN true", true},
		{"a comment naming the image inside the continuation", "FROM \\\n# busybox:1.36 is small\n  busybox:1.36\n",
			"FROM \\\n# busybox:1.36 is small\n  10.244.0.1:5001/library/busybox:1.36\n", true},
		{"escape directive", "# escape=`\nFROM `\n  busybox:1.36 `\n  AS b\n", "# escape=`\nFROM `\n  10.244.0.1:5001/library/busybox:1.36 `\n  AS b\n", true},
		{"the image twice on its line", "FROM --platform=busybox busybox\n", "FROM --platform=busybox 10.244.0.1:5001/library/busybox\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := rewriteFrom([]byte(tc.in), maps)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want || changed != tc.changed {
				t.Errorf("got %q (changed %v)\nwant %q (changed %v)", got, changed, tc.want, tc.changed)
			}
		})
	}
}

// TestLookupDockerfiles: a cluster project with a registry map gets one
// derived Dockerfile per tool whose base image is mapped, named by the
// generated config; a mirror alone maps Docker Hub; a local-engine project
// and a project without maps get none.
func TestLookupDockerfiles(t *testing.T) {
	dir := t.TempDir()
	for tool, from := range map[string]string{"a": "busybox:1.36", "b": "quay.io/x/y:1"} {
		writeDockerfile(t, dir, tool, "FROM "+from+"\n")
	}
	base := `[project]
name = "p"
[build]
engine = "cluster"
[build.cluster]
namespace = "ns"
registry = "10.244.0.1:5002/p"
[tools.a]
context = "a"
path = "x.cwl#a"
[tools.b]
context = "b"
path = "x.cwl#b"
`
	for name, tc := range map[string]struct {
		toml string
		want int
	}{
		"map":                     {base + "[build.kaniko]\nregistryMap = { \"index.docker.io\" = \"10.244.0.1:5001\" }\n", 1},
		"mirror":                  {base + "[build.kaniko]\nregistryMirrors = [\"mirror.internal\"]\n", 1},
		"no map":                  {base, 0},
		"local":                   {strings.Replace(base, `engine = "cluster"`, `engine = "local"`, 1) + "[build.local]\nregistry = \"127.0.0.1:5000\"\n[build.kaniko]\nregistryMirrors = [\"m.internal\"]\n", 0},
		"other registries mapped": {base + "[build.kaniko]\nregistryMap = { \"ghcr.io\" = \"h.internal\" }\n", 0},
	} {
		t.Run(name, func(t *testing.T) {
			plan := loadTOML(t, dir, tc.toml)
			gen, err := GenerateAll(plan, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(gen.Dockerfiles) != tc.want {
				t.Fatalf("%d derived Dockerfiles, want %d", len(gen.Dockerfiles), tc.want)
			}
			if tc.want == 0 {
				if strings.Contains(string(gen.Config), LookupDir) {
					t.Error("the config names a derived Dockerfile that is not written")
				}
				return
			}
			l := gen.Dockerfiles[0]
			if l.Tool != "a" || l.Path != filepath.Join(dir, "a", ".cwlbuild", "a.Dockerfile") || !strings.HasPrefix(string(l.Data), "FROM 10.244.0.1:5001/library/busybox:1.36\n") && !strings.HasPrefix(string(l.Data), "FROM mirror.internal/library/busybox:1.36\n") {
				t.Errorf("derived %+v\n%s", l, l.Data)
			}
			// Each cluster-built artifact of a (cluster and ttl profiles)
			// names it; b keeps its own.
			if n := strings.Count(string(gen.Config), "dockerfile: .cwlbuild/a.Dockerfile"); n != 3 {
				t.Errorf("config names the derived Dockerfile %d times, want 3 (default build, cluster, ttl)", n)
			}
		})
	}
}

// TestTagPolicy: [project] version tags the images, with the short commit
// in a git work tree; without a version, Skaffold's sha256 tagger (latest);
// ttl keeps its duration.
func TestTagPolicy(t *testing.T) {
	write := func(version string, workTree bool) *builder.Plan {
		dir := t.TempDir()
		writeDockerfile(t, dir, "a", "FROM scratch\n")
		if workTree {
			testenv.FakeWorkTree(t, dir)
		}
		return loadTOML(t, dir, "[project]\nname = \"p\"\nversion = \""+version+"\"\n[build]\nengine = \"cluster\"\n[build.cluster]\nregistry = \"ghcr.io/eoap\"\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n")
	}
	for _, tc := range []struct {
		version  string
		workTree bool
		want     func(latest.TagPolicy) bool
	}{
		{"", true, func(p latest.TagPolicy) bool { return p.ShaTagger != nil }},
		{"1.2.0", false, func(p latest.TagPolicy) bool {
			return p.EnvTemplateTagger != nil && p.EnvTemplateTagger.Template == "1.2.0"
		}},
		{"1.2.0", true, func(p latest.TagPolicy) bool {
			c := p.CustomTemplateTagger
			return c != nil && c.Template == "1.2.0-{{.GIT}}" && len(c.Components) == 1 && c.Components[0].Component.GitTagger.Variant == "AbbrevCommitSha"
		}},
	} {
		cfg, _ := Render(write(tc.version, tc.workTree), Options{})
		if !tc.want(cfg.Build.TagPolicy) {
			t.Errorf("version %q, work tree %v: tag policy %+v", tc.version, tc.workTree, cfg.Build.TagPolicy)
		}
		if ttl := cfg.Profiles[2].Build.TagPolicy.EnvTemplateTagger; ttl == nil || ttl.Template != "2h" {
			t.Errorf("ttl tag policy %+v", cfg.Profiles[2].Build.TagPolicy)
		}
	}
}

// TestStaleLookupDockerfiles: once the map stops covering a tool, the
// derived Dockerfile an earlier generate wrote for it is listed for
// removal; one the plan still needs, and a file a user wrote at that path,
// are not.
func TestStaleLookupDockerfiles(t *testing.T) {
	dir := t.TempDir()
	for _, tool := range []string{"a", "b", "c"} {
		writeDockerfile(t, dir, tool, "FROM busybox:1.36\n")
	}
	toml := "[project]\nname = \"p\"\n[build]\nengine = \"cluster\"\n[build.cluster]\nregistry = \"10.244.0.1:5002/p\"\n" +
		"[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n[tools.b]\ncontext = \"b\"\npath = \"x.cwl#b\"\n[tools.c]\ncontext = \"c\"\npath = \"x.cwl#c\"\n"
	generate := func(extra string) *Generated {
		t.Helper()
		gen, err := GenerateAll(loadTOML(t, dir, toml+extra), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return gen
	}
	gen := generate("[build.kaniko]\nregistryMirrors = [\"m.internal\"]\n")
	if len(gen.Dockerfiles) != 3 || len(gen.Stale) != 0 {
		t.Fatalf("%d derived, %d stale; want 3 and 0", len(gen.Dockerfiles), len(gen.Stale))
	}
	var written [][]byte
	for _, l := range gen.Dockerfiles {
		os.MkdirAll(filepath.Dir(l.Path), 0o755)
		os.WriteFile(l.Path, l.Data, 0o644)
		written = append(written, l.Data)
	}
	// The user replaces c's derived file by one of their own, keeping a
	// copy of generate's note in the middle.
	user := filepath.Join(dir, "c", LookupDir, "c.Dockerfile")
	own := append(append([]byte{}, gen.Dockerfiles[2].Data...), "FROM scratch\n"...)
	os.WriteFile(user, own, 0o644)

	// Still covered: nothing is stale.
	if gen := generate("[build.kaniko]\nregistryMirrors = [\"m2.internal\"]\n"); len(gen.Stale) != 0 {
		t.Errorf("stale %v while the map still covers every tool", stalePaths(gen))
	}
	// Map gone: a and b are stale; c's file is the user's.
	gen = generate("")
	want := []string{filepath.Join(dir, "a", LookupDir, "a.Dockerfile"), filepath.Join(dir, "b", LookupDir, "b.Dockerfile")}
	if got := stalePaths(gen); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stale %q, want %q", got, want)
	}
	// A package turned local needs none, even with the mirror kept.
	toml = strings.Replace(toml, `engine = "cluster"`, `engine = "local"`, 1)
	gen = generate("[build.local]\nregistry = \"127.0.0.1:5000\"\n[build.kaniko]\nregistryMirrors = [\"m.internal\"]\n")
	if got := stalePaths(gen); len(gen.Dockerfiles) != 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("local engine: %d derived, stale %q", len(gen.Dockerfiles), got)
	}
	if string(gen.Stale[0].Data) != string(written[0]) {
		t.Errorf("stale content %q, want what generate wrote", gen.Stale[0].Data)
	}
}

// TestGeneratedLookup: a file is generate's own only when generate's note
// is its last comment block, at the start of a line, two lines long.
func TestGeneratedLookup(t *testing.T) {
	note := lookupNote + "Dockerfile for Skaffold's cluster builder:\n# base images as Kaniko's registry map rewrites them. Do not edit.\n"
	for _, tc := range []struct {
		name string
		data string
		want bool
	}{
		{"generated", "FROM m/library/busybox\n" + note, true},
		{"the note alone", note, true},
		{"a line added after the note", "FROM m/library/busybox\n" + note + "RUN true\n", false},
		{"the note not at a line start", "FROM m/library/busybox " + note, false},
		{"the note's second line gone", "FROM x\n" + lookupNote + "Dockerfile\n", false},
		{"no note", "FROM busybox\n", false},
	} {
		if got := GeneratedLookup([]byte(tc.data)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLookupDockerfileWithoutFinalNewline: the note goes on a line of its
// own after a Dockerfile whose last line has no line break, and a
// Dockerfile with one gets no blank line.
func TestLookupDockerfileWithoutFinalNewline(t *testing.T) {
	for _, df := range []string{"FROM busybox:1.36", "FROM busybox:1.36\n"} {
		dir := t.TempDir()
		writeDockerfile(t, dir, "a", df)
		plan := loadTOML(t, dir, "[project]\nname = \"p\"\n[build]\nengine = \"cluster\"\n[build.cluster]\nregistry = \"r.io/p\"\n[build.kaniko]\nregistryMirrors = [\"m.io\"]\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n")
		lookups, err := LookupDockerfiles(plan)
		if err != nil || len(lookups) != 1 {
			t.Fatalf("%v %v", lookups, err)
		}
		if got := string(lookups[0].Data); !strings.HasPrefix(got, "FROM m.io/library/busybox:1.36\n"+lookupNote) {
			t.Errorf("%q: derived\n%q", df, got)
		}
	}
}

// TestCompressedCachingWarning: [build.kaniko] compressedCaching, which
// Skaffold's cluster builder cannot pass, is reported once; without it,
// nothing is.
func TestCompressedCachingWarning(t *testing.T) {
	dir := t.TempDir()
	writeDockerfile(t, dir, "a", "FROM scratch\n")
	base := "[project]\nname = \"p\"\n[build]\nengine = \"cluster\"\n[build.cluster]\nregistry = \"r.io/p\"\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n"
	for extra, want := range map[string]int{"": 0, "[build.kaniko]\ncompressedCaching = false\n": 1} {
		gen, err := GenerateAll(loadTOML(t, dir, base+extra), Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, w := range gen.Warnings {
			if strings.Contains(w.Message, "build.kaniko.compressedCaching applies to `cwlbuild plugin` and `cwlbuild tar` only") &&
				w.Key == "build.kaniko.compressedCaching" && w.Line > 0 && w.Severity == builder.SeverityWarning {
				n++
			}
		}
		if n != want || len(gen.Warnings) != want {
			t.Errorf("%q: warnings %q, want %d about compressedCaching", extra, gen.Warnings, want)
		}
	}
}

// writeDockerfile writes the build context dir/tool holding a Dockerfile.
func writeDockerfile(t *testing.T, dir, tool, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, tool), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tool, "Dockerfile"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadTOML writes dir/project.toml and loads it, without checking CWL
// files.
func loadTOML(t *testing.T, dir, toml string) *builder.Plan {
	t.Helper()
	file := filepath.Join(dir, "project.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := builder.Load(file, builder.LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// stalePaths are the paths of the stale derived Dockerfiles gen lists.
func stalePaths(gen *Generated) []string {
	var out []string
	for _, s := range gen.Stale {
		out = append(out, s.Path)
	}
	return out
}

// TestBaseImages: the images a tool's FROM lines name, in order, each with
// where the build pulls it (the registry map's name first); stage names,
// scratch and build-arg images are not images.
func TestBaseImages(t *testing.T) {
	dir := t.TempDir()
	writeDockerfile(t, dir, "a", "FROM golang:1.22 AS Build\nFROM build AS again\nARG BASE=x\nFROM $BASE\nFROM scratch\nFROM --platform=linux/amd64 quay.io/x/y:1\nFROM docker.io/library/busybox:1.36\nCOPY --from=build /x /x\n")
	plan := loadTOML(t, dir, `[project]
name = "p"
[build]
engine = "cluster"
[build.cluster]
namespace = "ns"
registry = "10.244.0.1:5002/p"
[build.kaniko]
registryMap = { "index.docker.io" = "10.244.0.1:5001" }
[tools.a]
context = "a"
path = "x.cwl#a"
`)
	got, err := BaseImages(plan, "a")
	if err != nil {
		t.Fatal(err)
	}
	want := []BaseImage{
		{Name: "golang:1.22", Line: 1, Pull: []string{"10.244.0.1:5001/library/golang:1.22", "golang:1.22"}},
		{Name: "quay.io/x/y:1", Line: 6, Pull: []string{"quay.io/x/y:1"}, Platform: "linux/amd64"},
		{Name: "docker.io/library/busybox:1.36", Line: 7, Pull: []string{"10.244.0.1:5001/library/busybox:1.36", "docker.io/library/busybox:1.36"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("BaseImages:\n got %v\nwant %v", got, want)
	}
	if _, err := BaseImages(plan, "nope"); err == nil {
		t.Error("BaseImages of a tool that does not exist: no error")
	}
}

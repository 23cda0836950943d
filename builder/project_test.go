package builder

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadAnchorProject(t *testing.T) {
	p, err := LoadProject("../testdata/projects/anchor/project.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.ToolOrder, []string{"crop", "norm_diff", "otsu", "stac", "stac-geoparquet"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tool order %v, want %v", got, want)
	}
	if p.Build.Engine != EngineCluster || p.Build.Cluster.Secret != "kaniko-secret" || p.Build.Cluster.ServiceAccount != "kaniko-sa" {
		t.Errorf("build section decoded wrong: %+v", p.Build)
	}
	crop := p.Tools["crop"]
	if len(crop.Tests) != 2 || crop.Tests[1].Name != "crop-test-nir" || crop.Tests[1].Execution.Paths.Volume != "/calrissian/crop-nir" {
		t.Errorf("crop tests decoded wrong: %+v", crop.Tests)
	}
	if crop.Tests[0].Execution.Cluster.MaxCores != int64(1) || crop.Tests[0].Execution.Cluster.MaxRAM != "1G" {
		t.Errorf("execution.cluster decoded wrong: %+v", crop.Tests[0].Execution.Cluster)
	}
	rasters, ok := p.Tools["norm_diff"].Tests[0].Params["rasters"].([]any)
	if !ok || len(rasters) != 2 || rasters[0].(map[string]any)["class"] != "File" {
		t.Errorf("File array param decoded wrong: %#v", p.Tools["norm_diff"].Tests[0].Params["rasters"])
	}
	if len(p.Workflows) != 2 || p.Workflows[1].Tests[0].Execution.Cluster.MaxRAM != "4G" {
		t.Errorf("workflows decoded wrong")
	}
	if p.Build.Kaniko.Image != DefaultExecutorImage || p.Build.TTL.Registry != "ttl.sh" || p.Build.TTL.Duration != "2h" {
		t.Errorf("defaults not applied: %+v %+v", p.Build.Kaniko, p.Build.TTL)
	}
	if l := p.Line("tools.otsu.context"); l != 98 {
		t.Errorf("line of tools.otsu.context = %d, want 98", l)
	}
	if l := p.Line("tools.crop.tests.1.execution.paths.volume"); l != 68 {
		t.Errorf("line of second crop test volume = %d, want 68", l)
	}
}

func TestToolOrderFollowsFile(t *testing.T) {
	p, err := LoadProject("../testdata/projects/extended/project.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.ToolOrder, []string{"otsu", "crop", "norm_diff"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tool order %v, want %v", got, want)
	}
	plan := NewPlan(p)
	var images []string
	for _, a := range plan.Artifacts {
		images = append(images, a.Images[ProfileCluster])
	}
	want := []string{"harbor.example.com/eoap/otsu", "localhost:5000/custom/cropper", "harbor.example.com/eoap/norm_diff"}
	if !reflect.DeepEqual(images, want) {
		t.Errorf("cluster images %v, want %v", images, want)
	}
	// On the shared ttl.sh namespace: PROJECT-TOOL, whatever tools.image.
	if got := plan.Artifacts[1].Images[ProfileTTL]; got != "ttl.sh/extended-crop" {
		t.Errorf("ttl image of an overridden tool = %q", got)
	}
	if plan.Artifacts[0].Dockerfile != "docker/Containerfile" || plan.Artifacts[0].BuildArgs["EXTRA"] != "two words" {
		t.Errorf("otsu artifact %+v", plan.Artifacts[0])
	}
}

// base is a minimal valid project; each case edits it.
const base = `[project]
name = "p"

[build]
engine = "cluster"

[build.cluster]
namespace = "ns"
serviceAccount = "sa"
registry = "ghcr.io/eoap"
secret = "push"

[tools.b]
context = "tools/b"
path = "app.cwl#b"

[tools.a]
context = "tools/a"
path = "app.cwl#a"
`

func writeProject(t *testing.T, toml string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, "tools", tool), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "tools", tool, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\n$graph: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "project.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestProjectErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
		want string // after "project.toml:"
	}{
		{"misspelt key", func(s string) string { return strings.Replace(s, "namespace =", "namespce =", 1) },
			`8: unknown key "namespce" in [build.cluster] (did you mean "namespace"?)`},
		{"service account with a space", func(s string) string {
			return strings.Replace(s, `serviceAccount = "sa"`, `serviceAccount = "Admin SA"`, 1)
		},
			`build.cluster.serviceAccount "Admin SA": not a Kubernetes name`},
		{"secret like an option", func(s string) string { return strings.Replace(s, `secret = "push"`, `secret = "--x"`, 1) },
			`build.cluster.secret "--x": not a Kubernetes name`},
		{"namespace with a path", func(s string) string {
			return strings.Replace(s, `namespace = "ns"`, `namespace = "../../api/v1/namespaces/kube-system"`, 1)
		}, `8: build.cluster.namespace "../../api/v1/namespaces/kube-system": not a Kubernetes name`},
		{"test pod account like an option", func(s string) string {
			return s + "\n[[tools.a.tests]]\nname = \"t\"\n[tools.a.tests.execution.cluster]\npod_serviceaccount = \"--debug\"\n"
		}, `tools.a.tests.0.execution.cluster.pod_serviceaccount "--debug": not a Kubernetes name`},
		{"misspelt tool key", func(s string) string { return strings.Replace(s, `context = "tools/a"`, `contxt = "tools/a"`, 1) },
			`18: unknown key "contxt" in [tools.a] (did you mean "context"?)`},
		{"misspelt test key", func(s string) string {
			return s + "\n[[tools.a.tests]]\nname = \"t\"\nnme = \"x\"\n"
		}, `23: unknown key "nme" in [tools.a.tests] (did you mean "name"?)`},
		{"test timeout not a duration", func(s string) string {
			return s + "\n[[tools.a.tests]]\nname = \"t\"\ntimeout = \"soon\"\n"
		}, `tools.a.tests.0.timeout: soon is not a positive duration`},
		{"should_fail with expect", func(s string) string {
			return s + "\n[[tools.a.tests]]\nname = \"t\"\nshould_fail = true\nexpect = { out = \"Any\" }\n"
		}, `tools.a.tests.0: should_fail = true and expect`},
		{"unknown sub-table", func(s string) string { return s + "\n[build.clster]\nnamespace = \"x\"\n" },
			`21: unknown key "clster" in [build] (did you mean "cluster"?)`},
		{"unknown table", func(s string) string { return s + "\n[biuld]\nengine = \"local\"\n" },
			`21: unknown key "biuld" (did you mean "build"?)`},
		{"missing context", func(s string) string { return strings.Replace(s, `"tools/a"`, `"tools/nope"`, 1) },
			`18: tools.a.context "tools/nope": no such directory`},
		{"context without Dockerfile", func(s string) string { return strings.Replace(s, `"tools/a"`, `"."`, 1) },
			`18: tools.a: no Dockerfile in context "."`},
		{"missing dockerfile option", func(s string) string {
			return strings.Replace(s, `path = "app.cwl#a"`, "path = \"app.cwl#a\"\ndockerfile = \"Containerfile\"", 1)
		}, `20: tools.a: no Containerfile in context "tools/a"`},
		{"duplicate image", func(s string) string {
			return s + "image = \"ghcr.io/eoap/b\"\n"
		}, `17: tools "b" and "a" both build image "ghcr.io/eoap/b"`},
		{"invalid image", func(s string) string { return s + "image = \"ghcr.io/eoap/Upper\"\n" },
			`20: tool "a": invalid image name "ghcr.io/eoap/Upper"`},
		{"invalid tool name", func(s string) string { return strings.Replace(s, "[tools.a]", "[tools.Upper]", 1) },
			`17: tool name "Upper": use lowercase letters`},
		{"tool name leaving the directory", func(s string) string { return strings.Replace(s, "[tools.a]", `[tools."../../x"]`, 1) },
			`17: tool name "../../x": use lowercase letters`},
		{"tool name with a space", func(s string) string { return strings.Replace(s, "[tools.a]", `[tools."a b"]`, 1) },
			`17: tool name "a b"`},
		{"template in the ttl duration", func(s string) string {
			return s + "\n[build.ttl]\nduration = '{{cmd \"sh\" \"-c\" \"id\"}}'\n"
		}, `22: build.ttl.duration "{{cmd \"sh\" \"-c\" \"id\"}}": want a number and a unit`},
		{"secret in the ttl duration", func(s string) string { return s + "\n[build.ttl]\nduration = '{{.CI_REGISTRY_PASSWORD}}'\n" },
			`build.ttl.duration "{{.CI_REGISTRY_PASSWORD}}"`},
		{"ttl duration without unit", func(s string) string { return s + "\n[build.ttl]\nduration = '2'\n" },
			`build.ttl.duration "2"`},
		{"test stdout leaving the volume", func(s string) string {
			return s + "\n[[tools.a.tests]]\nname = \"t\"\n[tools.a.tests.execution.paths]\nvolume = \"vol\"\nstdout = \"../app.cwl\"\n"
		}, `25: tools.a.tests.0.execution.paths.stdout "../app.cwl": outside the test's volume`},
		{"absolute test outdir elsewhere", func(s string) string {
			return s + "\n[[tools.a.tests]]\nname = \"t\"\n[tools.a.tests.execution.paths]\noutdir = \"/etc\"\n"
		}, `tools.a.tests.0.execution.paths.outdir "/etc": outside the test's volume`},
		{"usage report leaving the volume", func(s string) string {
			return s + "\n[[workflows]]\npath = \"app.cwl\"\n[[workflows.tests]]\nname = \"w\"\n[workflows.tests.execution.cluster]\nusage_report = \"../../project.toml\"\n"
		}, `workflows.0.tests.0.execution.cluster.usage_report "../../project.toml": outside the test's volume`},
		{"tool logs at the volume itself", func(s string) string {
			return s + "\n[[tools.a.tests]]\nname = \"t\"\n[tools.a.tests.execution.cluster]\ntool_logs_basepath = \".\"\n"
		}, `tools.a.tests.0.execution.cluster.tool_logs_basepath ".": outside the test's volume`},
		{"dockerfile outside the context", func(s string) string {
			return strings.Replace(s, `path = "app.cwl#a"`, "path = \"app.cwl#a\"\ndockerfile = \"../b/Dockerfile\"", 1)
		}, `tools.a.dockerfile "../b/Dockerfile": outside the context "tools/a"`},
		{"negative concurrency", func(s string) string { return s + "\n[build.local]\nconcurrency = -5\n" },
			`22: build.local.concurrency = -5: want 0 (no limit) or more`},
		{"negative kaniko concurrency", func(s string) string { return s + "\n[build.kaniko]\nconcurrency = -1\n" },
			`build.kaniko.concurrency = -1`},
		{"one-character repository for Kaniko", func(s string) string {
			return strings.Replace(s, `registry = "ghcr.io/eoap"`, `registry = "ghcr.io"`, 1)
		}, `tool "a": image "ghcr.io/a" under profile cluster: Kaniko (go-containerregistry) refuses it: repository must be between 2 and 255 characters`},
		{"localhost without a port for Kaniko", func(s string) string {
			return strings.Replace(s, `registry = "ghcr.io/eoap"`, `registry = "localhost/eoap"`, 1)
		}, `tool "a": image "localhost/eoap/a" under profile cluster: Kaniko would push it to docker.io, not localhost`},
		{"missing CWL file", func(s string) string { return strings.Replace(s, `"app.cwl#a"`, `"gone.cwl#a"`, 1) },
			`19: tools.a.path "gone.cwl": no such file`},
		{"missing workflow file", func(s string) string { return s + "\n[[workflows]]\npath = \"wf.cwl#main\"\n" },
			`22: workflows.0.path "wf.cwl": no such file`},
		{"version that cannot tag", func(s string) string {
			return strings.Replace(s, `name = "p"`, "name = \"p\"\nversion = \"1.0 beta\"", 1)
		},
			`[project] version "1.0 beta": it tags the images and releases`},
		{"unknown buildkit cache", func(s string) string {
			return strings.Replace(s, `secret = "push"`, "secret = \"push\"\nbuildkitCache = \"s3\"", 1)
		}, `12: build.cluster.buildkitCache "s3": must be "daemon" or "registry"`},
		{"buildkit registry cache without a repository", func(s string) string {
			return strings.Replace(s, `registry = "ghcr.io/eoap"`, `buildkitCache = "registry"`, 1)
		}, `build.cluster.buildkitCache = "registry" needs a repository`},
		{"platform of another system", func(s string) string {
			return strings.Replace(s, `engine = "cluster"`, "engine = \"cluster\"\nplatforms = [\"windows/amd64\"]", 1)
		}, `6: build.platforms "windows/amd64": only linux images run CWL tools`},
		{"platform written twice", func(s string) string {
			return strings.Replace(s, `engine = "cluster"`, "engine = \"cluster\"\nplatforms = [\"linux/arm64\", \"linux/aarch64\"]\n[build.local]\nruntime = \"buildah\"", 1)
		}, `build.platforms: "linux/aarch64" is written twice (as linux/arm64)`},
		{"two platforms in the local kaniko runtime", func(s string) string {
			return strings.Replace(s, `engine = "cluster"`, "engine = \"cluster\"\n[build.local]\nruntime = \"kaniko\"", 1) + "platforms = [\"linux/amd64\", \"linux/arm64\"]\n"
		}, `tools.a.platforms: 2 platforms, but [build.local] runtime = "kaniko" builds one`},
		{"cache repository like an option", func(s string) string { return s + "\n[build.kaniko.cache]\nrepo = \"--insecure x\"\n" },
			`22: build.kaniko.cache.repo "--insecure x"`},
		{"bad engine", func(s string) string { return strings.Replace(s, `engine = "cluster"`, `engine = "k8s"`, 1) },
			`5: build.engine "k8s": must be "cluster" or "local"`},
		{"floating executor", func(s string) string {
			return s + "\n[build.kaniko]\nimage = \"gcr.io/kaniko-project/executor:latest\"\n"
		},
			`not a floating tag`},
		{"untagged executor", func(s string) string {
			return s + "\n[build.kaniko]\nimage = \"ghcr.io/osscontainertools/kaniko\"\n"
		},
			`not a floating tag`},
		{"invalid executor", func(s string) string {
			return s + "\n[build.kaniko]\nimage = \"ghcr.io/osscontainertools/Kaniko:v1.28.2\"\n"
		},
			`build.kaniko.image "ghcr.io/osscontainertools/Kaniko:v1.28.2": path components must be lowercase`},
		{"executor with a bad tag", func(s string) string {
			return s + "\n[build.kaniko]\nimage = \"ghcr.io/osscontainertools/kaniko:-v1\"\n"
		},
			`tag "-v1" must be`},
		{"syntax error", func(s string) string { return strings.Replace(s, `name = "p"`, `name = "p`, 1) },
			`2:`},
		{"wrong type", func(s string) string { return strings.Replace(s, `namespace = "ns"`, `namespace = 3`, 1) },
			`8:`},
		{"a path read as an option", func(s string) string {
			return strings.Replace(s, `path = "app.cwl#b"`, `path = "--print-deps.cwl#b"`, 1)
		},
			`tools.b.path "--print-deps.cwl#b": starts with '-', which cwltool would read as an option`},
		{"template in a value", func(s string) string { return strings.Replace(s, `namespace = "ns"`, `namespace = "{{.CI_TOKEN}}"`, 1) },
			`build.cluster.namespace "{{.CI_TOKEN}}": "{{" is not allowed here (Skaffold would evaluate it as a template)`},
		{"no registry", func(s string) string { return strings.Replace(s, `registry = "ghcr.io/eoap"`, ``, 1) },
			`tool "b" has no image under profile cluster: set build.local.registry or build.cluster.registry, or tools.b.image`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeProject(t, tc.edit(base))
			_, err := LoadProject(file)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), file+":") {
				t.Errorf("error does not start with the file name: %v", err)
			}
		})
	}
}

// TestSymlinksLeavingTheProject: contexts, Dockerfiles and CWL files are
// checked after resolving symlinks, so a link cannot lead out.
func TestSymlinksLeavingTheProject(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(outside, "app.cwl"), []byte("class: CommandLineTool\n"), 0o644)
	tests := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"context", func(dir string) {
			os.RemoveAll(filepath.Join(dir, "tools", "a"))
			os.Symlink(outside, filepath.Join(dir, "tools", "a"))
		}, `18: tools.a.context "tools/a": a symlink to ` + outside + `, outside the project directory`},
		{"dockerfile", func(dir string) {
			os.Remove(filepath.Join(dir, "tools", "a", "Dockerfile"))
			os.Symlink(filepath.Join(outside, "Dockerfile"), filepath.Join(dir, "tools", "a", "Dockerfile"))
		}, `tools.a.dockerfile "Dockerfile": a symlink to ` + filepath.Join(outside, "Dockerfile") + `, outside the context`},
		{"cwl file", func(dir string) {
			os.Remove(filepath.Join(dir, "app.cwl"))
			os.Symlink(filepath.Join(outside, "app.cwl"), filepath.Join(dir, "app.cwl"))
		}, `tools.b.path "app.cwl": a symlink to ` + filepath.Join(outside, "app.cwl") + `, outside the project directory`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeProject(t, base)
			tc.setup(filepath.Dir(file))
			_, err := LoadProject(file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
			// --allow-outside-paths lets a context or CWL file out of the
			// project, never a Dockerfile out of its context: the builder
			// sends only the context.
			_, err = LoadProjectWith(file, LoadOptions{AllowOutsidePaths: true})
			if refused := err != nil && strings.Contains(err.Error(), "symlink"); refused != (tc.name == "dockerfile") {
				t.Errorf("allowed: %v", err)
			}
		})
	}
	// A link that stays inside the project is fine.
	file := writeProject(t, base)
	dir := filepath.Dir(file)
	os.Rename(filepath.Join(dir, "app.cwl"), filepath.Join(dir, "real.cwl"))
	os.Symlink("real.cwl", filepath.Join(dir, "app.cwl"))
	if _, err := LoadProject(file); err != nil {
		t.Errorf("link inside the project: %v", err)
	}
}

// TestTestVolumeOutsideTheProject: published packages put test volumes at
// /calrissian/...: loading warns, the command that writes there refuses
// unless allowed.
func TestTestVolumeOutsideTheProject(t *testing.T) {
	file := writeProject(t, base+"\n[[tools.a.tests]]\nname = \"t\"\n[tools.a.tests.execution.paths]\nvolume = \"/calrissian/a\"\nstdout = \"out.json\"\n")
	p, err := LoadProject(file)
	if err != nil || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0].Error(), `24: tools.a.tests.0.execution.paths.volume "/calrissian/a": outside the project directory`) {
		t.Errorf("load: %v, warnings %v", err, p.Warnings)
	}
	if _, err := LoadProjectWith(file, LoadOptions{ConfineTestVolumes: true}); err == nil {
		t.Error("a run writing outside the project was allowed")
	}
	if p, err := LoadProjectWith(file, LoadOptions{ConfineTestVolumes: true, AllowOutsidePaths: true}); err != nil || len(p.Warnings) != 0 {
		t.Errorf("allowed: %v %v", err, p.Warnings)
	}
}

// TestExecutionKeysWarn: unknown keys in a test's execution tables are
// warnings with file, line and a suggestion (published packages carry
// pool_logs_basepath, which the shell Taskfile never read); the rest of the
// file still decodes.
func TestExecutionKeysWarn(t *testing.T) {
	extra := "\n[[tools.a.tests]]\nname = \"t\"\n[tools.a.tests.execution.paths]\nvolum = \"/x\"\n" +
		"\n[[workflows]]\npath = \"app.cwl\"\n[[workflows.tests]]\nname = \"w\"\n[workflows.tests.execution.cluster]\npool_logs_basepath = \"logs\"\nmax_ram = \"2G\"\n"
	file := writeProject(t, base+extra)
	p, err := LoadProject(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range p.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		file + `:24: unknown key "volum" in [tools.a.tests.execution.paths] (did you mean "volume"?): ignored`,
		file + `:31: unknown key "pool_logs_basepath" in [workflows.tests.execution.cluster] (did you mean "tool_logs_basepath"?): ignored`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ram := p.Workflows[0].Tests[0].Execution.Cluster.MaxRAM; ram != "2G" {
		t.Errorf("max_ram after an unknown key = %q, want 2G", ram)
	}
	if name := p.Tools["a"].Tests[0].Name; name != "t" {
		t.Errorf("test name = %q", name)
	}
	// An unknown key outside execution tables stays an error, and the
	// warnings do not hide it.
	if _, err := LoadProject(writeProject(t, base+extra+"\n[project.x]\ny = 1\n")); err == nil || !strings.Contains(err.Error(), `unknown key "x" in [project]`) {
		t.Errorf("unknown key outside execution: %v", err)
	}
}

// TestPathForms: tools.NAME.path is one reference or a list of them.
func TestPathForms(t *testing.T) {
	tests := []struct {
		name, path string
		want       []string
		wantErr    string
	}{
		{"string", `"app.cwl#a"`, []string{"app.cwl#a"}, ""},
		{"list", `["app.cwl#a", "app.cwl#a2"]`, []string{"app.cwl#a", "app.cwl#a2"}, ""},
		{"empty list", `[]`, nil, "19: tools.a.path is an empty list"},
		{"not a string", `["app.cwl#a", 3]`, nil, "19: tools.a.path[1]: want a string"},
		{"listed twice", `["app.cwl#a", "app.cwl#a"]`, nil, `19: tools.a.path[1]: "app.cwl#a" is listed twice`},
		{"table", `{x = 1}`, nil, `19: tools.a.path: want "FILE#ID" or a list of them`},
		{"missing file in a list", `["app.cwl#a", "gone.cwl#b"]`, nil, `19: tools.a.path.1 "gone.cwl": no such file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeProject(t, strings.Replace(base, `path = "app.cwl#a"`, "path = "+tc.path, 1))
			p, err := LoadProject(file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), file+":"+tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Tools["a"].Paths, tc.want) {
				t.Errorf("paths %q, want %q", p.Tools["a"].Paths, tc.want)
			}
		})
	}
}

// TestScopedChecks: each command checks what it uses. Without contexts the
// CWL-only load passes; without CWL the build-only load passes; a project
// with no tools loads (workflow tests only).
func TestScopedChecks(t *testing.T) {
	file := writeProject(t, base)
	dir := filepath.Dir(file)
	os.RemoveAll(filepath.Join(dir, "tools"))
	if _, err := LoadProject(file); err == nil {
		t.Error("full load without build contexts passed")
	}
	if _, err := LoadProjectWith(file, LoadOptions{SkipContexts: true}); err != nil {
		t.Errorf("CWL-only load: %v", err)
	}
	// The outside-the-project rule holds without reading contexts.
	out := writeProject(t, strings.Replace(base, `"tools/a"`, `"../elsewhere"`, 1))
	if _, err := LoadProjectWith(out, LoadOptions{SkipContexts: true}); err == nil || !strings.Contains(err.Error(), "outside the project directory") {
		t.Errorf("context outside the project, CWL-only load: %v", err)
	}
	file = writeProject(t, base)
	os.Remove(filepath.Join(filepath.Dir(file), "app.cwl"))
	if _, err := LoadProjectWith(file, LoadOptions{SkipCWL: true}); err != nil {
		t.Errorf("build-only load: %v", err)
	}
	if _, err := LoadProject(file); err == nil {
		t.Error("full load without the CWL file passed")
	}
	noTools := writeProject(t, "[build]\nengine = \"local\"\n\n[[workflows]]\npath = \"app.cwl\"\n[[workflows.tests]]\nname = \"w\"\n")
	if p, err := LoadProject(noTools); err != nil || len(p.ToolOrder) != 0 {
		t.Errorf("workflow-only project: %v", err)
	}
}

func TestValidProjectLoads(t *testing.T) {
	p, err := LoadProject(writeProject(t, base))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.ToolOrder, []string{"b", "a"}) {
		t.Errorf("order %v", p.ToolOrder)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"namespace", "serviceAccount", "registry", "secret"}
	for in, want := range map[string]string{"namespce": "namespace", "serviceaccount": "serviceAccount", "regsitry": "registry", "zzzzzzzzzz": ""} {
		if got := Suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExpectFileLinkRefused: a test's expect file that is a symlink out of
// the package is refused at load, naming the key and the target; one that
// stays inside loads.
func TestExpectFileLinkRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "expect.json")
	os.WriteFile(outside, []byte(`{"out": "Any"}`), 0o644)
	base := "[build]\nengine = \"local\"\n\n[build.local]\nregistry = \"localhost:5000\"\n\n[tools.a]\ncontext = \"tools/a\"\npath = \"app.cwl#a\"\n\n[[tools.a.tests]]\nname = \"t\"\nexpect = \"expect.json\"\n"
	file := writeProject(t, base)
	os.Symlink(outside, filepath.Join(filepath.Dir(file), "expect.json"))
	_, err := Load(file, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `tools.a.tests.0.expect "expect.json": a symlink to `+outside+`, outside the project directory`) {
		t.Errorf("an expect file linking out: %v", err)
	}
	file = writeProject(t, base)
	os.WriteFile(filepath.Join(filepath.Dir(file), "real.json"), []byte(`{"out": "Any"}`), 0o644)
	os.Symlink("real.json", filepath.Join(filepath.Dir(file), "expect.json"))
	if _, err := Load(file, LoadOptions{}); err != nil {
		t.Errorf("an expect file linking inside: %v", err)
	}
}

// Package interop checks, with Skaffold's own code, what Skaffold does with
// the generated configs where Skaffold's packages are needed beyond its
// schema types: its template evaluation (build args, env, buildCommand,
// labels) and its Kaniko pod arguments. Those packages need the replace
// directives of Skaffold's go.mod, which this module carries so that the
// main module needs none (and `go install` works for it).
package interop

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/util"
	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/skaffold"
)

// decodeSkaffold reads a config into Skaffold's schema types the way
// Skaffold does, refusing unknown fields.
func decodeSkaffold(t *testing.T, data []byte) *latest.SkaffoldConfig {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg latest.SkaffoldConfig
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("Skaffold's schema refuses the config: %v\n%s", err, data)
	}
	return &cfg
}

// hostile are values a project may legally hold that YAML reads as other
// types or as syntax when written carelessly.
var hostile = map[string]string{
	"BOOL":    "yes",
	"NUM":     "0x1F",
	"FLOAT":   ".5",
	"DATE":    "2001-12-14",
	"EMPTY":   "",
	"COLON":   "a: b",
	"COMMENT": "x #y",
	"DASH":    "- item",
	"QUOTES":  `it's "q"`,
	"NEWLINE": "one\ntwo\r\n",
	"TAB":     "\tx",
	"UNICODE": "é 日本 \u2028 \u00a0",
	"NULL":    "~",
	"MERGE":   "<<",
	"BACKSL":  `C:\path\`,
	"FLOWISH": "{a: [b]}",
	// Skaffold evaluates build args as Go templates: these must reach the
	// build as they are, never run a command or read the environment.
	"CMD":    `{{cmd "sh" "-c" "touch /tmp/cwlbuild-pwned"}}`,
	"SECRET": "{{.CI_REGISTRY_PASSWORD}}",
	"BRACES": "{{{ }} {{",
}

// TestHostileValuesReadBack writes build args, a target and paths that need
// quoting into a project and checks that Skaffold's types read back every one
// exactly, in the cluster (kaniko) and docker artifacts, after Skaffold's own
// template evaluation of build args.
func TestHostileValuesReadBack(t *testing.T) {
	dir := t.TempDir()
	ctx := filepath.Join(dir, "a dir", "#tool: x")
	if err := os.MkdirAll(ctx, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Docker file"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\nclass: CommandLineTool\nid: t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var toml strings.Builder
	toml.WriteString("[project]\nname = \"hostile\"\n[build]\nengine = \"cluster\"\n[build.local]\nruntime = \"docker\"\nregistry = \"localhost:5000\"\n")
	toml.WriteString("[build.cluster]\nnamespace = \"ns\"\nserviceAccount = \"sa\"\nregistry = \"ghcr.io/eoap\"\n")
	toml.WriteString("[tools.t]\ncontext = \"a dir/#tool: x\"\npath = \"app.cwl#t\"\ndockerfile = \"Docker file\"\ntarget = \"true\"\n[tools.t.buildArgs]\n")
	for k, v := range hostile {
		toml.WriteString(k + " = " + tomlString(v) + "\n")
	}
	file := filepath.Join(dir, "project.toml")
	if err := os.WriteFile(file, []byte(toml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := builder.Load(file, builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := skaffold.Generate(p, skaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := decodeSkaffold(t, data)
	want := map[string]*string{}
	for k, v := range hostile {
		want[k] = &v
	}
	t.Setenv("CI_REGISTRY_PASSWORD", "hunter2")
	check := func(where string, args map[string]*string, dockerfile, target, context string) {
		evaluated, err := util.EvaluateEnvTemplateMap(args)
		if err != nil {
			t.Fatalf("%s: Skaffold cannot evaluate the build args: %v", where, err)
		}
		if !reflect.DeepEqual(evaluated, want) {
			t.Errorf("%s: build args read back as %v", where, deref(evaluated))
		}
		if dockerfile != "Docker file" || target != "true" || context != "a dir/#tool: x" {
			t.Errorf("%s: dockerfile %q, target %q, context %q", where, dockerfile, target, context)
		}
	}
	art := cfg.Build.Artifacts[0]
	check("cluster", art.KanikoArtifact.BuildArgs, art.KanikoArtifact.DockerfilePath, art.KanikoArtifact.Target, art.Workspace)
	art = cfg.Profiles[1].Build.Artifacts[0] // local, docker runtime
	check("local", art.DockerArtifact.BuildArgs, art.DockerArtifact.DockerfilePath, art.DockerArtifact.Target, art.Workspace)
	if _, err := os.Stat("/tmp/cwlbuild-pwned"); err == nil {
		t.Error("a build arg ran a command")
	}
}

// TestTemplatedFieldsAreLiteral: every other field Skaffold evaluates as a
// template (the custom builder's command, Kaniko's env, the ttl tag) holds
// values from project.toml only as literals, and a project file name with a
// line break cannot add keys through the header comment.
func TestTemplatedFieldsAreLiteral(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"ctx", "{{.HOME}}"} {
		os.MkdirAll(filepath.Join(dir, c), 0o755)
		os.WriteFile(filepath.Join(dir, c, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	}
	toml := "[project]\nname = \"t\"\n[build]\nengine = \"local\"\n[build.local]\nruntime = \"podman\"\nregistry = \"localhost:5000\"\n" +
		"[build.cluster]\nregistry = \"ghcr.io/eoap\"\n[build.kaniko.registryMap]\n\"index.docker.io\" = \"mirror.example/hub\"\n" +
		"[tools.t]\ncontext = \"ctx\"\npath = \"app.cwl#t\"\n"
	file := filepath.Join(dir, "project{{.HOME}}\nbuild: {artifacts: []}\n#.toml")
	// A context whose name is a template is refused, with its key.
	os.WriteFile(file, []byte(strings.Replace(toml, `context = "ctx"`, `context = "{{.HOME}}"`, 1)), 0o644)
	if _, err := builder.Load(file, builder.LoadOptions{SkipCWL: true}); err == nil || !strings.Contains(err.Error(), `tools.t.context "{{.HOME}}": "{{" is not allowed here`) {
		t.Errorf("a templated context: %v", err)
	}
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := builder.Load(file, builder.LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := skaffold.Generate(p, skaffold.Options{PluginCommand: "cwlbuild"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := decodeSkaffold(t, data) // refuses unknown or repeated keys
	if n := len(cfg.Build.Artifacts); n != 1 {
		t.Fatalf("%d artifacts: the header comment added keys\n%s", n, data)
	}
	t.Setenv("HOME", "/root")
	cmd, err := util.ExpandEnvTemplate(cfg.Build.Artifacts[0].CustomArtifact.BuildCommand, nil)
	if err != nil || !strings.Contains(cmd, "project{{.HOME}}") {
		t.Errorf("buildCommand evaluates to %q (%v)", cmd, err)
	}
	env := cfg.Profiles[0].Build.Artifacts[0].KanikoArtifact.Env
	if len(env) != 1 {
		t.Fatalf("kaniko env %v", env)
	}
	if v, err := util.ExpandEnvTemplate(env[0].Value, nil); err != nil || v != "index.docker.io=mirror.example/hub" {
		t.Errorf("KANIKO_REGISTRY_MAP evaluates to %q (%v)", v, err)
	}
	tmpl := cfg.Profiles[2].Build.TagPolicy.EnvTemplateTagger.Template
	if v, err := util.ExpandEnvTemplate(tmpl, nil); err != nil || v != "2h" {
		t.Errorf("ttl tag evaluates to %q (%v)", v, err)
	}
}

func deref(m map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// tomlString writes a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestRevisionTemplate evaluates the revision label's template with
// Skaffold's own template code: CWLBUILD_REVISION when set, else empty
// (never Go's "<no value>").
func TestRevisionTemplate(t *testing.T) {
	v := skaffold.RevisionTemplate
	for _, tc := range []struct{ env, want string }{{"", ""}, {"0123abc", "0123abc"}} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("CWLBUILD_REVISION", tc.env)
			} else {
				os.Unsetenv("CWLBUILD_REVISION")
			}
			got, err := util.EvaluateEnvTemplateMap(map[string]*string{"r": &v})
			if err != nil {
				t.Fatal(err)
			}
			if *got["r"] != tc.want {
				t.Errorf("CWLBUILD_REVISION=%q: label %q, want %q", tc.env, *got["r"], tc.want)
			}
		})
	}
}

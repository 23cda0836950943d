package skaffold

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/util"
	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
)

// The generator builds Skaffold's own schema types; these tests check that
// what it writes is what Skaffold reads, and reads back the same.

func TestAPIVersionIsSkaffolds(t *testing.T) {
	if APIVersion != latest.Version {
		t.Fatalf("APIVersion = %s, the pinned Skaffold's schema is %s", APIVersion, latest.Version)
	}
}

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

// encodeSkaffold writes a config the way Skaffold's types encode it
// (yaml.v3, two-space indent; the kaniko and cluster sections through their
// own marshalers), without our header.
func encodeSkaffold(t *testing.T, cfg *latest.SkaffoldConfig) []byte {
	t.Helper()
	data, err := Marshal(cfg, "x")
	if err != nil {
		t.Fatal(err)
	}
	return withoutHeader(data)
}

// withoutHeader drops the generated-file comment line.
func withoutHeader(data []byte) []byte {
	_, body, _ := bytes.Cut(data, []byte("\n"))
	return body
}

// TestSkaffoldSchemaRoundTrip: each generated config, decoded into
// Skaffold's schema types and encoded back by them, gives exactly our bytes.
// A misspelt or misplaced key, a value of the wrong type, an order Skaffold
// would not write or a scalar read back differently all make it fail; this
// includes the kaniko and cluster sections, which Skaffold decodes loosely
// (an unknown key there is dropped, so the re-encoded bytes lose it).
func TestSkaffoldSchemaRoundTrip(t *testing.T) {
	for _, name := range append(projects, "cwltests") {
		t.Run(name, func(t *testing.T) {
			data := generate(t, filepath.Join("..", "testdata", "projects", name))
			again := encodeSkaffold(t, decodeSkaffold(t, data))
			if got := withoutHeader(data); !bytes.Equal(got, again) {
				t.Errorf("Skaffold's types encode the config differently.\nours:\n%s\nSkaffold's:\n%s", got, again)
			}
		})
	}
}

// TestSchemaCatchesTypos proves the round trip is a real check: a misspelt
// key inside a kaniko artifact, which Skaffold itself would silently ignore.
func TestSchemaCatchesTypos(t *testing.T) {
	data := generate(t, filepath.Join("..", "testdata", "projects", "extended"))
	broken := bytes.Replace(data, []byte("snapshotMode:"), []byte("snapshotMod:"), 1)
	if again := encodeSkaffold(t, decodeSkaffold(t, broken)); bytes.Equal(withoutHeader(broken), again) {
		t.Fatal("a misspelt kaniko key survived the round trip")
	}
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
	data, _, err := Generate(p, Options{})
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
	ctx := filepath.Join(dir, "{{.HOME}}")
	os.MkdirAll(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	toml := "[project]\nname = \"t\"\n[build]\nengine = \"local\"\n[build.local]\nruntime = \"podman\"\nregistry = \"localhost:5000\"\n" +
		"[build.cluster]\nregistry = \"ghcr.io/eoap\"\n[build.kaniko.registryMap]\n\"index.docker.io\" = \"mirror.example/{{.HOME}}\"\n" +
		"[tools.t]\ncontext = \"{{.HOME}}\"\npath = \"app.cwl#t\"\n"
	file := filepath.Join(dir, "project{{.HOME}}\nbuild: {artifacts: []}\n#.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := builder.Load(file, builder.LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := Generate(p, Options{PluginCommand: "cwlbuild"})
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
	if v, err := util.ExpandEnvTemplate(env[0].Value, nil); err != nil || v != "index.docker.io=mirror.example/{{.HOME}}" {
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

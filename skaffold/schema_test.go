package skaffold

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
)

// The generator writes YAML itself (see yaml.go); these tests hold it to
// Skaffold's own schema types, which the binary no longer links.

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
// own marshalers). Kubernetes types inside carry no yaml tags, so unset
// pointers come out as "valuefrom: null"; those are dropped.
func encodeSkaffold(t *testing.T, cfg *latest.SkaffoldConfig) []byte {
	t.Helper()
	var doc yaml.Node
	if err := doc.Encode(cfg); err != nil {
		t.Fatal(err)
	}
	dropNulls(&doc)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func dropNulls(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	}
	for _, c := range n.Content {
		dropNulls(c)
	}
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
}

// TestHostileValuesReadBack writes build args, a target and paths that need
// quoting into a project and checks that Skaffold's types read back every one
// exactly, in the cluster (kaniko) and docker artifacts.
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
	p, err := builder.LoadProject(file)
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
	check := func(where string, args map[string]*string, dockerfile, target, context string) {
		if !reflect.DeepEqual(args, want) {
			t.Errorf("%s: build args read back as %v", where, deref(args))
		}
		if dockerfile != "Docker file" || target != "true" || context != "a dir/#tool: x" {
			t.Errorf("%s: dockerfile %q, target %q, context %q", where, dockerfile, target, context)
		}
	}
	art := cfg.Build.Artifacts[0]
	check("cluster", art.KanikoArtifact.BuildArgs, art.KanikoArtifact.DockerfilePath, art.KanikoArtifact.Target, art.Workspace)
	art = cfg.Profiles[1].Build.Artifacts[0] // local, docker runtime
	check("local", art.DockerArtifact.BuildArgs, art.DockerArtifact.DockerfilePath, art.DockerArtifact.Target, art.Workspace)
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

package skaffold

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"gopkg.in/yaml.v3"
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

package build

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	ggtb "github.com/google/go-containerregistry/pkg/v1/tarball"
)

// platformArchive writes a docker-archive of a random image whose config
// names arch.
func platformArchive(t *testing.T, dir, arch string) string {
	t.Helper()
	img, _ := random.Image(100, 2)
	cfg, _ := img.ConfigFile()
	cfg.OS, cfg.Architecture = "linux", arch
	img, _ = mutate.ConfigFile(img, cfg)
	p := filepath.Join(dir, arch+".tar")
	tag, _ := name.NewTag("r/x:1")
	if err := ggtb.WriteToFile(p, tag, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWriteLayout: the layout holds one index under the tag, of one image
// per platform; the digest returned is the index blob's; an archive whose
// config names another architecture than its platform is refused and the
// earlier layout stays.
func TestWriteLayout(t *testing.T) {
	dir := t.TempDir()
	archives := []PlatformArchive{{"linux/amd64", platformArchive(t, dir, "amd64")}, {"linux/arm64", platformArchive(t, dir, "arm64")}}
	out := filepath.Join(dir, "x")
	idx, err := writeLayout(out, "1.0", archives)
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	data, _ := os.ReadFile(filepath.Join(out, "index.json"))
	if json.Unmarshal(data, &top) != nil || len(top.Manifests) != 1 || top.Manifests[0].Digest != idx.Digest || top.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "1.0" {
		t.Fatalf("index.json: %s, digest %s", data, idx.Digest)
	}
	lp, _ := layout.FromPath(out)
	ii, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ii.IndexManifest()
	inner, err := ii.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := inner.IndexManifest()
	if len(im.Manifests) != 2 || im.Manifests[1].Platform.Architecture != "arm64" || im.Manifests[1].Digest.String() != idx.Platforms[1].Digest {
		t.Errorf("inner index %+v, platforms %+v", im, idx.Platforms)
	}
	raw, _ := inner.RawManifest()
	if strings.Contains(string(raw), "artifactType") {
		t.Errorf("the index carries a field OCI 1.0 readers cannot keep: %s", raw)
	}
	wrong := []PlatformArchive{{"linux/arm64", archives[0].Path}}
	if _, err := writeLayout(out, "1.0", wrong); err == nil || !strings.Contains(err.Error(), "was built for linux/arm64 but says it is linux/amd64") {
		t.Errorf("an amd64 image as arm64: %v", err)
	}
	if again, _ := os.ReadFile(filepath.Join(out, "index.json")); string(again) != string(data) {
		t.Error("a failed write changed the earlier layout")
	}
}

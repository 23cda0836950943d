package imageref

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestArchiveDigest computes, on a docker-archive tarball the test writes,
// the digest of the manifest skopeo would push, and checks it against one
// built here from the blobs' own hashes; broken tarballs are refused.
func TestArchiveDigest(t *testing.T) {
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("layer bytes, gzip-compressed in the archive")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer)
	zw.Close()
	sum := func(b []byte) string { h := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(h[:]) }
	write := func(files map[string][]byte, order []string) string {
		path := filepath.Join(t.TempDir(), "image.tar")
		f, _ := os.Create(path)
		tw := tar.NewWriter(f)
		for _, name := range order {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg})
			tw.Write(files[name])
		}
		tw.Close()
		f.Close()
		return path
	}
	manifest := []byte(`[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["l1.tar.gz"]}]`)
	path := write(map[string][]byte{"manifest.json": manifest, "cfg.json": config, "l1.tar.gz": gz.Bytes()}, []string{"cfg.json", "l1.tar.gz", "manifest.json"})
	got, err := ArchiveDigest(path)
	if err != nil {
		t.Fatal(err)
	}
	want := sum([]byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}`,
		len(config), sum(config), len(layer), sum(layer))))
	if got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
	for name, files := range map[string]map[string][]byte{
		"no manifest":    {"cfg.json": config},
		"missing layer":  {"manifest.json": manifest, "cfg.json": config},
		"missing config": {"manifest.json": manifest, "l1.tar.gz": gz.Bytes()},
		"two images":     {"manifest.json": []byte(`[{"Config":"cfg.json"},{"Config":"cfg.json"}]`), "cfg.json": config},
	} {
		var order []string
		for n := range files {
			order = append(order, n)
		}
		if _, err := ArchiveDigest(write(files, order)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ArchiveDigest(filepath.Join(t.TempDir(), "none.tar")); err == nil {
		t.Error("a missing file was accepted")
	}
}

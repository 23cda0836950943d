package imageref

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// ArchiveDigest returns the manifest digest an image tarball (docker-archive,
// as `kaniko --tar-path` writes it) has once pushed with
// `skopeo copy --preserve-digests docker-archive:FILE docker://IMAGE`, which
// is also the digest `skopeo inspect docker-archive:FILE` reports. Kaniko's
// own --digest-file names an image no tool can push from the tarball, so
// `cwlbuild tar` records this one: the digest that will really be in the
// registry, and so the one cwlpatch must pin.
//
// The manifest is docker schema 2, compact JSON, config then layers, each
// layer described by its uncompressed digest and size.
func ArchiveDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	type entry struct {
		Config string
		Layers []string
	}
	var manifest []entry
	blobs := map[string]desc{}
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: not an image tarball: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return "", fmt.Errorf("%s: manifest.json: %v", path, err)
			}
			continue
		}
		d, err := digestUncompressed(tr)
		if err != nil {
			return "", fmt.Errorf("%s: %s: %v", path, h.Name, err)
		}
		blobs[h.Name] = d
	}
	if len(manifest) != 1 {
		return "", fmt.Errorf("%s: manifest.json lists %d images, want 1", path, len(manifest))
	}
	cfg, ok := blobs[manifest[0].Config]
	if !ok {
		return "", fmt.Errorf("%s: no config blob %s", path, manifest[0].Config)
	}
	type descriptor struct {
		MediaType string `json:"mediaType"`
		Size      int64  `json:"size"`
		Digest    string `json:"digest"`
	}
	m := struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{
		SchemaVersion: 2,
		MediaType:     "application/vnd.docker.distribution.manifest.v2+json",
		Config:        descriptor{"application/vnd.docker.container.image.v1+json", cfg.size, cfg.digest},
		Layers:        []descriptor{},
	}
	for _, l := range manifest[0].Layers {
		d, ok := blobs[l]
		if !ok {
			return "", fmt.Errorf("%s: no layer %s", path, l)
		}
		m.Layers = append(m.Layers, descriptor{"application/vnd.docker.image.rootfs.diff.tar.gzip", d.size, d.digest})
	}
	data, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

type desc struct {
	digest string
	size   int64
}

// digestUncompressed hashes a blob, gunzipping it first when it is gzip.
func digestUncompressed(r io.Reader) (desc, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return desc{}, err
		}
		defer zr.Close()
		src = zr
	}
	h := sha256.New()
	n, err := io.Copy(h, src)
	if err != nil {
		return desc{}, err
	}
	return desc{"sha256:" + hex.EncodeToString(h.Sum(nil)), n}, nil
}

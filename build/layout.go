package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggtarball "github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layoutIndex is the index an OCI layout holds: its digest and its
// platform images.
type layoutIndex struct {
	Digest    string
	Platforms []PlatformImage
}

// writeLayout writes dir as an OCI image layout holding one image index of
// the archives' images, each under its platform, the index named tag
// (org.opencontainers.image.ref.name). `skopeo copy --all
// --preserve-digests oci:DIR:TAG docker://REPO:TAG` pushes it byte for
// byte, so the index's digest is the one the registry will serve. The
// index is written here, field by field, with no field the OCI image spec
// 1.0 lacks (go-containerregistry would add artifactType, which older
// skopeo cannot keep and so refuses to copy unchanged). The layout is
// written beside dir and renamed over it: a failure leaves the earlier
// one.
func writeLayout(dir, tag string, archives []PlatformArchive) (*layoutIndex, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	lp, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return nil, err
	}
	type descriptor struct {
		MediaType   types.MediaType   `json:"mediaType"`
		Size        int64             `json:"size"`
		Digest      string            `json:"digest"`
		Platform    *v1.Platform      `json:"platform,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	type index struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
		Manifests     []descriptor    `json:"manifests"`
	}
	out := &layoutIndex{}
	idx := index{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, a := range archives {
		img, err := ggtarball.ImageFromPath(a.Path, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Path, err)
		}
		plat, err := v1.ParsePlatform(a.Platform)
		if err != nil {
			return nil, err
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Path, err)
		}
		if cfg.Architecture != plat.Architecture || cfg.OS != plat.OS {
			return nil, fmt.Errorf("%s was built for %s but says it is %s/%s", a.Path, a.Platform, cfg.OS, cfg.Architecture)
		}
		if img, err = ociImage(img, cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", a.Path, err)
		}
		if err := lp.WriteImage(img); err != nil {
			return nil, err
		}
		raw, err := img.RawManifest()
		if err != nil {
			return nil, err
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		out.Platforms = append(out.Platforms, PlatformImage{Platform: a.Platform, Digest: d.String()})
		idx.Manifests = append(idx.Manifests, descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(raw)), Digest: d.String(), Platform: plat})
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		return nil, err
	}
	d, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if err := lp.WriteBlob(d, io.NopCloser(bytes.NewReader(raw))); err != nil {
		return nil, err
	}
	top, err := json.Marshal(index{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []descriptor{{
		MediaType: types.OCIImageIndex, Size: int64(len(raw)), Digest: d.String(),
		Annotations: map[string]string{"org.opencontainers.image.ref.name": tag},
	}}})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "index.json"), top, 0o644); err != nil {
		return nil, err
	}
	out.Digest = d.String()
	old := tmp + "-old"
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return nil, err
	}
	os.RemoveAll(old)
	return out, nil
}

// ociImage is img (a Docker image, as Kaniko writes them) with OCI media
// types, its layers and config unchanged: an OCI layout's readers (skopeo's
// oci: transport) take only OCI manifests, and `--preserve-digests`
// forbids them to convert one.
func ociImage(img v1.Image, cfg *v1.ConfigFile) (v1.Image, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var adds []mutate.Addendum
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l, MediaType: types.OCILayer})
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	out, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigFile(out, cfg)
}

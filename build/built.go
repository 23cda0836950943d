package build

import (
	"fmt"

	"github.com/eoap/cwlbuild/internal/imageref"
)

// Built is an image a build made, by digest: what Tarballs returns and the
// release stages (SBOMs, signatures, provenance, verify) take, never a bare
// string. It is one image, or an index of one image per platform (ko's
// build.Result is an Image or an ImageIndex the same way).
type Built struct {
	Repo   string // registry/path, no tag
	Tag    string // "" when it was pushed by digest alone
	Digest string // "sha256:...": the image manifest's, or the index's
	// Platforms are an index's images, one per platform ("linux/arm64");
	// nil for a single image.
	Platforms []PlatformImage
}

// PlatformImage is one platform's image in an index.
type PlatformImage struct {
	Platform string
	Digest   string
}

// ParseBuilt reads REPOSITORY[:TAG]@sha256:DIGEST, as build.json and a
// pin name an image.
func ParseBuilt(ref string) (Built, error) {
	r, err := imageref.Parse(ref)
	if err != nil || r.Digest == "" {
		return Built{}, fmt.Errorf("%q: want REPOSITORY[:TAG]@sha256:DIGEST", ref)
	}
	return Built{Repo: r.Repo, Tag: r.Tag, Digest: r.Digest}, nil
}

// Ref is the image's reference, REPOSITORY[:TAG]@DIGEST.
func (b Built) Ref() string {
	if b.Tag != "" {
		return b.Repo + ":" + b.Tag + "@" + b.Digest
	}
	return b.Repo + "@" + b.Digest
}

// Index reports whether the image is an index of per-platform images.
func (b Built) Index() bool { return len(b.Platforms) > 0 }

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// buildsFromImages is the build output of a Skaffold after-build hook:
// each image (repo:tag, as SKAFFOLD_IMAGE names it) with its digest, asked
// of the registry with the Docker config's credentials when the reference
// has none.
func buildsFromImages(ctx context.Context, p *builder.Plan, images, insecure []string) (*buildjson.Output, error) {
	if len(insecure) == 0 {
		insecure = p.Kaniko.Insecure
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out := &buildjson.Output{}
	for _, img := range images {
		ref, err := imageref.Parse(img)
		if err != nil {
			return nil, fmt.Errorf("--image %v", err)
		}
		if ref.Digest == "" {
			digest, err := remote.Digest(ctx, img, insecure)
			if err != nil {
				return nil, fmt.Errorf("cannot read the digest of the image just built: %v", err)
			}
			ref.Digest = digest
		}
		out.Builds = append(out.Builds, buildjson.Build{ImageName: ref.Repo, Tag: ref.String()})
	}
	return out, nil
}

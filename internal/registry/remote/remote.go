// Package remote asks a container registry questions over the network, with
// the credentials of the Docker config (DOCKER_CONFIG, ~/.docker/config.json)
// and plain HTTP where internal/registry says so. It is a package of its own
// so that only the programs that call a registry link go-containerregistry's
// HTTP client: cwlbuild does not, and starts faster for it.
package remote

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/eoap/cwlbuild/internal/imageref"
)

// Digest asks the registry for the digest of image (a tag reference), using
// the Docker config's credentials.
func Digest(ctx context.Context, image string, insecure []string) (string, error) {
	var opts []name.Option
	if imageref.IsInsecure(image, insecure) {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(image, opts...)
	if err != nil {
		return "", fmt.Errorf("%s: %v", image, err)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return "", fmt.Errorf("%s: %v", image, err)
	}
	return desc.Digest.String(), nil
}

// Package catalog makes the software bill of materials of an image as it
// was pushed, with Anchore's syft as a library: the image is read from its
// registry by digest (never from a local daemon, so the SBOM describes the
// bytes the pin names), or from the docker-archive tarball a build wrote
// (the bytes that will be pushed), and encoded as SPDX 2.3 JSON or
// CycloneDX JSON.
package catalog

import (
	"context"
	"fmt"

	"github.com/anchore/stereoscope/pkg/image"
	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/format"
	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"
	sbomtypes "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/google/go-containerregistry/pkg/authn"
	// syft reads newer RPM databases through database/sql's "sqlite"
	// driver: without one, cataloguing fails on every image.
	_ "modernc.org/sqlite"

	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/sbomformat"
)

// Generate returns the SBOM of ref (REPO@DIGEST), read from its registry
// with the Docker config's credentials, plain HTTP where the registry is
// loopback or listed insecure.
func Generate(ctx context.Context, ref, f string, insecure []string) ([]byte, error) {
	opts := &image.RegistryOptions{Keychain: authn.DefaultKeychain, InsecureUseHTTP: imageref.IsInsecure(ref, insecure)}
	return generate(ctx, ref, f, syft.DefaultGetSourceConfig().WithSources("registry").WithRegistryOptions(opts))
}

// FromArchive returns the SBOM of the image in a docker-archive tarball
// (what `docker save`, Kaniko's --tar-path and skopeo's docker-archive
// transport write). Nothing else is tried: a path is never taken for an
// image name. The document names the image name@digest, when given, rather
// than the tarball's path on this machine.
func FromArchive(ctx context.Context, path, name, digest, f string) ([]byte, error) {
	cfg := syft.DefaultGetSourceConfig().WithSources(string(image.DockerTarballSource))
	if name != "" {
		cfg = cfg.WithAlias(source.Alias{Name: name, Version: digest})
	}
	return generate(ctx, path, f, cfg)
}

// FromDir returns the SBOM of the files under a directory (the Go
// binaries of a release, with the modules each was built from), named
// name. Nothing else is tried: a path is never taken for an image name.
func FromDir(ctx context.Context, path, name, f string) ([]byte, error) {
	return generate(ctx, path, f, syft.DefaultGetSourceConfig().WithSources("dir").WithAlias(source.Alias{Name: name}))
}

func generate(ctx context.Context, input, f string, cfg *syft.GetSourceConfig) ([]byte, error) {
	var enc sbomtypes.FormatEncoder
	var err error
	switch f {
	case sbomformat.SPDX:
		enc, err = spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig())
	case sbomformat.CycloneDX:
		enc, err = cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	default:
		_, err = sbomformat.MediaType(f)
	}
	if err != nil {
		return nil, err
	}
	src, err := syft.GetSource(ctx, input, cfg)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", input, err)
	}
	defer src.Close()
	s, err := syft.CreateSBOM(ctx, src, syft.DefaultCreateSBOMConfig())
	if err != nil {
		return nil, fmt.Errorf("cataloguing %s: %v", input, err)
	}
	return format.Encode(*s, enc)
}

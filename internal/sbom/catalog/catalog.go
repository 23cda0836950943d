// Package catalog makes the software bill of materials of an image as it
// was pushed, with Anchore's syft as a library: the image is read from its
// registry by digest (never from a local daemon, so the SBOM describes the
// bytes the pin names), and encoded as SPDX 2.3 JSON or CycloneDX JSON.
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
	"github.com/google/go-containerregistry/pkg/authn"
	// syft reads newer RPM databases through database/sql's "sqlite"
	// driver: without one, cataloguing fails on every image.
	_ "modernc.org/sqlite"

	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/sbom"
)

// Generate returns the SBOM of ref (REPO@DIGEST), read from its registry
// with the Docker config's credentials, plain HTTP where the registry is
// loopback or listed insecure.
func Generate(ctx context.Context, ref, f string, insecure []string) ([]byte, error) {
	var enc sbomtypes.FormatEncoder
	var err error
	switch f {
	case sbom.SPDX:
		enc, err = spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig())
	case sbom.CycloneDX:
		enc, err = cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	default:
		_, err = sbom.MediaType(f)
	}
	if err != nil {
		return nil, err
	}
	opts := &image.RegistryOptions{Keychain: authn.DefaultKeychain, InsecureUseHTTP: imageref.IsInsecure(ref, insecure)}
	src, err := syft.GetSource(ctx, ref, syft.DefaultGetSourceConfig().WithSources("registry").WithRegistryOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", ref, err)
	}
	defer src.Close()
	s, err := syft.CreateSBOM(ctx, src, syft.DefaultCreateSBOMConfig())
	if err != nil {
		return nil, fmt.Errorf("cataloguing %s: %v", ref, err)
	}
	return format.Encode(*s, enc)
}

// Package sbomformat names the SBOM formats a release attaches to its images and
// their media types; package catalog makes them (with syft, which only the
// programs that make SBOMs link).
package sbomformat

import "fmt"

// Formats and the media (and artifact) types of their documents.
const (
	SPDX      = "spdx"
	CycloneDX = "cyclonedx"

	SPDXMediaType      = "application/spdx+json"
	CycloneDXMediaType = "application/vnd.cyclonedx+json"
)

// MediaType is a format's document media type.
func MediaType(f string) (string, error) {
	switch f {
	case SPDX:
		return SPDXMediaType, nil
	case CycloneDX:
		return CycloneDXMediaType, nil
	}
	return "", fmt.Errorf("SBOM format %q: want %s or %s", f, SPDX, CycloneDX)
}

// MediaTypes are the artifact types of the SBOM referrers a release
// attests and verify accepts.
var MediaTypes = []string{SPDXMediaType, CycloneDXMediaType}

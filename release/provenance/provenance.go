// Package provenance writes the in-toto statements, with a SLSA
// provenance v1 predicate, that a release attests: one per image (its
// source, revision, the project.toml it was built from, how it was built)
// and one per published workflow (the CWL files, and every image digest
// they pin). `cwlbuild attest` signs them as cosign attestations; `cosign
// verify-attestation --type slsaprovenance1` reads them.
package provenance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/eoap/cwlbuild/builder"
)

// The in-toto and SLSA names, and this project's build types.
const (
	StatementType     = "https://in-toto.io/Statement/v1"
	PredicateType     = "https://slsa.dev/provenance/v1"
	BuildTypeImage    = "https://github.com/eoap/cwlbuild/image/v1"
	BuildTypeWorkflow = "https://github.com/eoap/cwlbuild/workflow/v1"
	BuilderID         = "https://github.com/eoap/cwlbuild"
)

// Statement is an in-toto statement v1.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject is what a statement is about: a name and its digests.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate is SLSA provenance v1.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition says what was built from what.
type BuildDefinition struct {
	BuildType            string             `json:"buildType"`
	ExternalParameters   map[string]any     `json:"externalParameters"`
	InternalParameters   map[string]any     `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescript `json:"resolvedDependencies,omitempty"`
}

// ResourceDescript is SLSA's ResourceDescriptor.
type ResourceDescript struct {
	URI       string            `json:"uri,omitempty"`
	Name      string            `json:"name,omitempty"`
	Digest    map[string]string `json:"digest,omitempty"`
	MediaType string            `json:"mediaType,omitempty"`
}

// RunDetails names the builder, and what the run made besides the
// subject: an image's SBOM referrers (name "sbom", the referrer manifest's
// digest, the SBOM's media type), which is how verify knows an SBOM was
// attached by the publisher and not by anyone who can push a referrer.
type RunDetails struct {
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	Byproducts []ResourceDescript `json:"byproducts,omitempty"`
}

// ByproductSBOM is the name of an SBOM among the byproducts.
const ByproductSBOM = "sbom"

// AddSBOM names the SBOM referrer (its manifest digest "sha256:HEX") of
// mediaType among st's byproducts.
func (st *Statement) AddSBOM(digest, mediaType string) {
	st.Predicate.RunDetails.Byproducts = append(st.Predicate.RunDetails.Byproducts, ResourceDescript{
		Name: ByproductSBOM, MediaType: mediaType, Digest: map[string]string{"sha256": strings.TrimPrefix(digest, "sha256:")}})
}

// SBOMs are the SBOM referrer digests ("sha256:HEX") st names.
func (st *Statement) SBOMs() []string {
	var out []string
	for _, b := range st.Predicate.RunDetails.Byproducts {
		if b.Name == ByproductSBOM && b.Digest["sha256"] != "" {
			out = append(out, "sha256:"+b.Digest["sha256"])
		}
	}
	return out
}

// subjectOf is REPO with the sha256 of "sha256:HEX".
func subjectOf(repo, digest string) (Subject, error) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexDigest) != 64 {
		return Subject{}, fmt.Errorf("%s@%s: not a sha256 digest", repo, digest)
	}
	return Subject{Name: repo, Digest: map[string]string{"sha256": hexDigest}}, nil
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// source is what both kinds of statement record of the package: its
// repository and revision, and the project.toml it was made from.
func source(p *builder.Plan) (map[string]any, []ResourceDescript, error) {
	toml, err := fileSHA256(p.File)
	if err != nil {
		return nil, nil, err
	}
	ext := map[string]any{
		"project":     map[string]string{"name": p.Name, "version": p.Version},
		"projectToml": map[string]any{"path": filepath.Base(p.File), "digest": map[string]string{"sha256": toml}},
		"source":      p.Source(),
		"revision":    p.Revision,
	}
	var deps []ResourceDescript
	if p.Revision != "" {
		uri := p.Source()
		if uri != "" {
			uri = "git+" + uri
		}
		deps = append(deps, ResourceDescript{URI: uri, Name: "source", Digest: map[string]string{"gitCommit": p.Revision}})
	}
	return ext, deps, nil
}

// Base is a base image of an image: its name as the Dockerfile writes it,
// and, when known, where it was read and the digest it resolves to. Known
// means checked: the base's layers are the first layers of the image
// (remote.Built.BuiltOn), not only that the tag names that digest today.
type Base struct {
	Name   string
	Pulled string
	Digest string
}

// Image is the provenance of one image of the package, REPO@DIGEST: the
// tool that builds it, how the plan builds it, and its base images (each
// whose digest is known is a resolved dependency).
func Image(p *builder.Plan, repo, digest string, bases []Base) (*Statement, error) {
	subj, err := subjectOf(repo, digest)
	if err != nil {
		return nil, err
	}
	ext, deps, err := source(p)
	if err != nil {
		return nil, err
	}
	if tool := ToolOf(p, repo); tool != "" {
		ext["tool"] = tool
	}
	internal := map[string]any{
		"engine":       string(p.Engine),
		"runtime":      string(p.Runtime),
		"kanikoImage":  p.Kaniko.Image,
		"reproducible": p.Reproducible,
	}
	if p.Engine == builder.EngineCluster {
		internal["reproducible"] = p.Kaniko.PodsReproducible
	}
	if len(bases) > 0 {
		var names []string
		for _, b := range bases {
			names = append(names, b.Name)
			hexDigest, ok := strings.CutPrefix(b.Digest, "sha256:")
			if !ok {
				continue
			}
			deps = append(deps, ResourceDescript{URI: "oci://" + b.Pulled, Name: "base image " + b.Name, Digest: map[string]string{"sha256": hexDigest}})
		}
		internal["baseImages"] = names
	}
	st := &Statement{Type: StatementType, Subject: []Subject{subj}, PredicateType: PredicateType}
	st.Predicate.BuildDefinition = BuildDefinition{BuildType: BuildTypeImage, ExternalParameters: ext, InternalParameters: internal, ResolvedDependencies: deps}
	st.Predicate.RunDetails.Builder.ID = BuilderID
	return st, nil
}

// ToolOf is the tool of project.toml whose image repo is, or "".
func ToolOf(p *builder.Plan, repo string) string {
	for _, a := range p.Artifacts {
		for _, img := range a.Images {
			if img == repo {
				return a.Tool
			}
		}
	}
	return ""
}

// Workflow is the provenance of a published workflow artifact REPO@DIGEST:
// its subjects are the artifact and every [[workflows]] file (by sha256),
// and it lists every image digest they pin.
func Workflow(p *builder.Plan, repo, digest string, pins []string) (*Statement, error) {
	subj, err := subjectOf(repo, digest)
	if err != nil {
		return nil, err
	}
	ext, deps, err := source(p)
	if err != nil {
		return nil, err
	}
	st := &Statement{Type: StatementType, Subject: []Subject{subj}, PredicateType: PredicateType}
	seen := map[string]bool{}
	for _, w := range p.Workflows {
		if seen[w.Path] {
			continue
		}
		seen[w.Path] = true
		sum, err := fileSHA256(w.Path)
		if err != nil {
			return nil, err
		}
		st.Subject = append(st.Subject, Subject{Name: filepath.ToSlash(w.File), Digest: map[string]string{"sha256": sum}})
	}
	pins = append([]string(nil), pins...)
	sort.Strings(pins)
	ext["images"] = pins
	st.Predicate.BuildDefinition = BuildDefinition{BuildType: BuildTypeWorkflow, ExternalParameters: ext, ResolvedDependencies: deps}
	st.Predicate.RunDetails.Builder.ID = BuilderID
	return st, nil
}

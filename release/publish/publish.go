// Package publish releases a package's pinned workflows to a registry: each
// [[workflows]] CWL file, exactly as it is on disk, becomes an OCI artifact
// PREFIX/STEM:VERSION next to the tools' images, which `oras pull` (or any
// registry client) fetches back byte for byte. A release never publishes a
// floating image: every CommandLineTool must be pinned by digest, and, when a
// build output is given, pinned to that build.
package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// Media types: IANA registers application/cwl+yaml and application/cwl+json
// for CWL documents; the artifact is typed application/cwl whatever its
// encoding.
const (
	ArtifactType  = "application/cwl"
	MediaTypeYAML = "application/cwl+yaml"
	MediaTypeJSON = "application/cwl+json"
)

// Options say where and what to publish.
type Options struct {
	// Registry is the repository prefix ("" is the default profile's
	// registry).
	Registry string
	// Tags are pushed besides [project] version ("latest", a channel).
	Tags []string
	// Candidate pushes under VERSION-candidate alone, not the version nor
	// Tags: a release signs, attests and verifies the candidate's digest,
	// then publishes again (the same bytes, the same digest) to promote
	// it, so that a failed step leaves no new version tag.
	Candidate bool
	// BuildJSON, when set, is the build output the workflows must already be
	// pinned to (`cwlpatch --check BUILD_JSON` would change nothing).
	BuildJSON string
}

// Release is one workflow file and where it goes.
type Release struct {
	File     string // as project.toml names it
	Path     string // absolute
	Repo     string // PREFIX/STEM
	Tags     []string
	Artifact *remote.Artifact
	// Digest is the manifest's, known before the push.
	Digest string
	// Candidate is the candidate's tag this publication promotes
	// (VERSION-candidate), "" for the candidate itself: when the registry
	// has it, what is published must be exactly it, the digest that was
	// signed and verified.
	Candidate string
}

// Prepare checks everything and builds each workflow's artifact; nothing is
// pushed. Any unpinned CommandLineTool, a file cwlpatch would still change,
// a missing version or registry is an error, and then no release is made.
func Prepare(ctx context.Context, plan *builder.Plan, opts Options) ([]*Release, error) {
	if plan.Version == "" {
		return nil, plan.Errorf("project", "[project] version is not set: it is the tag a release is published under")
	}
	prefix := strings.TrimSuffix(opts.Registry, "/")
	if prefix == "" {
		prefix = plan.Registries[plan.DefaultProfile()]
	}
	if prefix == "" {
		return nil, fmt.Errorf("%s: no registry for profile %s: give --registry", plan.File, plan.DefaultProfile())
	}
	files := workflowFiles(plan)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no [[workflows]] to publish", plan.File)
	}
	var errs []error
	rep, err := cwlpatch.CheckPins(ctx, plan, cwlpatch.CheckOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range rep.Problems {
		errs = append(errs, d)
	}
	// An index whose platform images are not all there would send a
	// runner of the missing platform nowhere.
	errs = append(errs, cwlpatch.MissingPlatformImages(ctx, rep.Pins, plan.Kaniko.Insecure)...)
	if opts.BuildJSON != "" {
		errs = append(errs, stale(ctx, plan, opts.BuildJSON)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	tags := append([]string{plan.Version}, opts.Tags...)
	if opts.Candidate {
		tags = []string{plan.Version + "-candidate"}
	}
	var out []*Release
	byRepo := map[string]*Release{}
	for _, w := range files {
		r, err := release(w, prefix, tags, annotations(plan))
		if err != nil {
			return nil, err
		}
		if !opts.Candidate {
			r.Candidate = plan.Version + "-candidate"
		}
		if other, ok := byRepo[r.Repo]; ok {
			errs = append(errs, fmt.Errorf("%s and %s would both be published as %s (one repository per file name): rename one", other.File, r.File, r.Repo))
			continue
		}
		byRepo[r.Repo] = r
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// workflowFiles are the [[workflows]] files, each once.
func workflowFiles(plan *builder.Plan) []builder.ProcessRef {
	seen := map[string]bool{}
	var out []builder.ProcessRef
	for _, w := range plan.Workflows {
		if !seen[w.Path] {
			seen[w.Path] = true
			out = append(out, w.ProcessRef)
		}
	}
	return out
}

// stale lists the workflow files that a patch with the build output would
// still change.
func stale(ctx context.Context, plan *builder.Plan, buildJSON string) []error {
	out, err := buildjson.ReadFile(buildJSON, nil)
	if err != nil {
		return []error{err}
	}
	oc, err := cwlpatch.Patch(ctx, plan, out, cwlpatch.Options{Pin: plan.Pin, Source: buildJSON})
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, ch := range oc.Changed() {
		errs = append(errs, fmt.Errorf("%s is not pinned to the images of %s: run `cwlpatch %s` first", ch.File, buildJSON, buildJSON))
	}
	return errs
}

func annotations(plan *builder.Plan) map[string]string {
	a := map[string]string{
		"org.opencontainers.image.title":   plan.Name,
		"org.opencontainers.image.version": plan.Version,
	}
	if plan.Description != "" {
		a["org.opencontainers.image.description"] = plan.Description
	}
	if s := plan.Source(); s != "" {
		a["org.opencontainers.image.source"] = s
	}
	if plan.Revision != "" {
		a["org.opencontainers.image.revision"] = plan.Revision
	}
	return a
}

func release(w builder.ProcessRef, prefix string, tags []string, ann map[string]string) (*Release, error) {
	data, err := os.ReadFile(w.Path)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(w.Path)
	stem := strings.ToLower(strings.TrimSuffix(base, filepath.Ext(base)))
	repo := prefix + "/" + stem
	for _, t := range tags {
		if _, err := imageref.Parse(repo + ":" + t); err != nil {
			return nil, fmt.Errorf("%s: cannot be published as %s:%s: %v", w.File, repo, t, err)
		}
	}
	mt := MediaTypeYAML
	if trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(trimmed) > 0 && trimmed[0] == '{' {
		mt = MediaTypeJSON
	}
	a := &remote.Artifact{
		ArtifactType: ArtifactType,
		Files:        []remote.File{{Data: data, MediaType: mt, Annotations: map[string]string{"org.opencontainers.image.title": base}}},
		Annotations:  ann,
	}
	manifest, err := a.Manifest()
	if err != nil {
		return nil, err
	}
	return &Release{File: w.File, Path: w.Path, Repo: repo, Tags: tags, Artifact: a, Digest: digestOf(manifest)}, nil
}

// Push publishes the releases: it first asks the registry for every image
// the workflows pin (a release never points at an image nobody can pull),
// then pushes every blob of every release, and only then the manifests,
// so that a registry error before the manifests publishes nothing. An
// error after the first manifest says exactly which references were
// published.
func Push(ctx context.Context, plan *builder.Plan, releases []*Release, insecure []string) error {
	rep, err := cwlpatch.CheckPins(ctx, plan, cwlpatch.CheckOptions{Registry: true, Insecure: insecure})
	if err != nil {
		return fmt.Errorf("nothing pushed: %w", err)
	}
	if len(rep.Problems) > 0 {
		errs := make([]error, len(rep.Problems))
		for i, d := range rep.Problems {
			errs[i] = d
		}
		return fmt.Errorf("nothing pushed:\n%w", errors.Join(errs...))
	}
	// Promotion by digest: after a candidate, the version names exactly
	// the candidate's manifest, or nothing is published (a file changed
	// since it was signed and verified: a concurrent run, a hand edit).
	for _, r := range releases {
		if r.Candidate == "" {
			continue
		}
		candidate, found, err := remote.DigestIfExists(ctx, r.Repo+":"+r.Candidate, insecure)
		if err != nil {
			return fmt.Errorf("nothing pushed: the candidate %s:%s: %w", r.Repo, r.Candidate, err)
		}
		if found && candidate != r.Digest {
			return fmt.Errorf("nothing pushed: %s is no longer the candidate %s:%s@%s that was signed and verified (it would publish %s): run the release again (publish --candidate, sign, attest, verify, publish), which replaces the candidate", r.File, r.Repo, r.Candidate, candidate, r.Digest)
		}
	}
	for _, r := range releases {
		if err := remote.PushBlobs(ctx, r.Repo, r.Artifact, insecure); err != nil {
			return fmt.Errorf("nothing published (only blobs, which no tag names, were uploaded): %w", err)
		}
	}
	var published []string
	for _, r := range releases {
		digest, err := remote.PushManifest(ctx, r.Repo, r.Tags, r.Artifact, insecure)
		if err == nil && digest != r.Digest {
			err = fmt.Errorf("%s: pushed manifest %s, expected %s", r.Repo, digest, r.Digest)
		}
		if err != nil {
			if len(published) == 0 {
				return fmt.Errorf("nothing published: %w", err)
			}
			return fmt.Errorf("%w\npublished before the error:\n  %s", err, strings.Join(published, "\n  "))
		}
		for _, t := range r.Tags {
			published = append(published, fmt.Sprintf("%s:%s@%s (%s)", r.Repo, t, r.Digest, r.File))
		}
	}
	return nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Package verify checks a release the way the people who run it can:
// with the publisher's public key and the registry alone. For a published
// workflow artifact: its signature, its provenance (the source revision,
// the images it pins); then, for every CommandLineTool of the workflow,
// that its pin is a digest, that the registry serves it (and that its tag,
// if it names one, still names that digest), that it is signed by the key,
// that it has an SBOM, and that its provenance names the workflow's
// revision. Nothing here trusts the package's project.toml.
package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sign"
	"github.com/eoap/cwlbuild/release/provenance"
)

// Options are what verification trusts.
type Options struct {
	Key      *ecdsa.PublicKey
	Insecure []string
	// SBOM requires an SBOM referrer of each image (its artifact types).
	SBOM []string
	// Artifact is the published workflow a file is checked against (File):
	// the file is verified only when that artifact's signed provenance
	// names its sha256.
	Artifact string
}

// Image is the outcome for one CommandLineTool's image.
type Image struct {
	Process, Ref string
	Revision     string // its provenance's
	Problems     []string
}

// Report is the outcome for a workflow.
type Report struct {
	// Workflow is what was checked: the artifact reference (with its
	// digest), or the file.
	Workflow string
	// Revision is the source revision the workflow's provenance names.
	Revision string
	Problems []string
	Images   []Image
}

// Failed reports whether anything failed.
func (r *Report) Failed() bool {
	if len(r.Problems) > 0 {
		return true
	}
	for _, i := range r.Images {
		if len(i.Problems) > 0 {
			return true
		}
	}
	return false
}

// Diagnostics are the report's failures as the diagnostics every check
// reports in (`cwlbuild verify --format json`): the workflow's, then each
// image's, naming the process and its image.
func (r *Report) Diagnostics() []builder.Diagnostic {
	out := []builder.Diagnostic{}
	for _, p := range r.Problems {
		out = append(out, builder.Diagnostic{Severity: builder.SeverityError, Message: fmt.Sprintf("workflow %s: %s", r.Workflow, p)})
	}
	for _, i := range r.Images {
		for _, p := range i.Problems {
			out = append(out, builder.Diagnostic{Severity: builder.SeverityError, Message: fmt.Sprintf("%s %s: %s", i.Process, i.Ref, p)})
		}
	}
	return out
}

// Artifact verifies a published workflow artifact REF (a tag or a digest).
func Artifact(ctx context.Context, ref string, opts Options) (*Report, error) {
	r, err := imageref.Parse(ref)
	if err != nil {
		return nil, err
	}
	digest := r.Digest
	served, err := remote.Digest(ctx, tagged(r), opts.Insecure)
	if err != nil {
		return nil, err
	}
	if digest == "" {
		digest = served
	}
	rep := &Report{Workflow: r.Repo + "@" + digest}
	if digest != served {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s names %s, but the registry serves %s", ref, digest, served))
	}
	layers, err := remote.Layers(ctx, r.Repo, digest, opts.Insecure)
	if err != nil {
		return nil, err
	}
	var cwl []byte
	var file string
	for _, l := range layers {
		if strings.HasPrefix(l.MediaType, "application/cwl") {
			cwl, file = l.Data, l.Annotations["org.opencontainers.image.title"]
			break
		}
	}
	if cwl == nil {
		return nil, fmt.Errorf("%s: not a workflow artifact (no application/cwl layer)", ref)
	}
	keyed, probs := keyBundles(ctx, r.Repo, digest, opts)
	rep.Problems = append(rep.Problems, probs...)
	rep.Problems = append(rep.Problems, signed(ctx, r.Repo, digest, keyed, opts)...)
	st, probs := attested(ctx, r.Repo, digest, provenance.BuildTypeWorkflow, keyed, opts, "")
	rep.Problems = append(rep.Problems, probs...)
	var pins []string
	if st != nil {
		rep.Revision = revisionOf(st)
		sum := sha256.Sum256(cwl)
		if !hasSubjectDigest(st, hex.EncodeToString(sum[:])) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("the provenance does not name the workflow file %s as published (its sha256 %x)", file, sum))
		}
		pins = pinsOf(st)
	}
	if err := checkImages(ctx, rep, file, cwl, pins, st != nil, opts); err != nil {
		return nil, err
	}
	return rep, nil
}

// File verifies a workflow file a platform received. A file has no
// signature of its own: it is verified only when the signed provenance of
// the published workflow it came from (opts.Artifact) names its sha256;
// otherwise the report says the file itself is not verified, whatever its
// images (a signed pin can be copied into any file, beside a changed
// baseCommand or a tool of its own). Its images are checked either way;
// each one's provenance must name one revision, the same for all.
func File(ctx context.Context, name string, data []byte, opts Options) (*Report, error) {
	rep := &Report{Workflow: name}
	sum := sha256.Sum256(data)
	var pins []string
	listed := false
	if opts.Artifact == "" {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the file itself is not verified: no signed provenance is given that names its sha256 %x (give --artifact REF, the published workflow it came from)", sum))
	} else {
		r, err := imageref.Parse(opts.Artifact)
		if err != nil {
			return nil, err
		}
		digest, err := remote.Digest(ctx, tagged(r), opts.Insecure)
		if err != nil {
			return nil, err
		}
		keyed, probs := keyBundles(ctx, r.Repo, digest, opts)
		rep.Problems = append(rep.Problems, probs...)
		rep.Problems = append(rep.Problems, signed(ctx, r.Repo, digest, keyed, opts)...)
		st, probs := attested(ctx, r.Repo, digest, provenance.BuildTypeWorkflow, keyed, opts, "")
		rep.Problems = append(rep.Problems, probs...)
		if st != nil {
			if !hasSubjectDigest(st, hex.EncodeToString(sum[:])) {
				rep.Problems = append(rep.Problems, fmt.Sprintf("the file itself is not verified: the provenance of %s@%s does not name its sha256 %x (it is not the file published there)", r.Repo, digest, sum))
			} else {
				rep.Revision, pins, listed = revisionOf(st), pinsOf(st), true
			}
		}
	}
	if err := checkImages(ctx, rep, name, data, pins, listed, opts); err != nil {
		return nil, err
	}
	for _, i := range rep.Images {
		if i.Revision != "" && rep.Revision == "" {
			rep.Revision = i.Revision
		}
	}
	for k := range rep.Images {
		if i := &rep.Images[k]; i.Revision != "" && i.Revision != rep.Revision {
			i.Problems = append(i.Problems, fmt.Sprintf("its provenance names revision %s, the other images' %s", i.Revision, rep.Revision))
		}
	}
	return rep, nil
}

// pinsOf are the images a workflow's provenance lists.
func pinsOf(st *provenance.Statement) []string {
	var pins []string
	if images, ok := st.Predicate.BuildDefinition.ExternalParameters["images"].([]any); ok {
		for _, i := range images {
			if s, ok := i.(string); ok {
				pins = append(pins, s)
			}
		}
	}
	return pins
}

// tagged is the reference to ask the registry for: the digest when there
// is one (a pinned reference), else the tag.
func tagged(r imageref.Reference) string {
	if r.Digest != "" {
		return r.Repo + "@" + r.Digest
	}
	return r.String()
}

func checkImages(ctx context.Context, rep *Report, file string, cwl []byte, pins []string, listed bool, opts Options) error {
	tools, err := cwlpatch.FileImages(file, cwl)
	if err != nil {
		return err
	}
	if len(tools) == 0 {
		rep.Problems = append(rep.Problems, "the workflow has no CommandLineTool")
	}
	// Each distinct pin is checked once (a thousand tools may share one
	// image); an interrupt stops the checks at once and verifies nothing.
	type outcome struct {
		problems []string
		revision string
	}
	checked := map[string]outcome{}
	for n, t := range tools {
		if ctx.Err() != nil {
			return interrupted(ctx, n, len(tools))
		}
		if t.Ref == "" && t.Problem != "" {
			// A step the file cannot resolve: the workflow itself fails.
			rep.Problems = append(rep.Problems, t.Problem)
			continue
		}
		img := Image{Process: t.Process, Ref: t.Ref}
		if t.Problem != "" {
			img.Problems = append(img.Problems, t.Problem)
		}
		switch {
		case t.Ref == "":
			img.Problems = append(img.Problems, "no DockerRequirement: no image to verify")
		case !t.Pinned:
			img.Problems = append(img.Problems, "not pinned by digest")
		default:
			o, ok := checked[t.Ref]
			if !ok {
				o.problems, o.revision = checkImage(ctx, t.Ref, rep.Revision, opts)
				if ctx.Err() != nil {
					return interrupted(ctx, n, len(tools))
				}
				checked[t.Ref] = o
			}
			img.Problems, img.Revision = append([]string(nil), o.problems...), o.revision
			if listed && !contains(pins, t.Ref) {
				img.Problems = append(img.Problems, "the workflow's provenance does not list this pin")
			}
		}
		rep.Images = append(rep.Images, img)
	}
	return nil
}

// interrupted is the error of checks stopped by ctx (a signal, --timeout)
// after done of total images: nothing is verified.
func interrupted(ctx context.Context, done, total int) error {
	return fmt.Errorf("stopped after %d of %d images (%v): nothing is verified", done, total, context.Cause(ctx))
}

// checkImage checks one pinned image: served, tag unchanged, signed,
// attested at the revision (when known), with an SBOM.
func checkImage(ctx context.Context, ref, revision string, opts Options) (problems []string, rev string) {
	r, err := imageref.Parse(ref)
	if err != nil {
		return []string{err.Error()}, ""
	}
	served, err := remote.Digest(ctx, r.Repo+"@"+r.Digest, opts.Insecure)
	if err != nil || served != r.Digest {
		return []string{fmt.Sprintf("the registry does not serve %s: %v", r.Digest, err)}, ""
	}
	if r.Tag != "" {
		if now, err := remote.Digest(ctx, r.Repo+":"+r.Tag, opts.Insecure); err == nil && now != r.Digest {
			problems = append(problems, fmt.Sprintf("tag %s now names %s, not the pinned digest", r.Tag, now))
		}
	}
	keyed, probs := keyBundles(ctx, r.Repo, r.Digest, opts)
	problems = append(problems, probs...)
	problems = append(problems, signed(ctx, r.Repo, r.Digest, keyed, opts)...)
	st, probs := attested(ctx, r.Repo, r.Digest, provenance.BuildTypeImage, keyed, opts, revision)
	problems = append(problems, probs...)
	if st != nil {
		rev = revisionOf(st)
		if revision != "" && rev != revision {
			problems = append(problems, fmt.Sprintf("its provenance names revision %q, the workflow's %q", rev, revision))
		}
	}
	if len(opts.SBOM) > 0 {
		problems = append(problems, boundSBOM(ctx, r.Repo, r.Digest, st, opts)...)
	}
	// An index: a runner pulls its platform's image, which must be signed,
	// attested and described as the index is.
	platforms, err := remote.IndexManifests(ctx, r.Repo, r.Digest, opts.Insecure)
	if err != nil {
		return append(problems, fmt.Sprintf("its platform images cannot be listed: %v", err)), rev
	}
	for _, p := range platforms {
		for _, prob := range checkPlatformImage(ctx, r.Repo, p.Digest, revision, opts) {
			problems = append(problems, fmt.Sprintf("its %s image %s: %s", p.Platform, p.Digest, prob))
		}
	}
	return problems, rev
}

// checkPlatformImage checks one platform image of an index: served,
// signed, attested at the revision (when known), with an SBOM.
func checkPlatformImage(ctx context.Context, repo, digest, revision string, opts Options) []string {
	if served, err := remote.Digest(ctx, repo+"@"+digest, opts.Insecure); err != nil || served != digest {
		return []string{fmt.Sprintf("the registry does not serve it: %v", err)}
	}
	keyed, problems := keyBundles(ctx, repo, digest, opts)
	problems = append(problems, signed(ctx, repo, digest, keyed, opts)...)
	st, probs := attested(ctx, repo, digest, provenance.BuildTypeImage, keyed, opts, revision)
	problems = append(problems, probs...)
	if st != nil && revision != "" && revisionOf(st) != revision {
		problems = append(problems, fmt.Sprintf("its provenance names revision %q, the workflow's %q", revisionOf(st), revision))
	}
	if len(opts.SBOM) > 0 {
		problems = append(problems, boundSBOM(ctx, repo, digest, st, opts)...)
	}
	return problems
}

// boundSBOM checks that digest has an SBOM its signed provenance names: a
// referrer listed among the statement's byproducts, of an SBOM type, whose
// subject is digest and whose file is such an SBOM. Anyone who may push to
// the repository can attach a referrer; only the key binds one.
func boundSBOM(ctx context.Context, repo, digest string, st *provenance.Statement, opts Options) []string {
	attached, err := remote.Referrers(ctx, repo, digest, opts.SBOM, opts.Insecure)
	if err != nil {
		return []string{fmt.Sprintf("its SBOM: %v", err)}
	}
	if len(attached) == 0 {
		return []string{"no SBOM is attached to it"}
	}
	if st == nil {
		return nil // no provenance: said already
	}
	named := map[string]bool{}
	for _, d := range st.SBOMs() {
		named[d] = true
	}
	var why []string
	for _, a := range attached {
		if !named[a.Digest] {
			continue
		}
		ref, err := remote.ReadReferrer(ctx, repo, a.Digest, opts.Insecure)
		switch {
		case err != nil:
			why = append(why, err.Error())
		case ref.Subject != digest:
			why = append(why, fmt.Sprintf("its SBOM %s is of %s", a.Digest, ref.Subject))
		case !isSBOM(ref.ArtifactType, ref.Data):
			why = append(why, fmt.Sprintf("its SBOM %s is not an %s document", a.Digest, ref.ArtifactType))
		default:
			return nil
		}
	}
	if len(why) == 0 {
		return []string{fmt.Sprintf("no SBOM its signed provenance names is attached to it (%d unsigned: a referrer anyone who may push can add)", len(attached))}
	}
	return why
}

// isSBOM says whether data is an SBOM of the artifact type: SPDX JSON
// (spdxVersion) or CycloneDX JSON (bomFormat "CycloneDX").
func isSBOM(artifactType string, data []byte) bool {
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		BOMFormat   string `json:"bomFormat"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return false
	}
	if strings.Contains(artifactType, "spdx") {
		return strings.HasPrefix(doc.SPDXVersion, "SPDX-")
	}
	return doc.BOMFormat == "CycloneDX"
}

// signed checks for a signature of digest by the key, in either of
// cosign's formats: a simple-signing layer of the sha256-HEX.sig tag, or a
// Sigstore bundle whose statement (https://sigstore.dev/cosign/sign/v1)
// names the digest. keyed are the statements the key signed in bundles
// attached to the digest.
func signed(ctx context.Context, repo, digest string, keyed [][]byte, opts Options) []string {
	for _, p := range keyed {
		if st, ok := statementOf(p); ok && st.PredicateType == sign.SignPredicateType && hasSubjectDigest(st, strings.TrimPrefix(digest, "sha256:")) {
			return nil
		}
	}
	layers, err := remote.Layers(ctx, repo, remote.SignatureTag(digest), opts.Insecure)
	if err != nil {
		return []string{fmt.Sprintf("its signatures: %v", err)}
	}
	if len(layers) == 0 {
		return []string{"not signed (no " + remote.SignatureTag(digest) + " and no Sigstore bundle by the key)"}
	}
	for _, l := range layers {
		var p struct {
			Critical struct {
				Image struct {
					Digest string `json:"docker-manifest-digest"`
				} `json:"image"`
			} `json:"critical"`
		}
		if json.Unmarshal(l.Data, &p) != nil || p.Critical.Image.Digest != digest {
			continue
		}
		if sign.Verify(opts.Key, l.Data, l.Annotations[remote.SignatureAnnotation]) {
			return nil
		}
	}
	return []string{fmt.Sprintf("none of its %d signatures is by the key, nor a Sigstore bundle", len(layers))}
}

// keyBundles are the in-toto statements the key signed in the Sigstore
// bundles attached to repo@digest (cosign v3's format, both signatures and
// attestations); bundles of other keys, or not bundles, are left out.
func keyBundles(ctx context.Context, repo, digest string, opts Options) ([][]byte, []string) {
	bundles, err := remote.Bundles(ctx, repo, digest, sign.BundleMediaType, opts.Insecure)
	if err != nil {
		return nil, []string{fmt.Sprintf("its Sigstore bundles: %v", err)}
	}
	var out [][]byte
	for _, b := range bundles {
		if p, err := sign.OpenBundle(opts.Key, b.Data); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// statementOf parses an in-toto statement.
func statementOf(payload []byte) (*provenance.Statement, bool) {
	var st provenance.Statement
	if json.Unmarshal(payload, &st) != nil {
		return nil, false
	}
	return &st, true
}

// attested returns the SLSA provenance of digest signed by the key (in
// the sha256-HEX.att tag or among the statements of keyed bundles), of
// the build type wanted: of several (an image unchanged over releases is
// attested once per release, at each one's revision), the one at revision
// when it is not "" and there, else the first.
func attested(ctx context.Context, repo, digest, buildType string, keyed [][]byte, opts Options, revision string) (*provenance.Statement, []string) {
	layers, err := remote.Layers(ctx, repo, remote.AttestationTag(digest), opts.Insecure)
	if err != nil {
		return nil, []string{fmt.Sprintf("its attestations: %v", err)}
	}
	payloads := append([][]byte(nil), keyed...)
	for _, l := range layers {
		typ, payload, err := sign.OpenEnvelope(opts.Key, l.Data)
		if err == nil && typ == sign.InTotoPayloadType {
			payloads = append(payloads, payload)
		}
	}
	hexDigest := strings.TrimPrefix(digest, "sha256:")
	var all []*provenance.Statement
	for _, p := range payloads {
		st, ok := statementOf(p)
		if ok && st.PredicateType == provenance.PredicateType && st.Predicate.BuildDefinition.BuildType == buildType && hasSubjectDigest(st, hexDigest) {
			all = append(all, st)
		}
	}
	if len(all) == 0 {
		return nil, []string{"no SLSA provenance signed by the key"}
	}
	chosen := all[0]
	for _, st := range all {
		if revision != "" && revisionOf(st) == revision {
			chosen = st
			break
		}
	}
	// An SBOM any of the key's statements of this digest names is bound
	// (an SBOM attached after one attestation is named by the next).
	for _, st := range all {
		if st != chosen {
			chosen.Predicate.RunDetails.Byproducts = append(chosen.Predicate.RunDetails.Byproducts, st.Predicate.RunDetails.Byproducts...)
		}
	}
	return chosen, nil
}

func hasSubjectDigest(st *provenance.Statement, hexDigest string) bool {
	for _, s := range st.Subject {
		if s.Digest["sha256"] == hexDigest {
			return true
		}
	}
	return false
}

func revisionOf(st *provenance.Statement) string {
	rev, _ := st.Predicate.BuildDefinition.ExternalParameters["revision"].(string)
	return rev
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

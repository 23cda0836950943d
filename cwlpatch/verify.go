package cwlpatch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// CheckOptions tune CheckPins.
type CheckOptions struct {
	// Registry also asks the registry for every pinned image (MissingPins).
	Registry bool
	// Insecure lists registries reached over plain HTTP besides loopback
	// ones (default: the project's).
	Insecure []string
}

// CheckReport is what CheckPins found.
type CheckReport struct {
	// Problems are Unpinned's lines, then the registry's (MissingPins).
	Problems []string
	// Processes counts the CommandLineTools checked.
	Processes int
	// External are the digest-pinned images no tool builds: accepted, and
	// listed for a reviewer.
	External []PinnedImage
}

// CheckPins is `cwlpatch --check`'s verdict on the package as it is on
// disk: every CommandLineTool runs an image pinned by digest (Unpinned),
// and, with opts.Registry, the registry serves each pinned image. A report
// with problems is a failed check; an error is a package that does not
// load.
func CheckPins(ctx context.Context, p *builder.Plan, opts CheckOptions) (*CheckReport, error) {
	s, runs, err := runningProcesses(p)
	if err != nil {
		return nil, err
	}
	problems, err := s.unpinned(runs)
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{Processes: len(runs)}
	for _, pr := range problems {
		rep.Problems = append(rep.Problems, pr.Message)
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	pins, err := pinnedImages(runs)
	if err != nil {
		return nil, err
	}
	for _, pin := range pins {
		if pin.External {
			rep.External = append(rep.External, pin)
		}
	}
	if opts.Registry {
		insecure := opts.Insecure
		if len(insecure) == 0 {
			insecure = p.Kaniko.Insecure
		}
		for _, e := range missingPins(ctx, pins, insecure) {
			rep.Problems = append(rep.Problems, e.Error())
		}
	}
	return rep, nil
}

// MissingPins asks the registry, with the Docker config's credentials, for
// the manifest of every image the package's CommandLineTools run by digest
// (PinnedImages) and lists, with the place that pins it, each one
// it does not serve: what `cwlpatch --check --registry` and a release
// refuse.
func MissingPins(ctx context.Context, plan *builder.Plan, insecure []string) []error {
	pins, err := PinnedImages(plan)
	if err != nil {
		return []error{err}
	}
	return missingPins(ctx, pins, insecure)
}

// missingPins is MissingPins on pins already listed.
func missingPins(ctx context.Context, pins []PinnedImage, insecure []string) []error {
	var errs []error
	for _, p := range pins {
		digest, err := remote.Digest(ctx, p.Ref, insecure)
		want := p.Ref[strings.LastIndexByte(p.Ref, '@')+1:]
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s pins an image the registry does not serve: %v", p.Place, err))
		case digest != want:
			errs = append(errs, fmt.Errorf("%s pins %s, but the registry serves %s for it", p.Place, p.Ref, digest))
		}
	}
	return errs
}

// BuildsFromImages is the build output of a Skaffold after-build hook:
// each image (repo:tag, as SKAFFOLD_IMAGE names it) with its digest, asked
// of the registry with the Docker config's credentials when the reference
// has none.
func BuildsFromImages(ctx context.Context, p *builder.Plan, images, insecure []string) (*buildjson.Output, error) {
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

// ToolImage is the image one CommandLineTool of a workflow file runs.
type ToolImage struct {
	// Process names the tool (its id, or its step when anonymous), Line
	// where its dockerPull is.
	Process string
	Line    int
	// Ref is the dockerPull; "" when the tool has none.
	Ref string
	// Pinned is set when Ref is pinned by digest.
	Pinned bool
}

// FileImages lists the image of every CommandLineTool of one workflow file
// read on its own (a published artifact, a file a platform received): the
// last DockerRequirement cwltool would read of it, requirements over hints.
// name is how messages call the file; $imports are not followed.
func FileImages(name string, data []byte) ([]ToolImage, error) {
	d, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	singleSet(d)
	var out []ToolImage
	for _, proc := range d.Processes {
		if proc.Class != "CommandLineTool" {
			continue
		}
		sites, err := processSites(proc)
		if err != nil {
			return nil, err
		}
		ti := ToolImage{Process: proc.Desc(), Line: d.lineOf(d.offset(proc.Node))}
		for _, st := range sites { // hints first, then requirements: the last wins
			if st.pull != nil && st.pull.Kind == yaml.ScalarNode {
				ti.Ref, ti.Line = st.pull.Value, st.pull.Line
			}
		}
		ti.Pinned = ti.Ref != "" && isDigestPinned(ti.Ref)
		out = append(out, ti)
	}
	return out, nil
}

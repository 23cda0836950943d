package cwlpatch

import (
	"context"
	"errors"
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
	// Registry also asks the registry, with the Docker config's
	// credentials, for the manifest of every image the package's
	// CommandLineTools run by digest, and reports each one it does not
	// serve, with the place that pins it.
	Registry bool
	// Insecure lists registries reached over plain HTTP besides loopback
	// ones (default: the project's).
	Insecure []string
}

// CheckReport is what CheckPins found.
type CheckReport struct {
	// Problems are the unpinned rule's findings, then the registry's,
	// each an error.
	Problems []builder.Diagnostic
	// Processes counts the CommandLineTools checked.
	Processes int
	// External are the digest-pinned images no tool builds: accepted, and
	// listed for a reviewer.
	External []PinnedImage
}

// CheckPins is `cwlpatch --check`'s verdict on the package as it is on
// disk: every CommandLineTool runs an image pinned by digest (the one rule
// `cwlpatch --check`, `cwlbuild check` and a release share),
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
		rep.Problems = append(rep.Problems, builder.Diagnose(errors.New(pr.Message), builder.SeverityError)...)
	}
	if len(rep.Problems) > 0 {
		return rep, nil
	}
	pins, err := pinnedImages(s.resolve(), runs)
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
			rep.Problems = append(rep.Problems, builder.Diagnose(e, builder.SeverityError)...)
		}
	}
	return rep, nil
}

// missingPins lists each of pins the registry does not serve (CheckOptions.Registry).
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
	// Process names the tool (its id, or its step when anonymous, and the
	// steps that run it when it runs different images in different
	// contexts), Line where the image it runs is written.
	Process string
	Line    int
	// Ref is what cwltool runs: the dockerPull, or the dockerImageId beside
	// it; "" when the tool has none.
	Ref string
	// Pinned is set when Ref is pinned by digest.
	Pinned bool
	// Problem says why the image that runs cannot be vouched for even if
	// Ref is signed: a dockerImageId beside the dockerPull, or a step the
	// file cannot resolve (by URL, or of a file it does not hold), in
	// which case Ref is "".
	Problem string
}

// FileImages lists, with the package's one resolver, the image every
// CommandLineTool of one workflow file runs, in every context its workflows
// run it, read on its own (a published artifact, a file a platform
// received): nothing outside the file is read, so a step that runs another
// file, a URL or an $import is a ToolImage with a Problem, never skipped.
// name is how messages call the file.
func FileImages(name string, data []byte) ([]ToolImage, error) {
	d, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	s := singleSet(d)
	s.sealed = true
	res := s.resolve()
	var out []ToolImage
	for _, err := range res.refused {
		out = append(out, ToolImage{Process: "a step", Problem: err.Error()})
	}
	seen := map[string]bool{}
	for _, e := range res.runs {
		ti := ToolImage{Process: e.proc.Desc(), Line: d.lineOf(d.offset(e.proc.Node)), Ref: e.image()}
		if e.effective != nil {
			ti.Line = e.effective.req.Line
			if pull := e.effective.pull; pull != nil && pull.Kind == yaml.ScalarNode {
				ti.Line = pull.Line
				if ti.Ref != pull.Value {
					ti.Problem = fmt.Sprintf("cwltool runs its dockerImageId %s, not its dockerPull %s", ti.Ref, pull.Value)
				}
			}
		}
		if d := e.disagreement(); d != "" {
			ti.Problem = d
		}
		key := e.proc.Desc() + "\x00" + ti.Ref
		if seen[key] {
			continue
		}
		seen[key] = true
		if len(res.of[e.proc]) > 1 && e.context() != "" {
			ti.Process += " (" + e.context() + ")"
		}
		ti.Pinned = ti.Ref != "" && isDigestPinned(ti.Ref)
		out = append(out, ti)
	}
	return out, nil
}

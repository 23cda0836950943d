package cwlpatch

import (
	"fmt"
	"sort"
	"strings"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// pinnedRef is the dockerPull value for a build's tag. A tag without a
// digest is refused: it is exactly the unpinned image the shell Taskfile
// recorded for local builds.
func pinnedRef(tag string, mode builder.PinMode) (string, error) {
	r, err := imageref.Parse(tag)
	if err != nil {
		return "", err
	}
	if r.Digest == "" {
		return "", fmt.Errorf("%q has no digest: Skaffold records one only for an image pushed to a registry (use a registry-backed profile, or build.local.push: true)", tag)
	}
	if mode == builder.PinDigest || r.Tag == "latest" {
		r.Tag = ""
	}
	return r.String(), nil
}

// isDigestPinned reports whether a dockerPull value names an image by digest.
func isDigestPinned(ref string) bool {
	r, err := imageref.Split(ref)
	return err == nil && r.Digest != ""
}

// match is one build and the tool it built.
type match struct {
	Tool  *builder.Artifact
	Build buildjson.Build
	// Ref is the reference to write into the tool's dockerPull.
	Ref string
}

// matchBuilds pairs every build with the tool whose image it is, under any
// profile's registry or the tool's own image: never by position, since
// Skaffold lists builds in its own order. A build that
// matches no tool, two builds of one tool and a build without a digest are
// errors; tools nobody built are returned so the caller can report them.
func matchBuilds(p *builder.Plan, out *buildjson.Output, source string, mode builder.PinMode) ([]match, []*builder.Artifact, error) {
	owners := map[string]*builder.Artifact{}
	var errs []error
	for _, t := range p.Artifacts {
		for _, prof := range builder.Profiles {
			n := t.Images[prof]
			if n == "" {
				continue
			}
			n = imageref.Normalize(n)
			if other, ok := owners[n]; ok && other != t {
				errs = append(errs, fmt.Errorf("%s: image %s names both tool %q and tool %q: give one of them its own image", p.File, n, other.Tool, t.Tool))
				continue
			}
			owners[n] = t
		}
	}
	var matches []match
	built := map[*builder.Artifact]buildjson.Build{}
	for _, b := range out.Builds {
		where := fmt.Sprintf("%s:%d", source, b.Line)
		t := owners[imageref.Normalize(b.ImageName)]
		if t == nil {
			errs = append(errs, fmt.Errorf("%s: image %s matches no tool in %s (tools: %s)", where, b.ImageName, p.File, strings.Join(p.ToolNames(), ", ")))
			continue
		}
		if prev, dup := built[t]; dup {
			errs = append(errs, fmt.Errorf("%s: tool %q was built twice, as %s (line %d) and %s", where, t.Tool, prev.ImageName, prev.Line, b.ImageName))
			continue
		}
		built[t] = b
		ref, err := pinnedRef(b.Tag, mode)
		if err == nil {
			err = sameRepository(b)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: tool %q: %v", where, t.Tool, err))
			continue
		}
		matches = append(matches, match{Tool: t, Build: b, Ref: ref})
	}
	// Report in project.toml order, whatever order Skaffold wrote.
	rank := map[*builder.Artifact]int{}
	var unbuilt []*builder.Artifact
	for i, t := range p.Artifacts {
		rank[t] = i
		if _, ok := built[t]; !ok {
			unbuilt = append(unbuilt, t)
		}
	}
	sort.SliceStable(matches, func(i, j int) bool { return rank[matches[i].Tool] < rank[matches[j].Tool] })
	if len(errs) > 0 {
		return nil, nil, joinErrors(errs)
	}
	return matches, unbuilt, nil
}

// sameRepository refuses a build whose tag names another repository than
// its imageName: the tag is what gets written into the CWL, the imageName
// only what matched it to a tool.
func sameRepository(b buildjson.Build) error {
	r, err := imageref.Parse(b.Tag)
	if err != nil {
		return err
	}
	if imageref.Normalize(r.Repo) != imageref.Normalize(b.ImageName) {
		return fmt.Errorf("tag %q is not an image of %s, the build's imageName", b.Tag, b.ImageName)
	}
	return nil
}

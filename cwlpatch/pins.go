package cwlpatch

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
)

// PinnedImage is an image a CommandLineTool of the package runs by digest,
// and the first place that pins it.
type PinnedImage struct {
	Ref, Place string
	// External is set for an image no tool of the package builds.
	External bool
}

// PinnedImages lists, each once, the digest-pinned images of the
// processes Unpinned checks: what a release asks the registry for before
// it publishes a workflow that runs them.
func PinnedImages(p *builder.Plan) ([]PinnedImage, error) {
	s, runs, err := runningProcesses(p)
	if err != nil {
		return nil, err
	}
	return pinnedImages(s.resolve(), runs)
}

// pinnedImages is PinnedImages on processes already loaded.
func pinnedImages(res *resolution, runs []runningProcess) ([]PinnedImage, error) {
	var out []PinnedImage
	seen := map[string]bool{}
	add := func(st site, proc *cwlProcess, external bool) {
		if st.pull == nil || st.pull.Kind != yaml.ScalarNode || !isDigestPinned(st.pull.Value) || seen[st.pull.Value] {
			return
		}
		seen[st.pull.Value] = true
		out = append(out, PinnedImage{Ref: st.pull.Value, Place: fmt.Sprintf("%s:%d: %s", st.doc.File, st.pull.Line, proc.Desc()), External: external})
	}
	for _, r := range runs {
		sites, err := processSites(r.proc)
		if err != nil {
			return nil, err
		}
		for _, st := range sites {
			add(st, r.proc, r.tool == nil)
		}
	}
	// Then what processes run from the steps and workflows around them.
	for _, e := range res.runs {
		if e.effective != nil && !e.own {
			add(*e.effective, e.proc, true)
		}
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

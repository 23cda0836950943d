package cwlpatch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
)

// Check is cwlpatch's part of `cwlbuild check`, before any build: the very
// checks a run of cwlpatch makes (planEdits, with every tool pinned to a
// stand-in digest), so that a package check accepts is one cwlpatch can
// pin, every problem listed as an error; and, as warnings, Unpinned's lines
// for images no tool builds: the build will not pin them, and `cwlpatch
// --check` and a release refuse them in the same words.
func Check(p *builder.Plan) []builder.Diagnostic {
	var matches []match
	for _, t := range p.Artifacts {
		for _, prof := range append([]builder.Profile{p.DefaultProfile()}, builder.Profiles...) {
			if img := t.Images[prof]; img != "" {
				matches = append(matches, match{Tool: t, Ref: img + "@sha256:" + strings.Repeat("0", 64)})
				break
			}
		}
	}
	if _, err := planEdits(p, matches); err != nil {
		return builder.Diagnose(err, builder.SeverityError)
	}
	problems, _, err := unpinned(p)
	if err != nil {
		return builder.Diagnose(err, builder.SeverityError)
	}
	var out []builder.Diagnostic
	for _, pr := range problems {
		if pr.Tool == nil {
			out = append(out, builder.Diagnose(errors.New(pr.Message), builder.SeverityWarning)...)
		}
	}
	return out
}

// problem is one CommandLineTool that does not run an image pinned by
// digest, as unpinned reports it.
type problem struct {
	// Message names the file and line, the tool, the process (with its
	// step when it is anonymous) and the image.
	Message string
	// Tool is the tool whose image the process runs; nil for an image no
	// tool of the package builds.
	Tool *builder.Artifact
}

// unpinned is the one rule of `cwlpatch --check`, `cwlbuild check` and a
// release: every CommandLineTool that a [[workflows]] file runs (its own,
// inline ones with or without an id, and those of the files its steps
// run) and every process a tool's path names must run, in every context
// the resolver finds for it, an image pinned by digest, a tool's process an
// image of the tool's own repository. It lists, one line each with file
// and line, what the resolver refused (a step it cannot follow), each such
// process whose DockerRequirement has no dockerPull string, that has none,
// whose dockerPull has no digest or names another repository than its
// tool's, whose dockerImageId is another image, whose pin an enclosing
// workflow's requirement overrides, that runs an unpinned image from a
// step or workflow around it, that runs an image of a tool's repository
// cwlpatch does not pin, or for which cwltool and the specification name
// different images; and returns how many processes it checked.
func unpinned(p *builder.Plan) ([]problem, int, error) {
	s, runs, err := runningProcesses(p)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.unpinned(runs)
	return out, len(runs), err
}

// unpinned is the package's unpinned on processes already loaded: what the resolver
// refused (a step it cannot follow), each process's own DockerRequirements,
// then what runs in each context the resolver found for it.
func (s *set) unpinned(runs []runningProcess) ([]problem, error) {
	res := s.resolve()
	var out []problem
	seen := map[string]bool{}
	add := func(msg string, tool *builder.Artifact) {
		if !seen[msg] {
			seen[msg] = true
			out = append(out, problem{msg, tool})
		}
	}
	for _, err := range res.refused {
		add(err.Error(), nil)
	}
	toolOf := s.repositories()
	for _, r := range runs {
		who, fix := "", " (no tool of this package builds it: pin it by digest by hand)"
		var repos map[string]bool
		if r.tool != nil {
			who, fix, repos = fmt.Sprintf("tool %q: ", r.tool.Tool), "", toolRepos(r.tool)
		}
		sites, problems, err := pinProblems(r.proc, who, fix, repos)
		if err != nil {
			return nil, err
		}
		for _, m := range problems {
			add(m, r.tool)
		}
		// A tool's process without a DockerRequirement of its own is one
		// cwlpatch gives it, whatever the workflows around it require.
		if len(sites) == 0 && (r.tool != nil || len(res.of[r.proc]) == 0) {
			add(fmt.Sprintf("%s:%d: %s%s has no DockerRequirement.dockerPull", r.proc.Doc.File, r.proc.Node.Line, who, r.proc.Desc()), r.tool)
			continue
		}
		for _, i := range res.of[r.proc] {
			e := res.runs[i]
			if d := e.disagreement(); d != "" {
				add(d, r.tool)
			}
			if ti, ok := toolOf[pulledRepoOf(e.image())]; ok && r.tool == nil {
				// cwlpatch claims a process by its image only when all its
				// DockerRequirements name the tool's repository.
				t := s.p.Artifacts[ti].Tool
				add(fmt.Sprintf("%s:%d: %s%s runs %s, an image of tool %q's repository, but cwlpatch does not pin it: its DockerRequirements name other images too. Name it in tools.%s.path, or give it one image",
					r.proc.Doc.File, r.proc.Node.Line, r.proc.Desc(), parenthesized(e.context()), e.image(), t, t), nil)
			}
			switch {
			case e.own:
				continue // its own DockerRequirements are checked above
			case e.effective == nil:
				add(fmt.Sprintf("%s:%d: %s%s has no DockerRequirement.dockerPull%s", r.proc.Doc.File, r.proc.Node.Line, who, r.proc.Desc(), parenthesized(e.context())), r.tool)
			case r.tool != nil && len(sites) > 0:
				for _, o := range s.overrides(r.proc) {
					add(o.String(), r.tool)
				}
			default:
				if m := inheritedProblem(e, who, fix, repos); m != "" {
					add(m, r.tool)
				}
			}
		}
	}
	return out, nil
}

// inheritedProblem is what is wrong with the image a process runs from a
// step's or workflow's DockerRequirement: the same rules as its own (see
// pinProblems), said of the requirement that applies.
func inheritedProblem(e execution, who, fix string, repos map[string]bool) string {
	st := e.effective
	verb := "requires"
	if st.section == "hints" {
		verb = "hints"
	}
	at := fmt.Sprintf("%s:%d: %s%s runs the DockerRequirement %s %s (%s)", st.doc.File, st.req.Line, who, e.proc.Desc(), e.by, verb, e.context())
	image := e.image()
	switch {
	case st.pull == nil || st.pull.Kind != yaml.ScalarNode:
		return at + ", which has no dockerPull string"
	case image != st.pull.Value:
		return fmt.Sprintf("%s, whose dockerImageId %q is what cwltool runs, not dockerPull %s: remove dockerImageId", at, image, st.pull.Value)
	case !isDigestPinned(image):
		return fmt.Sprintf("%s: %s, not pinned by digest%s", at, image, fix)
	case repos != nil && !repos[pulledRepoOf(image)]:
		return fmt.Sprintf("%s: %s, which is not an image of the tool's repository: run cwlpatch with the tool's build", at, image)
	}
	return ""
}

// parenthesized is " (s)", or "" for "".
func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// runningProcess is a CommandLineTool the package runs, and the tool whose
// image it runs (nil for an image no tool builds).
type runningProcess struct {
	proc *cwlProcess
	tool *builder.Artifact
}

// runningProcesses loads the package and lists the processes Unpinned
// checks: the tools' (project.toml order), then every other
// CommandLineTool of the workflows and the files they run, each once.
func runningProcesses(p *builder.Plan) (*set, []runningProcess, error) {
	s := loadProject(p)
	targets := s.targets()
	if len(s.errs) > 0 {
		return nil, nil, joinErrors(s.errs)
	}
	var out []runningProcess
	seen := map[*cwlProcess]bool{}
	for _, tg := range targets {
		for _, proc := range tg.procs {
			seen[proc] = true
			out = append(out, runningProcess{proc, tg.tool})
		}
	}
	for _, d := range s.runDocs() {
		for _, proc := range d.Processes {
			if !seen[proc] && proc.Class == "CommandLineTool" {
				seen[proc] = true
				out = append(out, runningProcess{proc: proc})
			}
		}
	}
	return s, out, nil
}

// toolRepos are a tool's repositories under every profile, normalized.
func toolRepos(t *builder.Artifact) map[string]bool {
	repos := map[string]bool{}
	for _, n := range t.Images {
		if n != "" {
			repos[imageref.Normalize(n)] = true
		}
	}
	return repos
}

// pinProblems is Unpinned's check of one process's own DockerRequirements
// (what it inherits is judged in each context it runs in): a line, with
// file and line, for each dockerImageId beside a dockerPull it differs
// from (cwltool runs dockerImageId), each DockerRequirement without a
// dockerPull string, each dockerPull not
// pinned by digest, and, when repos is set (a tool's), each pinned to
// another repository; who (`tool "crop": ` or "") follows the position, fix
// ends an unpinned pull's line. It also returns the process's
// DockerRequirements.
func pinProblems(proc *cwlProcess, who, fix string, repos map[string]bool) ([]site, []string, error) {
	sites, err := processSites(proc)
	if err != nil {
		return nil, nil, err
	}
	var out []string
	for _, st := range sites {
		if id := mapGet(st.req, "dockerImageId"); id != nil && st.pull != nil && (id.Kind != yaml.ScalarNode || st.pull.Kind != yaml.ScalarNode || id.Value != st.pull.Value) {
			out = append(out, fmt.Sprintf("%s:%d: %s%s has dockerImageId %q beside dockerPull: cwltool runs that image, not the one dockerPull names; remove dockerImageId", st.doc.File, id.Line, who, proc.Desc(), id.Value))
		}
		switch {
		case st.pull == nil || st.pull.Kind != yaml.ScalarNode:
			out = append(out, fmt.Sprintf("%s:%d: %s%s has a DockerRequirement without a dockerPull string", st.doc.File, st.req.Line, who, proc.Desc()))
		case !isDigestPinned(st.pull.Value):
			out = append(out, fmt.Sprintf("%s:%d: %s%s pulls %s, not pinned by digest%s", st.doc.File, st.pull.Line, who, proc.Desc(), st.pull.Value, fix))
		case repos != nil && !repos[pulledRepoOf(st.pull.Value)]:
			out = append(out, fmt.Sprintf("%s:%d: %s%s is pinned to %s, which is not an image of the tool's repository: run cwlpatch with the tool's build", st.doc.File, st.pull.Line, who, proc.Desc(), st.pull.Value))
		}
	}
	return sites, out, nil
}

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
	// Pins are every digest-pinned image the tools run.
	Pins []PinnedImage
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
	rep.Pins = pins
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
		default:
			errs = append(errs, missingPlatformImages(ctx, p, insecure, true)...)
		}
	}
	return errs
}

// MissingPlatformImages lists, for each pin that is an image index, each
// platform image the registry does not serve: a runner of that platform
// would find no image. A pin whose registry does not answer is not
// reported here (CheckPins with Registry reports it).
func MissingPlatformImages(ctx context.Context, pins []PinnedImage, insecure []string) []error {
	var errs []error
	for _, p := range pins {
		errs = append(errs, missingPlatformImages(ctx, p, insecure, false)...)
	}
	return errs
}

func missingPlatformImages(ctx context.Context, p PinnedImage, insecure []string, unreachable bool) []error {
	at := strings.LastIndexByte(p.Ref, '@')
	if at < 0 {
		return nil
	}
	repo, digest := p.Ref[:at], p.Ref[at+1:]
	if r, err := imageref.Parse(p.Ref); err == nil {
		repo = r.Repo
	}
	platforms, err := remote.IndexManifests(ctx, repo, digest, insecure)
	if err != nil {
		if unreachable {
			return []error{fmt.Errorf("%s pins %s, whose platform images cannot be listed: %v", p.Place, p.Ref, err)}
		}
		return nil
	}
	var errs []error
	for _, pl := range platforms {
		if got, err := remote.Digest(ctx, repo+"@"+pl.Digest, insecure); err != nil || got != pl.Digest {
			errs = append(errs, fmt.Errorf("%s pins the index %s, whose %s image %s the registry does not serve: %v", p.Place, p.Ref, pl.Platform, pl.Digest, err))
		}
	}
	return errs
}

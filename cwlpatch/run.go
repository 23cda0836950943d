package cwlpatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/filelock"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// ErrPartial is what Patch returns when a run stopped among its renames
// (some files new, some old; its journal lets the next run finish them).
var ErrPartial = atomicfile.ErrPartial

// Options tune Patch.
type Options struct {
	Pin builder.PinMode
	// Write replaces the changed files; without it Patch only computes the
	// result (--dry-run, --check).
	Write bool
	// Source names the build output in messages: "build.json", "<stdin>".
	Source string
}

// Outcome is what Patch did, or would do.
type Outcome struct {
	// Changes are the CWL files the pins touch, before and after.
	Changes []*Change
	Pinned  []Pinned
	// Overrides are enclosing workflows' DockerRequirements that beat a
	// pinned tool's hint: cwltool would not run the pin. A warning when
	// patching, an error under --check.
	Overrides []string
	matches   []match
	// Unbuilt are the tools the build output does not name: left alone.
	Unbuilt []*builder.Artifact
	// Recovered counts the files a killed run had staged and this one
	// renamed into place before starting (see Lock).
	Recovered int
}

// Patch pins, in every process that runs it, each tool of p that out built:
// it locks the package (Lock), matches builds to tools (matchBuilds), plans
// every edit and reads the result back (planEdits), and, with opts.Write,
// replaces the changed files all or none. ctx ending before the first rename
// (a signal) leaves every file as it was; once the renames began they all
// run, and the caller can tell from ctx.
func Patch(ctx context.Context, p *builder.Plan, out *buildjson.Output, opts Options) (*Outcome, error) {
	unlock, recovered, err := Lock(p, opts.Write)
	if err != nil {
		return nil, err
	}
	defer unlock()
	oc := &Outcome{Recovered: recovered}
	oc.matches, oc.Unbuilt, err = matchBuilds(p, out, opts.Source, opts.Pin)
	if err != nil {
		return oc, err
	}
	e, err := planEdits(p, oc.matches)
	if err != nil {
		return oc, err
	}
	oc.Changes, oc.Pinned, oc.Overrides = e.Changes, e.Pinned, e.Overrides
	if opts.Write {
		err = e.Write(ctx, journalPath(p))
	}
	return oc, err
}

// Changed returns the files whose bytes change.
func (o *Outcome) Changed() []*Change { return changed(o.Changes) }

// Lock takes the locks a run on p holds until unlock: project.toml and every
// CWL file it may rewrite, so that runs on one package, or on packages
// sharing a CWL file, take turns and each reads what the previous one wrote.
// Then, with complete, it finishes a run that was killed while renaming its
// files (see atomicfile.Recover) and returns how many files that renamed;
// without it (a run that must write nothing) such a run is an error.
func Lock(p *builder.Plan, complete bool) (unlock func(), recovered int, err error) {
	var paths []string
	for _, f := range append([]string{p.File}, cwlFiles(p)...) {
		if _, err := os.Stat(f); err == nil { // a missing file is the plan's error to report
			paths = append(paths, f)
		}
	}
	unlock, err = filelock.LockAll(paths)
	if err != nil {
		return nil, 0, err
	}
	if !complete {
		if _, err := os.Stat(journalPath(p)); err == nil {
			unlock()
			return nil, 0, fmt.Errorf("%s: a cwlpatch run was killed while replacing files, which are now part old and part new: run cwlpatch BUILD_JSON (without --dry-run or --check) to finish it", journalPath(p))
		}
		return unlock, 0, nil
	}
	recovered, err = atomicfile.Recover(journalPath(p))
	if err != nil {
		unlock()
		return nil, 0, fmt.Errorf("completing an interrupted run: %w", err)
	}
	return unlock, recovered, nil
}

// Files lists, sorted, the absolute paths of every CWL file the package's
// tools and workflows reach (the files they name, what their steps run,
// what they $import): what a run elsewhere (a Calrissian Job) needs copied
// to resolve them as they resolve here. A file that cannot be read or is
// outside the package is an error.
func Files(p *builder.Plan) ([]string, error) {
	s := loadProject(p)
	if len(s.errs) > 0 {
		return nil, errors.Join(s.errs...)
	}
	var out []string
	for _, d := range s.docs {
		if d.path != "" {
			out = append(out, d.path)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// Write replaces every changed file, all or none (see atomicfile.WriteAll):
// ctx ending before the first rename leaves every file as it was; journal
// (see Recover) lets a run killed during the renames be completed.
func (r *edits) Write(ctx context.Context, journal string) error {
	var paths []string
	var contents [][]byte
	for _, c := range r.Changed() {
		paths = append(paths, c.Path)
		contents = append(contents, c.New)
	}
	return atomicfile.WriteAll(ctx, paths, contents, 0o644, journal)
}

// cwlFiles lists the CWL files a project names (tools' paths and workflows),
// absolute and with symlinks resolved, each once: what a run that rewrites
// them locks.
func cwlFiles(p *builder.Plan) []string {
	var out []string
	seen := map[string]bool{}
	add := func(ref builder.ProcessRef) {
		path := ref.Path
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
		if !seen[path] {
			seen[path] = true
			out = append(out, path)
		}
	}
	for _, a := range p.Artifacts {
		for _, ref := range a.Processes {
			add(ref)
		}
	}
	for _, w := range p.Workflows {
		add(w.ProcessRef)
	}
	return out
}

// journalPath is where Write's journal lives: beside project.toml, so the
// next run on the package finds it.
func journalPath(p *builder.Plan) string { return filepath.Join(p.Dir, ".cwlpatch-journal") }

// joinErrors is every problem of a run as one error, one per line;
// errors.As and errors.Is see each of them, and builder.Diagnose makes one
// diagnostic of each.
func joinErrors(errs []error) error {
	return errors.Join(errs...)
}

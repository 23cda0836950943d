// Package cwltest runs the CWL tests a project.toml declares, with cwltool on
// this machine or Calrissian in a Kubernetes cluster. Every command is an
// argv (never a shell string, unlike the shell Taskfile's eval), and every
// test writes its params into its own volume under its own name, so tests
// never overwrite each other's inputs.
package cwltest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/shell"
)

// Engines: the cluster runs tests with Calrissian, local with cwltool.
const (
	EngineCluster = builder.EngineCluster
	EngineLocal   = builder.EngineLocal
)

// Selector narrows the cases to run; empty fields select everything.
type Selector struct {
	Tools     []string
	Workflows []string // index (0-based, as in workflows.N) or path
	Names     []string
	// Suites selects the cases of these cwltest suite files (absolute
	// paths), as `cwltest --test FILE` runs one.
	Suites []string
	// IDs selects tests by id: a suite case's, or a project.toml test's
	// ("tools.crop.0", as the summary prints it).
	IDs []string
	// Tags selects the tests with any of these tags, ExcludeTags drops
	// those with any of those (cwltest's --tags and --exclude-tags).
	Tags, ExcludeTags []string
}

// Select lists the tests in file order (Plan.Tests: tool tests first, then
// workflow tests). A selector that matches nothing is an error, not a
// silent no-op.
func Select(p *builder.Plan, sel Selector) ([]*builder.TestPlan, error) {
	for _, name := range sel.Tools {
		if _, err := p.Artifact(name); err != nil {
			return nil, fmt.Errorf("--tool %q: %w", name, err)
		}
	}
	wanted := map[string]bool{}
	for _, w := range sel.Workflows {
		found := false
		for wi, wf := range p.Workflows {
			if w == strconv.Itoa(wi) || w == wf.Ref || w == wf.File {
				wanted[strconv.Itoa(wi)] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--workflow %q: %s has no such workflow (give its 0-based index or its path)", w, p.File)
		}
	}
	for _, s := range sel.Suites {
		if !slices.ContainsFunc(p.Tests, func(c *builder.TestPlan) bool { return c.Suite == s }) {
			return nil, fmt.Errorf("--suite %s: the suite has no test case", s)
		}
	}
	var out []*builder.TestPlan
	for _, c := range p.Tests {
		if len(sel.Tools)+len(sel.Workflows)+len(sel.Suites) > 0 {
			if c.Kind == "tool" && !contains(sel.Tools, c.Owner) || c.Kind == "workflow" && !wanted[c.Owner] || c.Kind == "suite" && !contains(sel.Suites, c.Suite) {
				continue
			}
		}
		if len(sel.Names) > 0 && !contains(sel.Names, c.Name) {
			continue
		}
		if len(sel.IDs) > 0 && !contains(sel.IDs, c.ID) && (c.Suite == "" || !contains(sel.IDs, c.Name)) {
			continue
		}
		if len(sel.Tags) > 0 && !slices.ContainsFunc(c.Tags, func(t string) bool { return contains(sel.Tags, t) }) {
			continue
		}
		if slices.ContainsFunc(c.Tags, func(t string) bool { return contains(sel.ExcludeTags, t) }) {
			continue
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no test matches", p.File)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Run is a planned test: the command, where its files go, and its params.
type Run struct {
	Test   *builder.TestPlan
	Engine builder.Engine
	Dir    string // working directory: the project's, so CWL references resolve as written
	Argv   shell.Command
	Volume string
	Params string // params file, in the volume
	// ParamsYAML is what Params will hold.
	ParamsYAML []byte
	// Stdout and Stderr receive the engine's output; for calrissian they are
	// also its --stdout/--stderr.
	Stdout, Stderr string
	// Outdir holds the outputs.
	Outdir string
	// Job is set when the test runs as a Calrissian Job (Argv runs the
	// agent then).
	Job *Job
}

// Options tune planning.
type Options struct {
	Engine builder.Engine // EngineCluster or EngineLocal
	// Getenv reads DASK_GATEWAY_ADDRESS (os.Getenv when nil).
	Getenv func(string) string
	// DryRun plans a command to print, not to run: an unset
	// DASK_GATEWAY_ADDRESS becomes a placeholder instead of an error.
	DryRun bool
	// Mode is how the cluster engine runs Calrissian: ModePod, ModeJob, or
	// ModeAuto ("" too), which ChooseMode resolves.
	Mode string
	// Keep leaves a Job's objects in the cluster after a success.
	Keep bool
}

// DaskPlaceholder stands for an unset DASK_GATEWAY_ADDRESS in a dry run.
const DaskPlaceholder = "<DASK_GATEWAY_ADDRESS>"

// PlanRun turns a test into the engine's command. It writes nothing, and
// sets no path of its own: the test plan holds them all.
func PlanRun(p *builder.Plan, c *builder.TestPlan, opts Options) (*Run, error) {
	getenv := opts.getenv()
	params, err := ParamsYAML(p, c.Params)
	if err != nil {
		return nil, p.Errorf(c.Key+".params", "%s.params: %v", c.Key, err)
	}
	r := &Run{
		Test:       c,
		Engine:     opts.Engine,
		Dir:        p.Dir,
		Volume:     c.Volume,
		Params:     c.ParamsFile,
		ParamsYAML: params,
		Stdout:     c.Stdout,
		Stderr:     c.Stderr,
		Outdir:     c.Outdir,
	}
	switch opts.Engine {
	case EngineCluster:
		if ChooseMode(opts.Mode, getenv) == ModeJob {
			if err := planJob(p, c, r, opts); err != nil {
				return nil, err
			}
			break
		}
		same := func(path string) (string, error) { return path, nil }
		a, err := calrissianArgs(p, c, r, opts, same)
		if err != nil {
			return nil, err
		}
		r.Argv = append(append(shell.Command{"calrissian"}, a...), c.Ref, r.Params)
	case EngineLocal:
		a := shell.Command{"cwltool", "--outdir", r.Outdir, "--tmp-outdir-prefix", c.TmpOutdirPrefix, "--strict-memory-limit", "--strict-cpu-limit"}
		if p.Runtime == builder.RuntimePodman {
			a = append(a, "--podman")
		}
		r.Argv = append(a, c.Ref, r.Params)
	default:
		return nil, fmt.Errorf("engine %q: want %q or %q", opts.Engine, EngineCluster, EngineLocal)
	}
	return r, nil
}

// calrissianArgs are Calrissian's options for a test (the test's
// execution.cluster), each path passed through where (the same path in a
// pod, the cluster's in a Job).
func calrissianArgs(p *builder.Plan, c *builder.TestPlan, r *Run, opts Options, where func(string) (string, error)) (shell.Command, error) {
	var a shell.Command
	var errs []error
	path := func(local string) string {
		s, err := where(local)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	}
	a = append(a, "--stdout", path(r.Stdout), "--stderr", path(r.Stderr))
	if c.MaxRAM != "" {
		a = append(a, "--max-ram", c.MaxRAM)
	}
	if c.MaxCores != "" {
		a = append(a, "--max-cores", c.MaxCores)
	}
	// The prefix ends with a separator (tmp/): Calrissian appends to it.
	a = append(a, "--tmp-outdir-prefix", strings.TrimSuffix(path(strings.TrimSuffix(c.TmpOutdirPrefix, string(filepath.Separator))), "/")+"/", "--outdir", path(r.Outdir))
	if c.UsageReport != "" {
		a = append(a, "--usage-report", path(c.UsageReport))
	}
	if c.ToolLogsBasepath != "" {
		a = append(a, "--tool-logs-basepath", path(c.ToolLogsBasepath))
	}
	if c.PodServiceAccount != "" {
		a = append(a, "--pod-serviceaccount", c.PodServiceAccount)
	}
	if c.Debug {
		a = append(a, "--debug")
	}
	if c.DaskGateway {
		addr := opts.getenv()("DASK_GATEWAY_ADDRESS")
		if addr == "" && opts.DryRun {
			addr = DaskPlaceholder
		}
		if addr == "" {
			return nil, p.Errorf(c.Key, "test %q asks for a Dask gateway but DASK_GATEWAY_ADDRESS is not set", c.DisplayName())
		}
		a = append(a, "--dask-gateway-url", addr)
	}
	return a, errors.Join(errs...)
}

func (o Options) getenv() func(string) string {
	if o.Getenv == nil {
		return os.Getenv
	}
	return o.Getenv
}

// ParamsYAML renders a test's params table as the CWL job file. File and
// Directory objects keep their shape; their relative paths are made absolute
// against the project directory, since the job file lives in the volume and
// CWL resolves relative paths against the job file.
func ParamsYAML(p *builder.Plan, params map[string]any) ([]byte, error) {
	return paramsYAML(p, params, nil)
}

// paramsYAML is ParamsYAML with each File and Directory path, once
// absolute, passed through where (nil: kept).
func paramsYAML(p *builder.Plan, params map[string]any, where func(string) (string, error)) ([]byte, error) {
	if params == nil {
		params = map[string]any{}
	}
	var errs []error
	v := absolutize(p, params, func(local string) string {
		if where == nil {
			return local
		}
		s, err := where(local)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return yaml.Marshal(v)
}

func absolutize(p *builder.Plan, v any, where func(string) string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		class, _ := x["class"].(string)
		for k, val := range x {
			if s, ok := val.(string); ok && (class == "File" || class == "Directory") && (k == "path" || k == "location") && !strings.Contains(s, "://") {
				val = where(p.Abs(s))
			}
			out[k] = absolutize(p, val, where)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = absolutize(p, e, where)
		}
		return out
	}
	return v
}

// Package cwltest runs the CWL tests a project.toml declares, with cwltool on
// this machine or Calrissian in a Kubernetes cluster. Every command is an
// argv (never a shell string, unlike the shell Taskfile's eval), and every
// test writes its params into its own volume under its own name, so tests
// never overwrite each other's inputs.
package cwltest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/builder"
)

// Engines: the cluster runs tests with Calrissian, local with cwltool.
const (
	EngineCluster = builder.EngineCluster
	EngineLocal   = builder.EngineLocal
)

// Case is one declared test.
type Case struct {
	// ID is unique in the project: "tools.crop.0" or "workflows.1.0".
	ID    string
	Kind  string // "tool" or "workflow"
	Owner string // tool name, or workflow index
	Ref   string // the CWL reference as project.toml writes it (FILE#ID)
	Test  *builder.Test
	Key   string // project.toml key of the test, for messages
}

// Name is the test's name, or its ID when it has none.
func (c *Case) Name() string {
	if c.Test.Name != "" {
		return c.Test.Name
	}
	return c.ID
}

// Selector narrows the cases to run; empty fields select everything.
type Selector struct {
	Tools     []string
	Workflows []string // index (0-based, as in workflows.N) or path
	Names     []string
}

// Select lists the cases in file order: tool tests first, then workflow
// tests. A selector that matches nothing is an error, not a silent no-op.
func Select(p *builder.Plan, sel Selector) ([]*Case, error) {
	var all []*Case
	for _, t := range p.Artifacts {
		for i := range t.Tests {
			all = append(all, &Case{
				ID: fmt.Sprintf("tools.%s.%d", t.Tool, i), Kind: "tool", Owner: t.Tool, Ref: t.Processes[0].Ref,
				Test: t.Tests[i], Key: fmt.Sprintf("%s.tests.%d", t.Key, i),
			})
		}
	}
	for wi := range p.Workflows {
		w := p.Workflows[wi]
		for i := range w.Tests {
			all = append(all, &Case{
				ID: fmt.Sprintf("workflows.%d.%d", wi, i), Kind: "workflow", Owner: strconv.Itoa(wi), Ref: w.Ref,
				Test: w.Tests[i], Key: fmt.Sprintf("workflows.%d.tests.%d", wi, i),
			})
		}
	}
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
	var out []*Case
	for _, c := range all {
		if len(sel.Tools)+len(sel.Workflows) > 0 {
			if c.Kind == "tool" && !contains(sel.Tools, c.Owner) || c.Kind == "workflow" && !wanted[c.Owner] {
				continue
			}
		}
		if len(sel.Names) > 0 && !contains(sel.Names, c.Test.Name) {
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
	Case   *Case
	Dir    string // working directory: the project's, so CWL references resolve as written
	Argv   build.Command
	Volume string
	Params string // params file, in the volume
	// ParamsYAML is what Params will hold.
	ParamsYAML []byte
	// Stdout and Stderr receive the engine's output; for calrissian they are
	// also its --stdout/--stderr.
	Stdout, Stderr string
	// Outdir holds the outputs.
	Outdir string
}

// Options tune planning.
type Options struct {
	Engine builder.Engine // EngineCluster or EngineLocal
	// Getenv reads DASK_GATEWAY_ADDRESS (os.Getenv when nil).
	Getenv func(string) string
	// DryRun plans a command to print, not to run: an unset
	// DASK_GATEWAY_ADDRESS becomes a placeholder instead of an error.
	DryRun bool
}

// DaskPlaceholder stands for an unset DASK_GATEWAY_ADDRESS in a dry run.
const DaskPlaceholder = "<DASK_GATEWAY_ADDRESS>"

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// PlanRun computes the command of one case. It writes nothing.
func PlanRun(p *builder.Plan, c *Case, opts Options) (*Run, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	paths := c.Test.Execution.Paths
	vol := paths.Volume
	if vol == "" {
		vol = builder.DefaultTestVolume(c.ID)
	}
	vol = p.Abs(vol)
	under := func(name, def string) string {
		if name == "" {
			name = def
		}
		if filepath.IsAbs(name) {
			return filepath.Clean(name)
		}
		return filepath.Join(vol, name)
	}
	base := unsafeChars.ReplaceAllString(c.ID+"-"+c.Test.Name, "_")
	params, err := ParamsYAML(p, c.Test.Params)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s.params: %v", p.File, p.Line(c.Key+".params"), c.Key, err)
	}
	r := &Run{
		Case:       c,
		Dir:        p.Dir,
		Volume:     vol,
		Params:     filepath.Join(vol, base+".params.yaml"),
		ParamsYAML: params,
		Stdout:     under(paths.Stdout, base+".stdout.json"),
		Stderr:     under(paths.Stderr, base+".stderr.log"),
		Outdir:     under(paths.Outdir, "outputs"),
	}
	tmp := under(paths.TmpOutdirPrefix, "tmp") + string(filepath.Separator)
	switch opts.Engine {
	case EngineCluster:
		cl := c.Test.Execution.Cluster
		a := build.Command{"calrissian", "--stdout", r.Stdout, "--stderr", r.Stderr}
		if cl.MaxRAM != "" {
			a = append(a, "--max-ram", cl.MaxRAM)
		}
		if cl.MaxCores != nil {
			a = append(a, "--max-cores", fmt.Sprint(cl.MaxCores))
		}
		a = append(a, "--tmp-outdir-prefix", tmp, "--outdir", r.Outdir)
		if cl.UsageReport != "" {
			a = append(a, "--usage-report", under(cl.UsageReport, ""))
		}
		if cl.ToolLogsBasepath != "" {
			a = append(a, "--tool-logs-basepath", under(cl.ToolLogsBasepath, ""))
		}
		if cl.PodServiceAccount != "" {
			a = append(a, "--pod-serviceaccount", cl.PodServiceAccount)
		}
		if cl.Debug {
			a = append(a, "--debug")
		}
		if cl.DaskGateway {
			addr := getenv("DASK_GATEWAY_ADDRESS")
			if addr == "" && opts.DryRun {
				addr = DaskPlaceholder
			}
			if addr == "" {
				return nil, fmt.Errorf("%s:%d: test %q asks for a Dask gateway but DASK_GATEWAY_ADDRESS is not set", p.File, p.Line(c.Key), c.Name())
			}
			a = append(a, "--dask-gateway-url", addr)
		}
		r.Argv = append(a, c.Ref, r.Params)
	case EngineLocal:
		a := build.Command{"cwltool", "--outdir", r.Outdir, "--tmp-outdir-prefix", tmp, "--strict-memory-limit", "--strict-cpu-limit"}
		if p.Runtime == builder.RuntimePodman {
			a = append(a, "--podman")
		}
		r.Argv = append(a, c.Ref, r.Params)
	default:
		return nil, fmt.Errorf("engine %q: want %q or %q", opts.Engine, EngineCluster, EngineLocal)
	}
	return r, nil
}

// ParamsYAML renders a test's params table as the CWL job file. File and
// Directory objects keep their shape; their relative paths are made absolute
// against the project directory, since the job file lives in the volume and
// CWL resolves relative paths against the job file.
func ParamsYAML(p *builder.Plan, params map[string]any) ([]byte, error) {
	if params == nil {
		params = map[string]any{}
	}
	return yaml.Marshal(absolutize(p, params))
}

func absolutize(p *builder.Plan, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		class, _ := x["class"].(string)
		for k, val := range x {
			if s, ok := val.(string); ok && (class == "File" || class == "Directory") && (k == "path" || k == "location") && !strings.Contains(s, "://") {
				val = p.Abs(s)
			}
			out[k] = absolutize(p, val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = absolutize(p, e)
		}
		return out
	}
	return v
}

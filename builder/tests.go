package builder

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eoap/cwlbuild/internal/logtext"
)

// TestPlan is one [[tools.NAME.tests]] or [[workflows.tests]] entry,
// resolved: its id, the CWL it runs, and every path the run reads or
// writes, absolute and checked (validate). The test runner turns it into an
// engine's argv and sets nothing of its own.
type TestPlan struct {
	// ID is unique in the project: "tools.crop.0", "workflows.1.0".
	ID string
	// Kind is "tool", "workflow" or "suite"; Owner the tool's name, the
	// workflow's 0-based index, or the suite file (as errors name it).
	Kind, Owner string
	// Ref is the CWL the test runs, as project.toml writes it (FILE#ID):
	// the tool's first path, or the workflow's.
	Ref string
	// Key is the test's table in project.toml ("tools.crop.tests.0").
	Key               string
	Name, Description string
	// Tags select the test (--tags): its tags, or a suite case's.
	Tags []string
	// Suite is the cwltest suite file the case came from (absolute); ""
	// for a test of project.toml. Name is then the case's id.
	Suite string
	// Params is the params table as written; relative File and Directory
	// paths in it are relative to the project directory.
	Params map[string]any
	// Volume is the directory every file of the run lives under:
	// execution.paths.volume, default .cwlbuild/tests/ID in the project.
	Volume string
	// ParamsFile is the job file written into the volume, named after the
	// test so tests never share one.
	ParamsFile string
	// Stdout and Stderr receive the engine's output (default
	// ID-NAME.stdout.json and .stderr.log), Outdir the outputs (default
	// outputs), TmpOutdirPrefix the engine's temporary directories
	// (default tmp/); all under the volume unless absolute.
	Stdout, Stderr, Outdir, TmpOutdirPrefix string
	// Calrissian's options (execution.cluster); UsageReport and
	// ToolLogsBasepath are "" when not asked for, else under the volume.
	MaxRAM, MaxCores, PodServiceAccount string
	UsageReport, ToolLogsBasepath       string
	Debug, DaskGateway                  bool
	// The Job a run from outside the cluster makes ([build.calrissian],
	// the test's execution.cluster overriding namespace and image).
	Job CalrissianJob

	// Expect is the output object the run must give (expect written as a
	// table), ExpectFile the file holding it (expect written as a path,
	// made absolute); neither when the test expects only success.
	Expect     map[string]any
	ExpectFile string
	// ShouldFail passes the test when the engine fails, and fails it
	// when the engine succeeds (cwltest's should_fail).
	ShouldFail bool
	// Timeout bounds the run; 0 for none.
	Timeout time.Duration

	raw *Test // what validate checks the resolved paths against
}

// CalrissianJob is where and how a test runs as a Calrissian Job.
type CalrissianJob struct {
	// Namespace is "" for the kubeconfig context's.
	Namespace, Image, InitImage string
	// Claim is an existing claim; "" to create one of StorageClass and
	// VolumeSize for the run.
	Claim, StorageClass, VolumeSize string
	StartTimeout, Timeout           time.Duration
}

// DisplayName is the test's name, or its ID when it has none.
//
// It is a package's text on its way to a log: logtext.Value keeps a name
// like "t1\n::error::passed" from starting a line or a CI command.
func (t *TestPlan) DisplayName() string {
	if t.Name != "" {
		return logtext.Value(t.Name)
	}
	return logtext.Value(t.ID)
}

// unsafeChars are replaced in the file names a test's id and name make.
var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// DefaultTestVolume is where a test's files go when its execution.paths
// volume is not set, relative to the project directory.
func DefaultTestVolume(id string) string { return filepath.Join(".cwlbuild", "tests", id) }

// testPlans resolves every test of the project, tool tests in project.toml
// order, then workflow tests, then the cases of its suites (loaded by
// validate, their ids made in suite.go). testPlan is the one place the
// path-under-volume rule lives.
func (p *Project) testPlans() []*TestPlan {
	var out []*TestPlan
	for _, t := range p.OrderedTools() {
		ref := ""
		if len(t.Paths) > 0 {
			ref = t.Paths[0]
		}
		for i, tc := range t.Tests {
			out = append(out, p.testPlan(tc, "tool", t.Name, ref, fmt.Sprintf("tools.%s.%d", t.Name, i), fmt.Sprintf("tools.%s.tests.%d", t.Name, i)))
		}
	}
	for wi, w := range p.Workflows {
		for i, tc := range w.Tests {
			out = append(out, p.testPlan(tc, "workflow", strconv.Itoa(wi), w.Path, fmt.Sprintf("workflows.%d.%d", wi, i), fmt.Sprintf("workflows.%d.tests.%d", wi, i)))
		}
	}
	return append(out, p.suiteTests...)
}

func (p *Project) testPlan(tc *Test, kind, owner, ref, id, key string) *TestPlan {
	paths, cl := tc.Execution.Paths, tc.Execution.Cluster
	vol := paths.Volume
	if vol == "" {
		vol = DefaultTestVolume(id)
	}
	vol = p.Abs(vol)
	under := func(name, def string) string {
		if name == "" {
			name = def
		}
		return underVolume(vol, name)
	}
	base := id
	if !strings.HasSuffix(id, "."+tc.Name) { // a suite case's id ends with its name
		base += "-" + tc.Name
	}
	base = unsafeChars.ReplaceAllString(base, "_")
	tp := &TestPlan{
		ID: id, Kind: kind, Owner: owner, Ref: ref, Key: key,
		Name: tc.Name, Description: tc.Description, Params: tc.Params, Tags: tc.Tags,
		Volume:            vol,
		ParamsFile:        filepath.Join(vol, base+".params.yaml"),
		Stdout:            under(paths.Stdout, base+".stdout.json"),
		Stderr:            under(paths.Stderr, base+".stderr.log"),
		Outdir:            under(paths.Outdir, "outputs"),
		TmpOutdirPrefix:   under(paths.TmpOutdirPrefix, "tmp") + string(filepath.Separator),
		MaxRAM:            firstSet(cl.MaxRAM, DefaultCalrissianMaxRAM),
		MaxCores:          DefaultCalrissianMaxCores,
		PodServiceAccount: firstSet(cl.PodServiceAccount, p.Build.Calrissian.ServiceAccount),
		Debug:             cl.Debug,
		DaskGateway:       cl.DaskGateway,
		raw:               tc,
	}
	tp.ShouldFail = tc.ShouldFail
	tp.Timeout, _ = testTimeout(tc.Timeout) // checked by validate
	switch e := tc.Expect.(type) {
	case map[string]any:
		tp.Expect = e
	case string:
		tp.ExpectFile = p.Abs(e)
	}
	c := p.Build.Calrissian
	tp.Job = CalrissianJob{
		Namespace: firstSet(cl.Namespace, c.Namespace), Image: firstSet(cl.CalrissianImage, c.Image),
		InitImage: c.InitImage, Claim: c.Claim, StorageClass: c.StorageClass, VolumeSize: c.VolumeSize,
	}
	// Checked by validate; a bad value leaves the bound unset.
	tp.Job.StartTimeout, _ = time.ParseDuration(c.StartTimeout)
	tp.Job.Timeout, _ = time.ParseDuration(c.Timeout)
	if cl.MaxCores != nil {
		tp.MaxCores = fmt.Sprint(cl.MaxCores)
	}
	if cl.UsageReport != "" {
		tp.UsageReport = under(cl.UsageReport, "")
	}
	if cl.ToolLogsBasepath != "" {
		tp.ToolLogsBasepath = under(cl.ToolLogsBasepath, "")
	}
	return tp
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// underVolume is name (slash-separated, as project.toml writes it) in the
// volume, or itself when absolute.
func underVolume(vol, name string) string {
	name = filepath.FromSlash(name)
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(vol, name)
}

// testTimeout reads a test's timeout: a Go duration ("90s", "10m"), or a
// whole number of seconds as cwltest's --timeout takes it; nil is none.
func testTimeout(v any) (time.Duration, error) {
	switch t := v.(type) {
	case nil:
		return 0, nil
	case int64:
		if t > 0 {
			return time.Duration(t) * time.Second, nil
		}
	case string:
		d, err := time.ParseDuration(t)
		if err == nil && d > 0 {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%v is not a positive duration (\"90s\", \"10m\") or number of seconds", v)
}

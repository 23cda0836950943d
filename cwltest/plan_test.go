package cwltest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/cwltest.*.txt")

// TestPlanGolden plans every test of testdata/projects/cwltests for both
// engines and compares the argv (one word per line, so a value with spaces
// or shell syntax is visibly one word) and params with golden files.
func TestPlanGolden(t *testing.T) {
	p, err := builder.Load("../testdata/projects/cwltests/project.toml", builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Select(p, Selector{})
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "DASK_GATEWAY_ADDRESS" {
			return "http://dask gateway:8000"
		}
		return ""
	}
	for _, engine := range []builder.Engine{EngineCluster, EngineLocal} {
		t.Run(string(engine), func(t *testing.T) {
			var b strings.Builder
			for _, c := range cases {
				r, err := PlanRun(p, c, Options{Engine: engine, Getenv: env, Mode: ModePod})
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "## %s (%s) in $PROJECT\n", c.DisplayName(), c.ID)
				for _, w := range r.Argv {
					fmt.Fprintf(&b, "%s\n", w)
				}
				fmt.Fprintf(&b, "-- %s\n%s", r.Params, r.ParamsYAML)
			}
			got := strings.ReplaceAll(b.String(), p.Dir, "$PROJECT")
			golden := filepath.Join("../testdata/golden", "cwltest."+string(engine)+".txt")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, _ := os.ReadFile(golden)
			if got != string(want) {
				t.Errorf("plan differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	p, err := builder.Load("../testdata/projects/cwltests/project.toml", builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := Select(p, Selector{Names: []string{"hostile values"}})
	if _, err := PlanRun(p, cases[0], Options{Engine: EngineCluster, Mode: ModePod, Getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "DASK_GATEWAY_ADDRESS") {
		t.Errorf("a dask test without DASK_GATEWAY_ADDRESS: %v", err)
	}
	// A dry run only prints: it needs no gateway, and shows where it goes.
	r, err := PlanRun(p, cases[0], Options{Engine: EngineCluster, Mode: ModePod, DryRun: true, Getenv: func(string) string { return "" }})
	if err != nil || !strings.Contains(r.Argv.String(), "--dask-gateway-url '"+DaskPlaceholder+"'") {
		t.Errorf("dry run without DASK_GATEWAY_ADDRESS: %v %v", err, r)
	}
	for _, sel := range []Selector{{Tools: []string{"nope"}}, {Workflows: []string{"7"}}, {Names: []string{"nope"}}} {
		if _, err := Select(p, sel); err == nil {
			t.Errorf("%+v selected something", sel)
		}
	}
	if cs, err := Select(p, Selector{Workflows: []string{"app.cwl#main"}}); err != nil || len(cs) != 1 || cs[0].ID != "workflows.0.0" {
		t.Errorf("select by path: %v %v", cs, err)
	}
}

// TestJobFilesNeverCollide: tests sharing one volume, with names that read
// the same once made file-safe ("a b", "a_b", "a/b"), each get their own
// params, stdout and stderr files.
func TestJobFilesNeverCollide(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\nclass: CommandLineTool\n"), 0o644)
	toml := "[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n"
	for _, tool := range []string{"a.b", "a_b", "a-b"} {
		toml += "[tools.\"" + tool + "\"]\ncontext = \".\"\npath = \"app.cwl\"\n"
		for _, name := range []string{"a b", "a_b", "a/b"} {
			toml += "[[tools.\"" + tool + "\".tests]]\nname = \"" + name + "\"\n[tools.\"" + tool + "\".tests.execution.paths]\nvolume = \"shared\"\n"
		}
	}
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Select(p, Selector{})
	if err != nil || len(cases) != 9 {
		t.Fatalf("%d cases, %v", len(cases), err)
	}
	seen := map[string]string{}
	for _, c := range cases {
		r, err := PlanRun(p, c, Options{Engine: EngineLocal})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{r.Params, r.Stdout, r.Stderr} {
			if other, dup := seen[f]; dup {
				t.Errorf("%s and %s both write %s", other, c.ID, f)
			}
			seen[f] = c.ID
		}
	}
}

// TestSelect: tools, workflows (by index or path) and names narrow the
// cases; a selector naming nothing is an error.
func TestSelect(t *testing.T) {
	p, err := builder.Load("../testdata/projects/cwltests/project.toml", builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(cs []*builder.TestPlan) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		sel  Selector
		want string
	}{
		{Selector{}, "tools.echo.0 tools.echo.1 workflows.0.0"},
		{Selector{Tools: []string{"echo"}}, "tools.echo.0 tools.echo.1"},
		{Selector{Workflows: []string{"0"}}, "workflows.0.0"},
		{Selector{Workflows: []string{p.Workflows[0].File}}, "workflows.0.0"},
		{Selector{Tools: []string{"echo"}, Workflows: []string{"0"}}, "tools.echo.0 tools.echo.1 workflows.0.0"},
		{Selector{Names: []string{"defaults", "wf"}}, "tools.echo.1 workflows.0.0"},
		{Selector{Tools: []string{"echo"}, Names: []string{"wf"}}, "error: ../testdata/projects/cwltests/project.toml: no test matches"},
		{Selector{Tools: []string{"nope"}}, `error: --tool "nope"`},
		{Selector{Workflows: []string{"7"}}, `error: --workflow "7"`},
	} {
		cs, err := Select(p, tc.sel)
		got := ids(cs)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%+v: %s, want %s", tc.sel, got, tc.want)
		}
	}
}

// TestParamsAbsolute: the path and location of File and Directory objects,
// nested anywhere, become absolute against the project; URLs, other keys
// and other classes stay as written.
func TestParamsAbsolute(t *testing.T) {
	p := &builder.Plan{Dir: "/pkg"}
	in := map[string]any{
		"f":    map[string]any{"class": "File", "path": "data/a.csv", "format": "csv"},
		"d":    map[string]any{"class": "Directory", "location": "out"},
		"u":    map[string]any{"class": "File", "location": "https://x.org/a"},
		"list": []any{map[string]any{"class": "File", "location": "b.csv"}},
		"o":    map[string]any{"class": "Other", "path": "keep"},
		"s":    "plain",
	}
	out, err := ParamsYAML(p, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"path: /pkg/data/a.csv", "format: csv", "location: /pkg/out", "location: https://x.org/a", "location: /pkg/b.csv", "path: keep", "s: plain"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("params lack %q:\n%s", want, out)
		}
	}
}

// TestSelectSuites: --suite runs one suite's cases, --id a case by its id
// or a test by its own, --tags and --exclude-tags by tags, project.toml's
// tests included.
func TestSelectSuites(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"app.cwl": "cwlVersion: v1.2\nclass: CommandLineTool\n",
		"project.toml": "[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n" +
			"[tools.a]\ncontext = \".\"\npath = \"app.cwl\"\n[[tools.a.tests]]\nname = \"own\"\ntags = [\"unit\"]\n" +
			"[[tests.suites]]\npath = \"one.yaml\"\n[[tests.suites]]\npath = \"two.yaml\"\n",
		"one.yaml": "- {id: fast, tool: app.cwl, tags: [unit]}\n- {id: slow, tool: app.cwl, tags: [unit, slow]}\n",
		"two.yaml": "- {id: e2e, tool: app.cwl, tags: [e2e]}\n- {tool: app.cwl}\n",
	}
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sel  Selector
		want string
	}{
		{Selector{}, "tools.a.0 suites.0.fast suites.0.slow suites.1.e2e suites.1.2"},
		{Selector{Suites: []string{filepath.Join(dir, "two.yaml")}}, "suites.1.e2e suites.1.2"},
		{Selector{Tools: []string{"a"}, Suites: []string{filepath.Join(dir, "two.yaml")}}, "tools.a.0 suites.1.e2e suites.1.2"},
		{Selector{IDs: []string{"slow", "2", "tools.a.0"}}, "tools.a.0 suites.0.slow suites.1.2"},
		{Selector{Tags: []string{"unit"}}, "tools.a.0 suites.0.fast suites.0.slow"},
		{Selector{Tags: []string{"unit"}, ExcludeTags: []string{"slow"}}, "tools.a.0 suites.0.fast"},
		{Selector{ExcludeTags: []string{"unit", "e2e"}}, "suites.1.2"},
		{Selector{Tags: []string{"none"}}, "error: " + filepath.Join(dir, "project.toml") + ": no test matches"},
		{Selector{Suites: []string{filepath.Join(dir, "app.cwl")}}, "error: --suite " + filepath.Join(dir, "app.cwl") + ": the suite has no test case"},
	} {
		cs, err := Select(p, tc.sel)
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		got := strings.Join(ids, " ")
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.sel, got, tc.want)
		}
	}
}

package builder

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFiles writes name -> content under dir; a content starting with
// "->" makes a symlink to the rest.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const suiteEntry = `
[[tests.suites]]
path = "tests/suite.yaml"
timeout = "5m"

[tests.suites.urls]
"https://example.org/releases/1.0/app.1.0.cwl" = "app.cwl"
"https://example.org/suites/main/" = ""
`

func TestSuiteCases(t *testing.T) {
	file := writeProject(t, base+suiteEntry)
	dir := filepath.Dir(file)
	writeFiles(t, dir, map[string]string{
		"tests/suite.yaml": `# a published suite, its tool and job by URL
- id: crop-green
  doc: "Crop the green band."
  tool: https://example.org/releases/1.0/app.1.0.cwl#a
  job: https://example.org/suites/main/tests/job-a.yaml
  tags: [unit, a]
  output:
    out: {class: File, location: Any}
- $import: more/cases.yaml
- tool: ../app.cwl#b
  should_fail: true
  output: {x: 1}
`,
		"tests/more/cases.yaml": "- id: 7\n  tool: ../../app.cwl\n  ex:extension: ignored\n",
		"tests/job-a.yaml": `in: {class: File, location: data/x.csv}
items:
  - class: File
    path: data/y.csv
    secondaryFiles: [{class: File, location: data/y.csv.idx}]
name: plain
`,
		"tests/data/x.csv": "x\n", "tests/data/y.csv": "y\n", "tests/data/y.csv.idx": "i\n",
	})
	p, err := LoadProjectWith(file, LoadOptions{SkipContexts: true, ConfineTestVolumes: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := NewPlan(p).Tests
	if len(tests) != 3 {
		t.Fatalf("%d tests, want the suite's 3: %+v", len(tests), tests)
	}
	suite := filepath.Join(dir, "tests", "suite.yaml")
	for i, want := range []struct{ id, name, ref string }{
		{"suites.0.crop-green", "crop-green", "app.cwl#a"},
		{"suites.0.7", "7", "app.cwl"},
		{"suites.0.3", "3", "app.cwl#b"},
	} {
		tp := tests[i]
		if tp.ID != want.id || tp.Name != want.name || tp.Ref != want.ref || tp.Kind != "suite" || tp.Suite != suite || tp.Timeout != 5*time.Minute {
			t.Errorf("case %d: id %q name %q ref %q kind %q suite %q timeout %v, want %+v", i, tp.ID, tp.Name, tp.Ref, tp.Kind, tp.Suite, tp.Timeout, want)
		}
	}
	first := tests[0]
	if first.Description != "Crop the green band." || !reflect.DeepEqual(first.Tags, []string{"unit", "a"}) {
		t.Errorf("doc %q tags %v", first.Description, first.Tags)
	}
	data := filepath.Join(dir, "tests", "data")
	wantParams := map[string]any{
		"in": map[string]any{"class": "File", "location": filepath.Join(data, "x.csv")},
		"items": []any{map[string]any{"class": "File", "path": filepath.Join(data, "y.csv"),
			"secondaryFiles": []any{map[string]any{"class": "File", "location": filepath.Join(data, "y.csv.idx")}}}},
		"name": "plain",
	}
	if !reflect.DeepEqual(first.Params, wantParams) {
		t.Errorf("params %#v\nwant %#v", first.Params, wantParams)
	}
	if !reflect.DeepEqual(first.Expect, map[string]any{"out": map[string]any{"class": "File", "location": "Any"}}) {
		t.Errorf("expect %#v", first.Expect)
	}
	if last := tests[2]; !last.ShouldFail || last.Expect != nil {
		t.Errorf("should_fail case: should_fail %v expect %v (a run that fails has no output to match)", last.ShouldFail, last.Expect)
	}
	// Every file of a case is in its own volume, as a test's are.
	if !strings.HasPrefix(first.Stdout, filepath.Join(dir, ".cwlbuild", "tests", "suites.0.crop-green")) {
		t.Errorf("stdout %s", first.Stdout)
	}
}

// TestSuiteFromCommandLine loads a suite named only on the command line,
// and one declared too only once.
func TestSuiteFromCommandLine(t *testing.T) {
	file := writeProject(t, base+suiteEntry)
	dir := filepath.Dir(file)
	writeFiles(t, dir, map[string]string{
		"tests/suite.yaml": "- id: a\n  tool: ../app.cwl#a\n",
		"other.yaml":       "- id: b\n  tool: app.cwl#b\n  tags: [slow]\n",
	})
	p, err := LoadProjectWith(file, LoadOptions{SkipContexts: true, Suites: []string{filepath.Join(dir, "other.yaml"), filepath.Join(dir, "tests", "suite.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tp := range NewPlan(p).Tests {
		ids = append(ids, tp.ID)
	}
	if want := []string{"suites.0.a", "suites.1.b"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
}

func TestSuiteErrors(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(outside, []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		entry string // replaces suiteEntry
		want  string
	}{
		{"unknown key", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  tol: x\n"}, "",
			`tests/suite.yaml:2: unknown key "tol" in a test case: cwltest's are id, label`},
		{"tool by an address not mapped", map[string]string{"tests/suite.yaml": "- tool: https://other.org/app.cwl#a\n"}, "",
			`tests/suite.yaml:1: test case "1": tool "https://other.org/app.cwl#a": an address: cwlbuild runs the package's own files, not a published copy; map it to one with [[tests.suites]] urls`},
		{"tool not a CWL file of project.toml", map[string]string{"tests/suite.yaml": "- tool: other.cwl\n", "tests/other.cwl": "cwlVersion: v1.2\n"}, "",
			`tests/suite.yaml:1: test case "1": tool "other.cwl": tests/other.cwl is not a CWL file project.toml names`},
		{"tool outside", map[string]string{"tests/suite.yaml": "- tool: ../../x.cwl\n"}, "", `is outside the package`},
		{"tool by file: outside", map[string]string{"tests/suite.yaml": "- tool: file:///etc/x.cwl\n"}, "", `/etc/x.cwl is outside the package`},
		{"job through a link out", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  job: job.yaml\n", "tests/job.yaml": "->" + outside}, "",
			`tests/suite.yaml:2: test case "1": job "job.yaml": "job.yaml": a symlink to`},
		{"suite a link, in the package too", map[string]string{"tests/suite.yaml": "->real.yaml", "tests/real.yaml": "- tool: ../app.cwl#a\n"}, "",
			`/tests/suite.yaml is a symlink: cwlbuild never writes or reads`},
		{"job a link in the package", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  job: job.yaml\n", "tests/job.yaml": "->real.yaml", "tests/real.yaml": "a: 1\n"}, "",
			`/tests/job.yaml is a symlink: cwlbuild never writes or reads`},
		{"job a directory", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  job: job.yaml\n", "tests/job.yaml/x": "a: 1\n"}, "",
			`/tests/job.yaml is not a regular file`},
		{"input outside", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  job: job.yaml\n", "tests/job.yaml": "a: 1\nf: {class: File, path: /etc/passwd}\n"}, "",
			`tests/job.yaml:2: f.path "/etc/passwd": outside the project directory`},
		{"job $include outside", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  job: job.yaml\n", "tests/job.yaml": "a:\n  $include: /etc/passwd\n"}, "",
			`tests/job.yaml:2: a.$include "/etc/passwd": outside the project directory`},
		{"input remote", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  job: job.yaml\n", "tests/job.yaml": "f:\n  class: File\n  location: http://169.254.169.254/latest\n"}, "",
			`tests/job.yaml:3: f.location "http://169.254.169.254/latest": a remote input`},
		{"job not a mapping", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  job: job.yaml\n", "tests/job.yaml": "- 1\n"}, "",
			`tests/job.yaml:1: a job file is a mapping`},
		{"numbered after a failed case", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  tol: 1\n- tool: https://other.org/app.cwl#a\n"}, "",
			`tests/suite.yaml:3: test case "2": tool "https://other.org/app.cwl#a": an address`},
		{"duplicate id", map[string]string{"tests/suite.yaml": "- id: x\n  tool: ../app.cwl#a\n- id: x\n  tool: ../app.cwl#b\n"}, "",
			`tests/suite.yaml:3: test case id "x" is also the id of case 1`},
		{"no tool", map[string]string{"tests/suite.yaml": "- id: x\n  doc: d\n"}, "", `tests/suite.yaml:1: test case "x": tool is not set`},
		{"import cycle", map[string]string{"tests/suite.yaml": "- $import: b.yaml\n", "tests/b.yaml": "- $import: suite.yaml\n"}, "",
			`tests/b.yaml: $import of tests/suite.yaml makes a cycle`},
		{"output not a mapping", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n  output: [1]\n"}, "",
			`tests/suite.yaml:2: test case "1": output: the expected output object is a mapping`},
		{"not a list", map[string]string{"tests/suite.yaml": "just text\n"}, "", `tests/suite.yaml:1: a cwltest suite is a list of test cases`},
		{"suite outside", nil, "\n[[tests.suites]]\npath = \"../s.yaml\"\n", `tests.suites.0.path "../s.yaml": outside the project directory`},
		{"no suite file", nil, "\n[[tests.suites]]\npath = \"none.yaml\"\n", `none.yaml: the cwltest suite:`},
		{"urls key not an address", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n"}, "\n[[tests.suites]]\npath = \"tests/suite.yaml\"\n[tests.suites.urls]\n\"app\" = \"app.cwl\"\n",
			`tests.suites.0.urls: "app" is not an http or https address`},
		{"urls into a path outside", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n"}, "\n[[tests.suites]]\npath = \"tests/suite.yaml\"\n[tests.suites.urls]\n\"https://x.org/\" = \"../up\"\n",
			`tests.suites.0.urls "../up": outside the project directory`},
		{"suite timeout", map[string]string{"tests/suite.yaml": "- tool: ../app.cwl#a\n"}, "\n[[tests.suites]]\npath = \"tests/suite.yaml\"\ntimeout = \"soon\"\n",
			`tests.suites.0.timeout: soon is not a positive duration`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entry := tc.entry
			if entry == "" {
				entry = suiteEntry
			}
			file := writeProject(t, base+entry)
			writeFiles(t, filepath.Dir(file), tc.files)
			_, err := LoadProjectWith(file, LoadOptions{SkipContexts: true, ConfineTestVolumes: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant one containing %s", err, tc.want)
			}
		})
	}
}

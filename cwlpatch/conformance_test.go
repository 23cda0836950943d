package cwlpatch

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

// conformant is an application package every rule accepts.
const conformant = `cwlVersion: v1.2
$namespaces: {s: https://schema.org/}
s:softwareVersion: 1.2.0
$graph:
- class: Workflow
  id: main
  label: Main
  doc: The whole chain.
  inputs:
    aoi: {type: string, label: AOI, doc: area of interest}
  outputs: []
  steps:
    run: {run: "#tool", in: {aoi: aoi}, out: []}
- class: CommandLineTool
  id: tool
  requirements:
    DockerRequirement: {dockerPull: "localhost:5000/tool:1.2.0"}
    ResourceRequirement: {coresMin: 1, ramMin: 256}
  baseCommand: [echo]
  inputs:
    aoi: {type: string, inputBinding: {position: 1}}
  outputs: []
`

// TestConformance: the conformant package has no finding; each change
// that breaks one rule gives that rule's finding, at the line of the
// process (or key) it is about.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		want           []string // rule:line
	}{
		{"conformant", "", "", nil},
		{"hint only", "  requirements:\n    DockerRequirement", "  hints:\n    DockerRequirement", []string{ruleDockerHint + ":17"}},
		{"no docker", "    DockerRequirement: {dockerPull: \"localhost:5000/tool:1.2.0\"}\n", "", []string{ruleDocker + ":14"}},
		{"no baseCommand", "  baseCommand: [echo]\n", "", []string{ruleToolFields + ":14"}},
		{"no label", "  label: Main\n", "", []string{ruleWorkflowDocs + ":5"}},
		{"input without doc", "{type: string, label: AOI, doc: area of interest}", "{type: string, label: AOI}", []string{ruleWorkflowDocs + ":10"}},
		{"other version", "s:softwareVersion: 1.2.0", "s:softwareVersion: 1.1.0", []string{ruleVersion + ":3"}},
		{"no version", "s:softwareVersion: 1.2.0\n", "", []string{ruleVersion + ":1"}},
		{"no resources", "    ResourceRequirement: {coresMin: 1, ramMin: 256}\n", "", []string{ruleResources + ":14"}},
		{"no ramMin", "{coresMin: 1, ramMin: 256}", "{coresMin: 1, ramMax: 256}", []string{ruleResources + ":18"}},
		{"resources by a namespaced class", "    ResourceRequirement:", "    cwl:ResourceRequirement:", nil},
		{"resources in a hint list", "    ResourceRequirement: {coresMin: 1, ramMin: 256}\n", "  hints:\n  - {class: ResourceRequirement, coresMin: 1, ramMin: 256}\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cwl := strings.Replace(conformant, tc.from, tc.to, 1)
			if tc.from != "" && cwl == conformant {
				t.Fatalf("%q is not in the package", tc.from)
			}
			os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(cwl), 0o644)
			toml := "[project]\nname = \"p\"\nversion = \"1.2.0\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n" +
				"[tools.tool]\ncontext = \".\"\npath = \"app.cwl#tool\"\n[[workflows]]\npath = \"app.cwl#main\"\n"
			os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
			p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range Conformance(p, false) {
				got = append(got, d.Rule+":"+itoa(d.Line))
				if d.Severity != builder.SeverityWarning || d.File != "app.cwl" || !strings.Contains(d.Message, d.Rule) {
					t.Errorf("diagnostic %+v", d)
				}
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("findings %q, want %q", got, tc.want)
			}
		})
	}
	// A CommandLineTool running an image no tool builds: a finding, unless
	// [release] externalImages lists it.
	for external, want := range map[string]int{"": 1, "[release]\nexternalImages = [\"python\"]\n": 0} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(conformant+`- class: CommandLineTool
  id: py
  requirements:
    DockerRequirement: {dockerPull: "python:3.12"}
  baseCommand: [python]
  inputs: []
  outputs: []
`), 0o644)
		toml := "[project]\nname = \"p\"\nversion = \"1.2.0\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n" + external +
			"[tools.tool]\ncontext = \".\"\npath = \"app.cwl#tool\"\n[[workflows]]\npath = \"app.cwl#main\"\n"
		os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
		p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range Conformance(p, false) {
			if d.Rule == ruleImageSource && strings.Contains(d.Message, "docker.io/library/python") {
				n++
			}
		}
		if n != want {
			t.Errorf("externalImages %q: %d image-source findings, want %d", external, n, want)
		}
	}
	// A [[workflows]] file with no CommandLineTool.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wf.cwl"), []byte("cwlVersion: v1.2\nclass: Workflow\nid: main\nlabel: M\ndoc: D\ns:softwareVersion: 1.2.0\ninputs: []\noutputs: []\nsteps: []\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte("[project]\nname = \"p\"\nversion = \"1.2.0\"\n[build]\nengine = \"local\"\n[[workflows]]\npath = \"wf.cwl\"\n"), 0o644)
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := Conformance(p, false); len(d) != 1 || d[0].Rule != ruleProcesses {
		t.Errorf("a workflow file without tools: %v", d)
	}
}

// TestConformanceWords: a tool that inherits its workflow's DockerRequirement
// is told so (not that no image is known), a process is named once with its
// class, and a package without [[workflows]] has a finding of its own.
func TestConformanceWords(t *testing.T) {
	load := func(t *testing.T, cwl, workflows string) []builder.Diagnostic {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(cwl), 0o644)
		toml := "[project]\nname = \"p\"\nversion = \"1.2.0\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n" +
			"[tools.tool]\ncontext = \".\"\npath = \"app.cwl#tool\"\n" + workflows
		os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
		p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true})
		if err != nil {
			t.Fatal(err)
		}
		return Conformance(p, false)
	}
	all := func(ds []builder.Diagnostic) string {
		var msgs []string
		for _, d := range ds {
			msgs = append(msgs, d.Message)
		}
		return strings.Join(msgs, "\n")
	}
	inherited := strings.Replace(conformant, "    DockerRequirement: {dockerPull: \"localhost:5000/tool:1.2.0\"}\n", "", 1)
	inherited = strings.Replace(inherited, "  label: Main\n", "  label: Main\n  requirements:\n    DockerRequirement: {dockerPull: \"localhost:5000/tool:1.2.0\"}\n", 1)
	got := all(load(t, inherited, "[[workflows]]\npath = \"app.cwl#main\"\n"))
	if strings.Contains(got, "cannot tell which image") || !strings.Contains(got, `CommandLineTool "tool" has no DockerRequirement of its own: it runs the one of the workflow`) {
		t.Errorf("a tool inheriting its workflow's image:\n%s", got)
	}
	got = all(load(t, strings.Replace(conformant, "  label: Main\n", "", 1), "[[workflows]]\npath = \"app.cwl#main\"\n"))
	if !strings.Contains(got, `Workflow "main" has no label`) {
		t.Errorf("a workflow without a label:\n%s", got)
	}
	if ds := load(t, conformant, ""); len(ds) != 1 || ds[0].Rule != ruleProcesses || !strings.Contains(ds[0].Message, "has no [[workflows]]") {
		t.Errorf("a package without [[workflows]]: %v", ds)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

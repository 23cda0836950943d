package cwlpatch

import (
	"fmt"
	"strings"
	"testing"
)

// TestFileImages: what verify reads of a published workflow file is the
// resolver's answer for that file alone: the image that runs in every
// context, and a problem for anything the file cannot answer.
func TestFileImages(t *testing.T) {
	const pin = "r.io/hello:1@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const tool = "- class: CommandLineTool\n  id: hello\n  inputs: []\n  outputs: []\n"
	for _, tc := range []struct {
		name, doc    string
		ref, problem string
	}{
		{"namespaced class",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    s: {run: '#hello'}\n" + tool + "  requirements:\n  - {class: DockerRequirement, dockerPull: other}\n  - {class: 'cwl:DockerRequirement', dockerPull: '" + pin + "'}\n",
			pin, ""},
		{"a workflow's requirement over the tool's hint",
			"$graph:\n- class: Workflow\n  id: main\n  requirements: {DockerRequirement: {dockerPull: docker.io/attacker/evil:latest}}\n  steps:\n    s: {run: '#hello'}\n" + tool + "  hints: {DockerRequirement: {dockerPull: '" + pin + "'}}\n",
			"docker.io/attacker/evil:latest", ""},
		{"dockerImageId beside the pin",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    s: {run: '#hello'}\n" + tool + "  requirements: {DockerRequirement: {dockerPull: '" + pin + "', dockerImageId: docker.io/attacker/evil:latest}}\n",
			"docker.io/attacker/evil:latest", "cwltool runs its dockerImageId"},
		{"a step running a file the artifact lacks",
			"class: Workflow\nsteps:\n  s: {run: other.cwl}\n  t: {run: {class: CommandLineTool, requirements: {DockerRequirement: {dockerPull: '" + pin + "'}}}}\n",
			"", "w.cwl:3: step \"s\" of the Workflow in w.cwl runs other.cwl, which w.cwl does not hold"},
		{"a step running a URL",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    s: {run: 'https://example.org/x.cwl'}\n",
			"", "a process fetched at run time"},
		{"an $import",
			"$graph:\n- class: Workflow\n  id: main\n  steps:\n    s: {run: '#hello'}\n" + tool + "  requirements: {$import: docker.yml}\n",
			"", "$import docker.yml: w.cwl does not hold it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			images, err := FileImages("w.cwl", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, im := range images {
				if (tc.ref == "" || im.Ref == tc.ref) && strings.Contains(im.Problem, tc.problem) {
					found = true
				}
				if tc.problem == "" && im.Problem != "" {
					t.Errorf("unexpected problem: %s", im.Problem)
				}
			}
			if !found {
				t.Errorf("images %+v\nwant one running %q with a problem containing %q", images, tc.ref, tc.problem)
			}
		})
	}
}

// TestResolverBounded: workflows that each run the next twice reach 2^n
// contexts; past the bound the resolver refuses the package at once
// instead of walking them all.
func TestResolverBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("$graph:\n")
	const depth = 30
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "- class: Workflow\n  id: w%d\n  steps:\n    a: {run: '#w%d'}\n    b: {run: '#w%d'}\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "- class: CommandLineTool\n  id: w%d\n", depth)
	d, err := parseDocument("w.cwl", []byte(strings.Replace(b.String(), "id: w0\n", "id: main\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	res := singleSet(d).resolve()
	if len(res.refused) != 1 || !strings.Contains(res.refused[0].Error(), "cwlbuild does not follow so many") {
		t.Errorf("refused %v", res.refused)
	}
}

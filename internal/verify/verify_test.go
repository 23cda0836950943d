package verify

import (
	"context"
	"strings"
	"testing"
)

// TestFileResolves: verify judges the image each process runs as the
// package's resolver reads it, not the first dockerPull it sees: a step
// running a file the artifact lacks fails the workflow, and a workflow's
// requirement over a tool's pinned hint is the image verified. No registry
// is asked for either (neither names a digest to look up).
func TestFileResolves(t *testing.T) {
	const pin = "127.0.0.1:1/hello:1@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	for _, tc := range []struct{ name, doc, want string }{
		{"a step running a file the artifact lacks",
			"cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  s: {run: other.cwl, in: [], out: []}\n",
			`wf.cwl:6: step "s" of the Workflow in wf.cwl runs other.cwl, which wf.cwl does not hold`},
		{"a workflow's requirement over a pinned hint",
			"cwlVersion: v1.2\n$graph:\n- class: Workflow\n  id: main\n  requirements: {DockerRequirement: {dockerPull: 'docker.io/attacker/evil:latest'}}\n  inputs: []\n  outputs: []\n  steps:\n    s: {run: '#hello', in: [], out: []}\n" +
				"- class: CommandLineTool\n  id: hello\n  inputs: []\n  outputs: []\n  hints: {DockerRequirement: {dockerPull: '" + pin + "'}}\n",
			`process "hello" docker.io/attacker/evil:latest: not pinned by digest`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := File(context.Background(), "wf.cwl", []byte(tc.doc), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			lines = append(lines, rep.Problems...)
			for _, im := range rep.Images {
				for _, p := range im.Problems {
					lines = append(lines, im.Process+" "+im.Ref+": "+p)
				}
			}
			all := strings.Join(lines, "\n")
			if !rep.Failed() || !strings.Contains(all, tc.want) {
				t.Errorf("failed %v, problems:\n%s\nwant %q", rep.Failed(), all, tc.want)
			}
		})
	}
}

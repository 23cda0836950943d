package verify

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/eoap/cwlbuild/builder"
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

// TestOneRoundPerDigest: a workflow of many tools sharing one pin asks the
// registry about that pin once, as for one tool; an interrupt stops the
// checks and verifies nothing.
func TestOneRoundPerDigest(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	var requests atomic.Int64
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/eoap/a:1")
	if err := ggcr.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	pin := host + "/eoap/a:1@" + digest.String()
	workflow := func(n int) []byte {
		var b strings.Builder
		b.WriteString("cwlVersion: v1.2\n$graph:\n- class: Workflow\n  id: main\n  inputs: []\n  outputs: []\n  steps:\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "    s%d: {run: '#t%d', in: [], out: []}\n", i, i)
		}
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "- class: CommandLineTool\n  id: t%d\n  inputs: []\n  outputs: []\n  hints: {DockerRequirement: {dockerPull: '%s'}}\n", i, pin)
		}
		return []byte(b.String())
	}
	rounds := map[int]int64{}
	for _, n := range []int{1, 300} {
		requests.Store(0)
		rep, err := File(ctx, "wf.cwl", workflow(n), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Images) != n {
			t.Fatalf("%d images reported, want %d", len(rep.Images), n)
		}
		rounds[n] = requests.Load()
	}
	if rounds[300] != rounds[1] {
		t.Errorf("300 tools sharing one pin took %d requests, one tool %d", rounds[300], rounds[1])
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if rep, err := File(stopped, "wf.cwl", workflow(3), Options{}); err == nil || !strings.Contains(err.Error(), "nothing is verified") {
		t.Errorf("interrupted: %v, %+v", err, rep)
	}
}

// TestDiagnostics: every failure of a report, the workflow's and each
// image's, is an error diagnostic naming what failed; a clean report has
// none, as an empty list.
func TestDiagnostics(t *testing.T) {
	rep := &Report{Workflow: "r.io/app@sha256:1", Problems: []string{"no signature"},
		Images: []Image{{Process: `process "crop"`, Ref: "r.io/crop@sha256:2", Problems: []string{"no SBOM"}}, {Process: `process "otsu"`, Ref: "r.io/otsu@sha256:3"}}}
	d := rep.Diagnostics()
	if len(d) != 2 || d[0].Message != "workflow r.io/app@sha256:1: no signature" || d[1].Message != `process "crop" r.io/crop@sha256:2: no SBOM` ||
		d[0].Severity != builder.SeverityError || d[1].Severity != builder.SeverityError {
		t.Errorf("Diagnostics: %+v", d)
	}
	if d := (&Report{}).Diagnostics(); d == nil || len(d) != 0 {
		t.Errorf("a clean report: %#v", d)
	}
}

package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/constants"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/skaffold"
)

// SpecOf is what a cluster build of the plan needs.
func SpecOf(p *builder.Plan) (*agentapi.Preflight, error) {
	s := &agentapi.Preflight{
		Namespace:      p.Cluster.Namespace,
		ServiceAccount: p.Cluster.ServiceAccount,
		Secret:         p.PushSecret(builder.ProfileCluster),
		ExecutorImage:  p.Kaniko.Image,
		InitImage:      p.Kaniko.InitImage,
		Insecure:       p.Kaniko.Insecure,
	}
	if s.InitImage == "" {
		s.InitImage = constants.DefaultBusyboxImage // Skaffold's, as its pods use
	}
	index := map[string]int{}
	seen := map[string]bool{}
	for _, a := range p.Artifacts {
		bases, err := skaffold.BaseImages(p, a.Tool)
		if err != nil {
			return nil, err
		}
		for _, b := range bases {
			if i, ok := index[b.Name]; ok {
				s.Bases[i].Tool += ", " + a.Tool
				continue
			}
			index[b.Name] = len(s.Bases)
			s.Bases = append(s.Bases, agentapi.Base{Tool: a.Tool, Image: b.Name, Pull: b.Pull})
		}
		if len(a.Platforms) > 1 {
			// Built by a pod per platform (build.KanikoPods), each on a
			// node of its architecture.
			for _, pl := range a.Platforms {
				if !slices.Contains(s.Platforms, pl) {
					s.Platforms = append(s.Platforms, pl)
				}
			}
			s.Emulation = p.Cluster.Emulation
		}
		if repo := a.Images[builder.ProfileCluster]; repo != "" && !seen[repo] {
			seen[repo] = true
			s.Push = append(s.Push, agentapi.Push{Tool: a.Tool, Repository: repo})
		}
	}
	if c := p.ClusterCache(); c != nil && c.Repo != "" && !seen[c.Repo] {
		s.Push = append(s.Push, agentapi.Push{Repository: c.Repo})
	}
	return s, nil
}

// ErrFailed is a pre-flight in which a check failed; each failure is on
// its own line of the output already.
var ErrFailed = errors.New("the cluster pre-flight failed")

// Cluster runs the pre-flight and copies its lines to out, one per check,
// as they come; it returns each failed check as a diagnostic (under
// [build.cluster]), and ErrFailed when one failed.
func Cluster(ctx context.Context, p *builder.Plan, timeout string, out, errOut io.Writer) ([]builder.Diagnostic, error) {
	if p.Cluster.Builder == builder.ClusterBuildKit {
		return clusterBuildKit(ctx, p, out, errOut)
	}
	s, err := SpecOf(p)
	if err != nil {
		return nil, err
	}
	s.Timeout = timeout
	agent, err := agentapi.Find(" (it runs the pre-flight pod)")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cwlbuild-preflight-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return nil, err
	}
	ns := s.Namespace
	if ns == "" {
		ns = "the kubeconfig's namespace"
	}
	fmt.Fprintf(out, "cluster pre-flight: one pod in %s as service account %s, %d base image(s), %d repositories\n",
		ns, orDefault(s.ServiceAccount, "default"), len(s.Bases), len(s.Push))
	cmd := exec.CommandContext(ctx, agent, "preflight", "--spec", file)
	lines := &resultLines{out: out, file: p.File, line: p.Line("build.cluster")}
	cmd.Stdout, cmd.Stderr = lines, errOut
	err = cmd.Run()
	lines.flush()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == agentapi.ExitFailed {
		return lines.failed, ErrFailed
	}
	if err != nil {
		return lines.failed, fmt.Errorf("%s preflight: %v", agentapi.Program, err)
	}
	fmt.Fprintln(out, "cluster pre-flight: ok")
	return lines.failed, nil
}

// resultLines copies the agent's output to out and reads each failed
// check's line (agentapi.ParseResult) as a diagnostic.
type resultLines struct {
	out    io.Writer
	file   string
	line   int
	buf    []byte
	failed []builder.Diagnostic
}

func (w *resultLines) Write(b []byte) (int, error) {
	if _, err := w.out.Write(b); err != nil {
		return 0, err
	}
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.read(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func (w *resultLines) flush() {
	if len(w.buf) > 0 {
		w.read(string(w.buf))
		w.buf = nil
	}
}

func (w *resultLines) read(line string) {
	if r, ok := agentapi.ParseResult(line); ok && !r.OK {
		w.failed = append(w.failed, builder.Diagnostic{File: w.file, Line: w.line, Key: "build.cluster", Severity: builder.SeverityError,
			Message: "cluster pre-flight: " + r.Check + ": " + r.Detail})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// clusterBuildKit is the pre-flight of the buildkit cluster builder: the
// namespace's buildkitd answers the way the builds reach it (buildctl dial-stdio in its pod),
// with its version and platforms. (Registry logins are this machine's, and
// the bases are the daemon's to pull: the build names either failure.)
func clusterBuildKit(ctx context.Context, p *builder.Plan, out, errOut io.Writer) ([]builder.Diagnostic, error) {
	addr := p.Cluster.BuildKitAddress()
	fmt.Fprintf(out, "cluster pre-flight: buildkitd at %s\n", addr)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	d, err := build.Reach(ctx, addr)
	r := agentapi.Result{Check: "buildkitd", OK: err == nil, Detail: fmt.Sprintf("buildkitd %s at %s, platforms %s", d.Version, addr, strings.Join(d.Platforms, ", "))}
	if err != nil {
		r.Detail = err.Error()
	}
	lines := &resultLines{out: out, file: p.File, line: p.Line("build.cluster")}
	fmt.Fprintln(lines, r)
	if err == nil {
		// A tool's platform the daemon cannot build fails here, before
		// any build, not at its first RUN step.
		for _, a := range p.Artifacts {
			var missing []string
			for _, pl := range a.Platforms {
				if !slices.Contains(d.Platforms, pl) {
					missing = append(missing, pl)
				}
			}
			if len(missing) > 0 {
				fmt.Fprintln(lines, agentapi.Result{Check: "platforms", Detail: fmt.Sprintf("tool %s is built for %s, which buildkitd cannot build (it builds %s): register QEMU for them in binfmt_misc on its node, as scripts/setup.sh does", a.Tool, strings.Join(missing, ", "), strings.Join(d.Platforms, ", "))})
			}
		}
	}
	lines.flush()
	if err != nil || len(lines.failed) > 0 {
		return lines.failed, ErrFailed
	}
	fmt.Fprintln(out, "cluster pre-flight: ok")
	return nil, nil
}

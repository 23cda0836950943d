// Package kanikopod builds one image for several platforms with Kaniko
// pods, one pod per platform, each on a node of its platform's
// architecture (node selector kubernetes.io/arch), or, where the cluster
// has none and emulation is allowed, on any node with its RUN steps under
// QEMU. Skaffold's cluster builder (v2.24, measured) also runs a pod per
// platform with its architecture's node selector, but passes the executor
// no --custom-platform, has no emulation, and leaves a pod no node can run
// Pending until its 10-minute timeout; an image whose config names another
// architecture would be pushed as it is (skaffold#9861).
//
// The pods are shaped like Skaffold's Kaniko pods: an init container
// receives the build context through pods/exec, the executor runs with
// the push secret at /kaniko/.docker/config.json, and the digest it pushed
// comes back as the container's termination message. Placement is decided
// for every platform before any pod starts, so a cluster without a node of
// an architecture fails at once, naming it.
package kanikopod

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/job"
)

// ArchLabel is the node label the scheduler matches a platform's
// architecture with.
const ArchLabel = "kubernetes.io/arch"

// Placement is where one platform's pod runs.
type Placement struct {
	Platform string
	// Arch is the node selector's value; "" schedules on any node.
	Arch string
	// Emulated: no node runs Arch, and the pod runs anywhere under QEMU.
	Emulated bool
}

// Nodes are the cluster's nodes' architectures (sorted, each once), or
// an error when they cannot be read (a Role bound in one namespace may
// not list nodes).
func Nodes(ctx context.Context, c *job.Client) ([]string, error) {
	list, err := c.API().CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, n := range list.Items {
		if a := n.Labels[ArchLabel]; a != "" {
			seen[a] = true
		} else if a := n.Status.NodeInfo.Architecture; a != "" {
			seen[a] = true
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// Place decides where each platform builds, given the cluster's node
// architectures (nil: unknown, so each pod asks for its own and the
// scheduler decides). A platform no node runs is emulated when emulation
// is allowed, else an error that names it and the architectures there are.
func Place(platforms, nodes []string, emulation bool) ([]Placement, error) {
	var out []Placement
	var missing []string
	for _, p := range platforms {
		arch := archOf(p)
		switch {
		case nodes == nil || slices.Contains(nodes, arch):
			out = append(out, Placement{Platform: p, Arch: arch})
		case emulation:
			out = append(out, Placement{Platform: p, Emulated: true})
		default:
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the cluster has no node for %s (its nodes are %s): add a node of that architecture, or set [build.cluster] emulation = true to build it on any node with its RUN steps under QEMU (binfmt_misc on the nodes)",
			strings.Join(missing, ", "), strings.Join(nodes, ", "))
	}
	return out, nil
}

// archOf is the architecture of "os/arch[/variant]".
func archOf(platform string) string {
	parts := strings.Split(platform, "/")
	if len(parts) < 2 {
		return platform
	}
	return parts[1]
}

// Build runs s: placement first, then one pod per platform at once, each
// receiving the tar stream in file (context/..., Dockerfile). Progress gets
// one line per pod's step and the executor's log, each line prefixed by
// its platform. The pods are deleted before it returns.
func Build(ctx context.Context, c *job.Client, s *api.KanikoBuild, file string, progress io.Writer) ([]api.KanikoResult, error) {
	if len(s.Builds) == 0 {
		return nil, errors.New("no platform to build")
	}
	var platforms []string
	for _, b := range s.Builds {
		platforms = append(platforms, b.Platform)
	}
	nodes, err := Nodes(ctx, c)
	if apierrors.IsForbidden(err) {
		fmt.Fprintf(progress, "kaniko: may not list the cluster's nodes (%v): each pod asks for its platform's architecture and the scheduler decides\n", err)
		nodes, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the cluster's nodes: %w", err)
	}
	places, err := Place(platforms, nodes, s.Emulation)
	if err != nil {
		return nil, err
	}
	ns := s.Namespace
	if ns == "" {
		ns = c.Namespace
	}
	out := &lineWriter{w: progress}
	results := make([]api.KanikoResult, len(s.Builds))
	g, gctx := errgroup.WithContext(ctx)
	for i, b := range s.Builds {
		g.Go(func() error {
			r, err := buildOne(gctx, c, ns, s, b, places[i], file, out)
			if err != nil {
				return fmt.Errorf("%s: %w", b.Platform, err)
			}
			results[i] = *r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

// lineWriter writes whole lines from several goroutines without mixing
// them.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// buildOne runs one platform's pod to its end.
func buildOne(ctx context.Context, c *job.Client, ns string, s *api.KanikoBuild, b api.KanikoPlatform, place Placement, file string, out *lineWriter) (*api.KanikoResult, error) {
	pod, err := PodSpec(s, b, place)
	if err != nil {
		return nil, err
	}
	name, remove, err := c.CreatePod(ctx, ns, pod)
	if err != nil {
		return nil, err
	}
	defer remove()
	where := "on a node of architecture " + place.Arch
	if place.Arch == "" {
		where = "on any node, emulated"
	}
	out.printf("[%s] pod %s/%s %s", b.Platform, ns, name, where)

	p, err := waitFor(ctx, c, ns, name, 2*time.Minute, func(p *corev1.Pod) bool {
		for _, st := range p.Status.InitContainerStatuses {
			if st.State.Running != nil || st.State.Terminated != nil {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var stderr bytes.Buffer
	script := "tar -xf - -C /workspace && touch /workspace/.ready"
	if err := c.Exec(ctx, ns, name, "receive", []string{"sh", "-c", script}, f, io.Discard, &stderr); err != nil {
		return nil, fmt.Errorf("streaming the build context into pod %s (pods/exec): %v %s", name, err, strings.TrimSpace(stderr.String()))
	}
	out.printf("[%s] context sent; the executor runs on node %s", b.Platform, p.Spec.NodeName)

	logs := make(chan struct{})
	go func() {
		defer close(logs)
		follow(ctx, c, ns, name, b.Platform, out)
	}()
	timeout := time.Duration(s.Timeout)
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	p, err = waitFor(ctx, c, ns, name, timeout, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
	if err == nil {
		// The log ends with the container; wait for its last lines.
		select {
		case <-logs:
		case <-time.After(10 * time.Second):
		}
	}
	if err != nil {
		return nil, err
	}
	term := terminated(p, "kaniko")
	if p.Status.Phase == corev1.PodFailed || term == nil || term.ExitCode != 0 {
		why := p.Status.Message
		if term != nil {
			why = fmt.Sprintf("the executor exited %d", term.ExitCode)
			if last := job.LastLine(term.Message); last != "" {
				why += ": " + last
			}
			if strings.Contains(term.Message, "exec format error") {
				why += " (exec format error: the node cannot run " + b.Platform + " programs; register QEMU in its binfmt_misc)"
			}
		}
		return nil, fmt.Errorf("Kaniko pod %s failed: %s", name, why)
	}
	digest := strings.TrimSpace(term.Message)
	if !digestRE.MatchString(digest) {
		return nil, fmt.Errorf("Kaniko pod %s succeeded but left no digest (termination message %q)", name, digest)
	}
	out.printf("[%s] pushed %s", b.Platform, digest)
	return &api.KanikoResult{Platform: b.Platform, Digest: digest, Node: p.Spec.NodeName, Emulated: place.Emulated}, nil
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// terminated is the named container's terminated state, nil while it runs.
func terminated(p *corev1.Pod, container string) *corev1.ContainerStateTerminated {
	for _, st := range p.Status.ContainerStatuses {
		if st.Name == container {
			return st.State.Terminated
		}
	}
	return nil
}

// follow copies the executor's log to out, each line prefixed by the
// platform, until the container ends.
func follow(ctx context.Context, c *job.Client, ns, pod, platform string, out *lineWriter) {
	req := c.API().CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: "kaniko", Follow: true})
	for ctx.Err() == nil {
		rc, err := req.Stream(ctx)
		if err != nil {
			// Not started yet.
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			out.printf("[%s] %s", platform, sc.Text())
		}
		rc.Close()
		return
	}
}

// waitFor is the client's WaitPod for at most limit, its error naming
// the pod.
func waitFor(ctx context.Context, c *job.Client, ns, name string, limit time.Duration, done func(*corev1.Pod) bool) (*corev1.Pod, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	p, err := c.WaitPod(ctx, ns, name, done)
	if err != nil {
		return p, fmt.Errorf("pod %s (waited at most %s): %w", name, limit, err)
	}
	return p, nil
}

// PodSpec is one platform's pod: the init container waits for the
// context, the executor builds it.
func PodSpec(s *api.KanikoBuild, b api.KanikoPlatform, place Placement) (*corev1.Pod, error) {
	res, err := resources(s)
	if err != nil {
		return nil, err
	}
	mounts := []corev1.VolumeMount{{Name: "workspace", MountPath: "/workspace"}}
	volumes := []corev1.Volume{{Name: "workspace", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	kanikoMounts := append([]corev1.VolumeMount{}, mounts...)
	if s.Secret != "" {
		volumes = append(volumes, corev1.Volume{Name: "push-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: s.Secret,
			Items:      []corev1.KeyToPath{{Key: ".dockerconfigjson", Path: "config.json"}},
		}}})
		kanikoMounts = append(kanikoMounts, corev1.VolumeMount{Name: "push-secret", MountPath: "/kaniko/.docker"})
	}
	selector := map[string]string{"kubernetes.io/os": "linux"}
	if place.Arch != "" {
		selector[ArchLabel] = place.Arch
	}
	timeout := time.Duration(s.Timeout)
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	deadline := int64(timeout/time.Second) + 120
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "cwlbuild-kaniko-",
			Labels: map[string]string{
				"app.kubernetes.io/name":      "cwlbuild-kaniko",
				"cwlbuild.eoap.io/platform":   strings.ReplaceAll(b.Platform, "/", "-"),
				"app.kubernetes.io/component": "build",
			},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:         corev1.RestartPolicyNever,
			ServiceAccountName:    s.ServiceAccount,
			ActiveDeadlineSeconds: &deadline,
			NodeSelector:          selector,
			Volumes:               volumes,
			InitContainers: []corev1.Container{{
				Name: "receive", Image: s.InitImage, VolumeMounts: mounts,
				Command: []string{"sh", "-c", "until [ -f /workspace/.ready ]; do sleep 0.2; done"},
			}},
			Containers: []corev1.Container{{
				Name: "kaniko", Image: s.ExecutorImage, VolumeMounts: kanikoMounts,
				Args:      b.Args,
				Env:       []corev1.EnvVar{{Name: "DOCKER_CONFIG", Value: "/kaniko/.docker/"}},
				Resources: res,
				// The digest file on success; the log's tail on a failure.
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			}},
		},
	}, nil
}

// resources parses the spec's requests and limits.
func resources(s *api.KanikoBuild) (corev1.ResourceRequirements, error) {
	var r corev1.ResourceRequirements
	parse := func(m map[string]string) (corev1.ResourceList, error) {
		if len(m) == 0 {
			return nil, nil
		}
		l := corev1.ResourceList{}
		for k, v := range m {
			q, err := resource.ParseQuantity(v)
			if err != nil {
				return nil, fmt.Errorf("resource %s = %q: %w", k, v, err)
			}
			l[corev1.ResourceName(k)] = q
		}
		return l, nil
	}
	var err error
	if r.Requests, err = parse(s.Requests); err != nil {
		return r, err
	}
	r.Limits, err = parse(s.Limits)
	return r, err
}

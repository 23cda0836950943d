package preflight

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/job"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/kanikopod"
)

// dir is where the pod receives this program and the spec.
const dir = "/preflight"

// verb is one permission Skaffold's cluster builder uses.
type verb struct{ verb, subresource string }

// skaffoldVerbs are what Skaffold's Kaniko builder does with pods: create
// one per artifact, watch it, stream the context in (exec), follow its
// log, delete it.
var skaffoldVerbs = []verb{
	{"create", ""}, {"get", ""}, {"list", ""}, {"watch", ""}, {"delete", ""},
	{"create", "exec"}, {"get", "log"},
}

// Run checks everything the spec names and writes one line per check to
// out. It returns false when a check failed; an error only when it could
// not check at all.
func Run(ctx context.Context, c *job.Client, s *api.Preflight, out io.Writer) (bool, error) {
	timeout := 2 * time.Minute
	if s.Timeout != "" {
		d, err := time.ParseDuration(s.Timeout)
		if err != nil {
			return false, fmt.Errorf("timeout %q: %w", s.Timeout, err)
		}
		timeout = d
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ns := s.Namespace
	if ns == "" {
		ns = c.Namespace
	}
	ok := true
	emit := func(r api.Result) {
		ok = ok && r.OK
		fmt.Fprintln(out, r)
	}
	rbac := checkRBAC(ctx, c, ns)
	emit(rbac)
	if !rbac.OK {
		// Without pods/exec the probe cannot be streamed in, as Skaffold
		// could not stream a build context.
		fmt.Fprintln(out, "the probe pod was not started: it needs the same permissions")
		return false, nil
	}
	if sa := s.ServiceAccount; sa != "" {
		if _, err := c.API().CoreV1().ServiceAccounts(ns).Get(ctx, sa, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			emit(api.Result{Check: "service account", Detail: fmt.Sprintf("%q does not exist in namespace %q ([build.cluster] serviceAccount)", sa, ns)})
			return false, nil
		}
	}
	secret := s.Secret
	if secret != "" {
		_, err := c.API().CoreV1().Secrets(ns).Get(ctx, secret, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			emit(api.Result{Check: "push secret", Detail: fmt.Sprintf("%q does not exist in namespace %q ([build.cluster] secret): the Kaniko pods would never start", secret, ns)})
			secret = "" // the pushes below then show what no login gets
		case err == nil:
			emit(api.Result{Check: "push secret", OK: true, Detail: fmt.Sprintf("%q exists in namespace %q", secret, ns)})
		}
	}
	if len(s.Platforms) > 0 {
		emit(placement(ctx, c, s))
	}
	if runtime.GOOS != "linux" {
		emit(api.Result{Check: "probe pod", Detail: "the probe runs this program in the pod: run `cwlbuild check --cluster` on Linux (" + runtime.GOOS + " here)"})
		return false, nil
	}
	results, err := probePod(ctx, c, ns, secret, s, emit)
	if err != nil {
		emit(api.Result{Check: "probe pod", Detail: err.Error()})
		return false, nil
	}
	for _, r := range results {
		emit(r)
	}
	return ok, nil
}

// placement checks that each platform the Kaniko pods build has a node
// of its architecture, or that emulation is allowed: the check the build
// makes before any pod starts.
func placement(ctx context.Context, c *job.Client, s *api.Preflight) api.Result {
	r := api.Result{Check: "node architectures"}
	nodes, err := kanikopod.Nodes(ctx, c)
	if err != nil {
		r.OK = true
		r.Detail = fmt.Sprintf("not checked: the nodes cannot be listed (%v); each Kaniko pod asks for its platform's architecture", err)
		if !apierrors.IsForbidden(err) {
			r.OK = false
			r.Detail = "listing the nodes: " + err.Error()
		}
		return r
	}
	places, err := kanikopod.Place(s.Platforms, nodes, s.Emulation)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	var parts []string
	for _, p := range places {
		if p.Emulated {
			parts = append(parts, p.Platform+" under emulation (no "+p.Platform+" node)")
		} else {
			parts = append(parts, p.Platform+" on "+p.Arch+" nodes")
		}
	}
	r.OK = true
	r.Detail = "the nodes are " + strings.Join(nodes, ", ") + ": " + strings.Join(parts, ", ")
	return r
}

// checkRBAC asks the API server what the kubeconfig user may do with pods
// in the namespace (SelfSubjectAccessReview, as `kubectl auth can-i`).
func checkRBAC(ctx context.Context, c *job.Client, ns string) api.Result {
	r := api.Result{Check: "Skaffold's RBAC"}
	var denied []string
	for _, v := range skaffoldVerbs {
		rev := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: v.verb, Resource: "pods", Subresource: v.subresource},
		}}
		res, err := c.API().AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, rev, metav1.CreateOptions{})
		if err != nil {
			r.Detail = "asking the API server: " + err.Error()
			return r
		}
		if !res.Status.Allowed {
			what := v.verb + " pods"
			if v.subresource != "" {
				what = v.verb + " pods/" + v.subresource
			}
			denied = append(denied, what)
		}
	}
	if len(denied) > 0 {
		r.Detail = fmt.Sprintf("the kubeconfig user may not %s in namespace %q (grant them in the Role bound to it)", strings.Join(denied, ", "), ns)
		return r
	}
	r.OK = true
	r.Detail = fmt.Sprintf("the kubeconfig user may create, get, list, watch and delete pods, exec into them and read their logs in namespace %q", ns)
	return r
}

// probePod runs the probe in a pod shaped like Skaffold's Kaniko pods and
// returns its results. emit receives the pod's own checks (the images
// pull) as they are known. The pod is deleted before it returns.
func probePod(ctx context.Context, c *job.Client, ns, secret string, s *api.Preflight, emit func(api.Result)) ([]api.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := static(self); err != nil {
		return nil, err
	}
	pods := c.API().CoreV1().Pods(ns)
	name, remove, err := c.CreatePod(ctx, ns, podSpec(s, secret))
	if err != nil {
		return nil, err
	}
	defer remove()

	// The init container runs: the init image pulled and the secret mounted.
	p, err := c.WaitPod(ctx, ns, name, func(p *corev1.Pod) bool {
		for _, st := range p.Status.InitContainerStatuses {
			if st.State.Running != nil || st.State.Terminated != nil {
				return true
			}
		}
		return false
	})
	var se *job.StartError
	if errors.As(err, &se) && se.Container == "receive" {
		emit(api.Result{Check: "init image", Detail: s.InitImage + " does not pull: " + se.Why})
		return nil, errors.New("stopped: the pod cannot start")
	}
	if err != nil {
		return nil, err
	}
	emit(api.Result{Check: "init image", OK: true, Detail: s.InitImage + " pulls"})

	var payload bytes.Buffer
	if err := payloadTar(&payload, self, s); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	if err := c.Exec(ctx, ns, name, "receive", []string{"tar", "-xf", "-", "-C", dir}, &payload, io.Discard, &stderr); err != nil {
		return nil, fmt.Errorf("streaming the probe into the pod (pods/exec, as Skaffold streams the build context): %v %s", err, strings.TrimSpace(stderr.String()))
	}

	p, err = c.WaitPod(ctx, ns, name, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
	if errors.As(err, &se) && se.Container == "probe" {
		emit(api.Result{Check: "executor image", Detail: s.ExecutorImage + " does not pull: " + se.Why})
		return nil, errors.New("stopped: the executor cannot start")
	}
	if err != nil {
		return nil, err
	}
	logs, err := pods.GetLogs(name, &corev1.PodLogOptions{Container: "probe"}).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the probe's log: %w", err)
	}
	var results []api.Result
	sc := bufio.NewScanner(bytes.NewReader(logs))
	var other []string
	for sc.Scan() {
		var r api.Result
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Check != "" {
			results = append(results, r)
		} else if line := strings.TrimSpace(sc.Text()); line != "" {
			other = append(other, line)
		}
	}
	if p.Status.Phase == corev1.PodFailed && len(results) == 0 {
		return nil, fmt.Errorf("the probe failed: %s", strings.Join(other, "; "))
	}
	return results, nil
}

// static refuses a dynamically linked agent: the probe runs it in the
// executor image, which has no C library or loader (the release archives
// and `go tool task bin` build it with CGO_ENABLED=0).
func static(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked and cannot run in the Kaniko image: install it with CGO_ENABLED=0 go install github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian@latest, or from a release archive", path)
		}
	}
	return nil
}

func podSpec(s *api.Preflight, secret string) *corev1.Pod {
	mounts := []corev1.VolumeMount{{Name: "preflight", MountPath: dir}}
	volumes := []corev1.Volume{{Name: "preflight", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	probeMounts := append([]corev1.VolumeMount{}, mounts...)
	if secret != "" {
		// Where Skaffold mounts it in the Kaniko pods.
		volumes = append(volumes, corev1.Volume{Name: "push-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: secret,
			Items:      []corev1.KeyToPath{{Key: ".dockerconfigjson", Path: "config.json"}},
		}}})
		probeMounts = append(probeMounts, corev1.VolumeMount{Name: "push-secret", MountPath: "/kaniko/.docker"})
	}
	deadline := int64(300)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "cwlbuild-preflight-", Labels: map[string]string{"app.kubernetes.io/name": "cwlbuild-preflight"}},
		Spec: corev1.PodSpec{
			RestartPolicy:         corev1.RestartPolicyNever,
			ServiceAccountName:    s.ServiceAccount,
			ActiveDeadlineSeconds: &deadline,
			Volumes:               volumes,
			InitContainers: []corev1.Container{{
				Name: "receive", Image: s.InitImage, VolumeMounts: mounts,
				Command: []string{"sh", "-c", "until [ -f " + dir + "/.ready ]; do sleep 0.2; done"},
			}},
			Containers: []corev1.Container{{
				Name: "probe", Image: s.ExecutorImage, VolumeMounts: probeMounts,
				Command: []string{dir + "/agent", "probe", "--spec", dir + "/spec.json"},
				Env:     []corev1.EnvVar{{Name: "DOCKER_CONFIG", Value: "/kaniko/.docker/"}},
			}},
		},
	}
}

// payloadTar is this program, the spec, and last the file the init
// container waits for.
func payloadTar(w io.Writer, self string, s *api.Preflight) error {
	bin, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	spec, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"agent", 0o755, bin}, {"spec.json", 0o644, spec}, {".ready", 0o644, nil}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

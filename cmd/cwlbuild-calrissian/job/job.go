// Package job runs one CWL test as a Calrissian Job in a Kubernetes
// cluster, from outside it, through the API (client-go): the test's files
// are staged into a ReadWriteMany volume, Calrissian runs as a Job whose
// tool pods mount the same volume, and the results come back. Files move
// the way `kubectl cp` moves them, as tar streams over exec into a helper
// pod, with no shell line and no kubectl. The caller gives the files to
// stage as a tar stream and receives the results as one: writing them on
// the machine is its business.
//
// Calrissian must run in a pod: every step looks up its own pod
// (CALRISSIAN_POD_NAME) to learn which claims are mounted where, and mounts
// the same ones in each tool pod.
package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Labels on every object of a run: the Job and its pod, the tool pods
// (Calrissian's --pod-labels), the staging pod and a claim the run made.
// `kubectl get job,pod,pvc -l cwlbuild.eoap.dev/run=NAME` shows them all.
const (
	LabelRun  = "cwlbuild.eoap.dev/run"
	LabelRole = "cwlbuild.eoap.dev/role"
)

// Roles of a run's pods.
const (
	roleCalrissian = "calrissian"
	roleTool       = "tool"
	roleStage      = "stage"
)

// IO is where a run's streams come from and go.
type IO struct {
	// Stage is a tar stream of the files to put in the run directory,
	// names relative to it (only directories and regular files).
	Stage io.Reader
	// Results receives a tar stream of the Fetch paths, names relative
	// to the run directory, and the Log entry.
	Results io.Writer
	// Progress receives one line as each pod of the run starts and ends.
	Progress io.Writer
}

// Client talks to one cluster.
type Client struct {
	api    kubernetes.Interface
	config *rest.Config
	// Namespace is the kubeconfig context's, for runs that name none.
	Namespace string
}

// NewClient reads the kubeconfig as kubectl does ($KUBECONFIG, else
// ~/.kube/config; the current context), or the pod's service account when
// in a cluster.
func NewClient() (*Client, error) {
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{})
	config, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	api, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, err
	}
	return &Client{api: api, config: config, Namespace: ns}, nil
}

// API and Config are the client's connection, for the agent's other
// commands.
func (c *Client) API() kubernetes.Interface { return c.api }
func (c *Client) Config() *rest.Config      { return c.config }

// run is one Spec's progress, what cleanup must undo.
type run struct {
	c            *Client
	s            *api.Job
	ns           string
	claim        string
	createdClaim bool
	stagePod     string
	jobCreated   bool
	// calrissianPod is the Job's pod once seen.
	calrissianPod string
	progress      io.Writer
	io            IO
}

// Run runs the spec: stage, Job, progress, results copied back, cleanup.
// Its error names the cause: a missing service account, a claim that does
// not bind (with its events), an image that cannot be pulled, a tool's exit
// code and last log lines, Calrissian's exit code, a deleted pod.
func (c *Client) Run(ctx context.Context, s *api.Job, streams IO) (err error) {
	r := &run{c: c, s: s, ns: s.Namespace, claim: s.Claim, progress: streams.Progress, io: streams}
	if r.ns == "" {
		r.ns = c.Namespace
	}
	if r.progress == nil {
		r.progress = io.Discard
	}
	defer func() { err = errors.Join(err, r.cleanup(ctx, err)) }()
	if err := r.preflight(ctx); err != nil {
		return err
	}
	if err := r.makeClaim(ctx); err != nil {
		return err
	}
	if err := r.stage(ctx); err != nil {
		return err
	}
	if err := r.createJob(ctx); err != nil {
		return err
	}
	runErr := r.follow(ctx)
	if ctx.Err() != nil {
		return runErr
	}
	// The results come back also after a failure: Calrissian's own log and
	// the tools' logs say why.
	fetchErr := r.fetch(ctx)
	if runErr != nil {
		return runErr
	}
	return fetchErr
}

// preflight checks what the run names before anything is made, so a typo
// is one clear error, not a Job that never gets a pod.
func (r *run) preflight(ctx context.Context) error {
	if r.s.Image == "" {
		return errors.New("no Calrissian image: set [build.calrissian] image (or the test's execution.cluster.calrissian_image)")
	}
	if _, err := r.c.api.CoreV1().Namespaces().Get(ctx, r.ns, metav1.GetOptions{}); err != nil && !apierrors.IsForbidden(err) {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("namespace %q does not exist", r.ns)
		}
		return fmt.Errorf("namespace %q: %w", r.ns, err)
	}
	if sa := r.s.ServiceAccount; sa != "" {
		if _, err := r.c.api.CoreV1().ServiceAccounts(r.ns).Get(ctx, sa, metav1.GetOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("service account %q does not exist in namespace %q (execution.cluster.pod_serviceaccount)", sa, r.ns)
			}
			return fmt.Errorf("service account %q: %w", sa, err)
		}
	}
	if r.claim != "" {
		if _, err := r.c.api.CoreV1().PersistentVolumeClaims(r.ns).Get(ctx, r.claim, metav1.GetOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("claim %q does not exist in namespace %q ([build.calrissian] claim)", r.claim, r.ns)
			}
			return fmt.Errorf("claim %q: %w", r.claim, err)
		}
	}
	return nil
}

func (r *run) labels(role string) map[string]string {
	l := map[string]string{LabelRun: r.s.Name}
	if role != "" {
		l[LabelRole] = role
	}
	return l
}

// makeClaim creates the run's ReadWriteMany claim when none is given. It
// does not wait for it to bind: with a WaitForFirstConsumer class it binds
// only once a pod uses it (the staging pod's start waits for it).
func (r *run) makeClaim(ctx context.Context) error {
	if r.claim != "" {
		return nil
	}
	size, err := resource.ParseQuantity(r.s.VolumeSize)
	if err != nil {
		return fmt.Errorf("volume size %q: %w", r.s.VolumeSize, err)
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: r.s.Name, Labels: r.labels("")},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
	if r.s.StorageClass != "" {
		pvc.Spec.StorageClassName = &r.s.StorageClass
	}
	if _, err := r.c.api.CoreV1().PersistentVolumeClaims(r.ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating claim %s: %w", r.s.Name, err)
	}
	r.claim, r.createdClaim = r.s.Name, true
	fmt.Fprintf(r.progress, "    claim %s created (%s, class %s)\n", r.claim, r.s.VolumeSize, orDefault(r.s.StorageClass, "the cluster's default"))
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// volume is the run's claim as a pod volume, mounted at api.MountPath.
func (r *run) volume() (corev1.Volume, corev1.VolumeMount) {
	return corev1.Volume{
			Name:         "data",
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.claim}},
		},
		corev1.VolumeMount{Name: "data", MountPath: api.MountPath}
}

// createJob starts Calrissian: one pod, never retried (a second try would
// run every tool again over the first one's files).
func (r *run) createJob(ctx context.Context) error {
	vol, mount := r.volume()
	env := []corev1.EnvVar{{
		// Calrissian reads its own pod to mount the same volumes in tool pods.
		Name:      "CALRISSIAN_POD_NAME",
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
	}}
	if r.s.InitImage != "" {
		env = append(env, corev1.EnvVar{Name: "CALRISSIAN_INIT_IMAGE", Value: r.s.InitImage})
	}
	zero := int32(0)
	deadline := int64(time.Duration(r.s.Timeout) / time.Second)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: r.s.Name, Labels: r.labels("")},
		Spec: batchv1.JobSpec{
			BackoffLimit: &zero,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: r.labels(roleCalrissian)},
				Spec: corev1.PodSpec{
					ServiceAccountName: r.s.ServiceAccount,
					RestartPolicy:      corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name:         "calrissian",
						Image:        r.s.Image,
						Command:      []string{"calrissian"},
						Args:         r.s.Args,
						Env:          env,
						VolumeMounts: []corev1.VolumeMount{mount},
					}},
					Volumes: []corev1.Volume{vol},
				},
			},
		},
	}
	if deadline > 0 {
		job.Spec.ActiveDeadlineSeconds = &deadline
	}
	if _, err := r.c.api.BatchV1().Jobs(r.ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating Job %s: %w", r.s.Name, err)
	}
	r.jobCreated = true
	fmt.Fprintf(r.progress, "    job %s/%s created (image %s)\n", r.ns, r.s.Name, r.s.Image)
	return nil
}

// cleanup removes what the run made. After a success (unless Keep), a
// failure the test expects (ShouldFail), or when the run was interrupted:
// everything. After another failure: the staging
// pod and whatever still runs (so nothing waits forever on an image that
// cannot be pulled); the Job, its finished pods and the claim stay, and
// the commands that show them are printed.
func (r *run) cleanup(ctx context.Context, runErr error) error {
	// Deleting must happen also when ctx was cancelled (an interrupt).
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	now := int64(0)
	selector := LabelRun + "=" + r.s.Name
	keep := r.s.Keep || runErr != nil && ctx.Err() == nil && !r.s.ShouldFail
	if !keep && !r.createdClaim && r.stagePod != "" {
		// The run's files in a claim that outlives it.
		var stderr bytes.Buffer
		if err := r.exec(cctx, []string{"rm", "-rf", "--", api.RunDir(r.s.Name)}, nil, io.Discard, &stderr); err != nil {
			errs = append(errs, fmt.Errorf("removing %s from claim %s: %v: %s", api.RunDir(r.s.Name), r.claim, err, strings.TrimSpace(stderr.String())))
		}
	}
	if r.stagePod != "" {
		err := r.c.api.CoreV1().Pods(r.ns).Delete(cctx, r.stagePod, metav1.DeleteOptions{GracePeriodSeconds: &now})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting pod %s: %w", r.stagePod, err))
		}
	}
	if keep {
		if runErr != nil {
			errs = append(errs, r.stopRunning(cctx, selector))
		}
		if r.jobCreated || r.createdClaim {
			fmt.Fprintf(r.progress, "    kept for inspection: kubectl -n %s get job,pod,pvc -l %s; kubectl -n %s logs job/%s\n    remove with: kubectl -n %s delete job,pod,pvc -l %s\n",
				r.ns, selector, r.ns, r.s.Name, r.ns, selector)
		}
		return errors.Join(errs...)
	}
	background := metav1.DeletePropagationBackground
	if r.jobCreated {
		err := r.c.api.BatchV1().Jobs(r.ns).Delete(cctx, r.s.Name, metav1.DeleteOptions{PropagationPolicy: &background})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting Job %s: %w", r.s.Name, err))
		}
		// Tool pods are Calrissian's, not the Job's: the garbage collector
		// does not know them.
		err = r.c.api.CoreV1().Pods(r.ns).DeleteCollection(cctx, metav1.DeleteOptions{GracePeriodSeconds: &now}, metav1.ListOptions{LabelSelector: selector})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting the pods of %s: %w", r.s.Name, err))
		}
	}
	if r.createdClaim {
		err := r.c.api.CoreV1().PersistentVolumeClaims(r.ns).Delete(cctx, r.claim, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting claim %s: %w", r.claim, err))
		}
	}
	if err := r.waitGone(cctx, selector); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopRunning deletes the run's pods that have not finished: after a
// failure nothing of it may run on.
func (r *run) stopRunning(ctx context.Context, selector string) error {
	pods, err := r.c.api.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return fmt.Errorf("listing the pods of %s: %w", r.s.Name, err)
	}
	var errs []error
	var stopped []string
	now := int64(0)
	for _, p := range pods.Items {
		// A pod whose container ended keeps its log (its phase may not
		// say so yet).
		if _, term := mainState(&p); term != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		err := r.c.api.CoreV1().Pods(r.ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &now})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting pod %s: %w", p.Name, err))
		}
		stopped = append(stopped, p.Name)
	}
	// Stopped means gone, not terminating.
	for _, name := range stopped {
		for {
			_, err := r.c.api.CoreV1().Pods(r.ns).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			select {
			case <-ctx.Done():
				return errors.Join(append(errs, fmt.Errorf("pod %s still there: %w", name, ctx.Err()))...)
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
	return errors.Join(errs...)
}

// waitGone waits until no pod of the run is left, so that "nothing left"
// holds when Run returns.
func (r *run) waitGone(ctx context.Context, selector string) error {
	for {
		pods, err := r.c.api.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil && len(pods.Items) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			names := []string{}
			if pods != nil {
				for _, p := range pods.Items {
					names = append(names, p.Name)
				}
			}
			sort.Strings(names)
			return fmt.Errorf("pods of %s still there after cleanup: %s", r.s.Name, strings.Join(names, ", "))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

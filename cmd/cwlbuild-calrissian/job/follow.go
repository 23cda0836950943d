package job

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// cannotStart are the waiting reasons that never resolve by waiting: an
// image that cannot be pulled fails the run within seconds, not after the
// start timeout.
var cannotStart = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"CreateContainerConfigError": true, "CreateContainerError": true,
}

// CannotStart reports whether a container waiting for reason never starts
// (its image does not pull, its config is wrong): waiting does not cure it.
func CannotStart(reason string) bool { return cannotStart[reason] }

// trouble says why a pod cannot start, or "" while it may yet.
func trouble(p *corev1.Pod) string {
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, st := range statuses {
		if w := st.State.Waiting; w != nil && cannotStart[w.Reason] {
			return fmt.Sprintf("%s: image %s: %s", w.Reason, st.Image, w.Message)
		}
	}
	return ""
}

// mainState is the state of the pod's only container.
func mainState(p *corev1.Pod) (running bool, term *corev1.ContainerStateTerminated) {
	for _, st := range p.Status.ContainerStatuses {
		if st.State.Terminated != nil {
			return false, st.State.Terminated
		}
		if st.State.Running != nil {
			return true, nil
		}
	}
	return false, nil
}

func podImage(p *corev1.Pod) string {
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Image
	}
	return ""
}

// waitRunning waits until the pod runs: an image that cannot be pulled
// fails at once; a pod still pending after StartTimeout fails with why
// (its conditions, and the claim's events when it has not bound).
func (r *run) waitRunning(ctx context.Context, name string) error {
	start := time.Now()
	for {
		p, err := r.c.api.CoreV1().Pods(r.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("pod %s: %w", name, err)
		}
		if t := trouble(p); t != "" {
			return fmt.Errorf("pod %s cannot start: %s", name, t)
		}
		switch p.Status.Phase {
		case corev1.PodRunning:
			return nil
		case corev1.PodSucceeded, corev1.PodFailed:
			return fmt.Errorf("pod %s ended before it was used (%s)", name, p.Status.Phase)
		}
		if time.Since(start) > time.Duration(r.s.StartTimeout) {
			return fmt.Errorf("pod %s did not start in %s: %s", name, time.Duration(r.s.StartTimeout), r.pendingWhy(ctx, p))
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// pendingWhy explains a pending pod: its scheduling condition, and the
// claim's state and events when the claim has not bound.
func (r *run) pendingWhy(ctx context.Context, p *corev1.Pod) string {
	var why []string
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			why = append(why, c.Message)
		}
	}
	if claim, err := r.c.api.CoreV1().PersistentVolumeClaims(r.ns).Get(ctx, r.claim, metav1.GetOptions{}); err == nil && claim.Status.Phase != corev1.ClaimBound {
		why = append(why, fmt.Sprintf("claim %s is %s", r.claim, claim.Status.Phase))
		why = append(why, r.events(ctx, "PersistentVolumeClaim", r.claim)...)
	}
	why = append(why, r.events(ctx, "Pod", p.Name)...)
	if len(why) == 0 {
		return "no reason given"
	}
	return strings.Join(why, "; ")
}

func (r *run) events(ctx context.Context, kind, name string) []string {
	return r.c.Events(ctx, r.ns, kind, name)
}

// Events lists the messages of an object's events in a namespace, oldest
// first, each "kind Reason: message"; none when they cannot be read.
func (c *Client) Events(ctx context.Context, ns, kind, name string) []string {
	sel := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}.AsSelector().String()
	list, err := c.api.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].LastTimestamp.Before(&list.Items[j].LastTimestamp) })
	var out []string
	for _, e := range list.Items {
		out = append(out, fmt.Sprintf("%s %s: %s", strings.ToLower(kind), e.Reason, e.Message))
	}
	return out
}

// podSeen is what follow has said about a pod.
type podSeen struct {
	first             time.Time
	started, finished bool
}

// follow watches the run's pods (Calrissian's and its tools') until
// Calrissian's ends, printing a line as each starts and ends. It fails at
// once when a pod cannot pull its image, when Calrissian's pod is deleted
// before it ends, when a pod stays pending past StartTimeout, or when the
// Job fails (its deadline).
func (r *run) follow(ctx context.Context) error {
	selector := LabelRun + "=" + r.s.Name + "," + LabelRole + "!=" + roleStage
	pods := r.c.api.CoreV1().Pods(r.ns)
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return fmt.Errorf("listing the pods of %s: %w", r.s.Name, err)
	}
	lw := &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		o.LabelSelector = selector
		return pods.Watch(ctx, o)
	}}
	// A retry watcher resumes after a dropped connection (an apiserver
	// restart) from the last version seen.
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, lw)
	if err != nil {
		return err
	}
	defer w.Stop()
	seen := map[string]*podSeen{}
	start := time.Now()
	var toolFailure string
	for i := range list.Items {
		if done, err := r.observe(ctx, &list.Items[i], false, seen, &toolFailure); done {
			return err
		}
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("watching the pods of %s stopped", r.s.Name)
			}
			if ev.Type == watch.Error {
				continue
			}
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			if done, err := r.observe(ctx, p, ev.Type == watch.Deleted, seen, &toolFailure); done {
				return err
			}
		case <-tick.C:
			if err := r.checkJob(ctx, start, seen, toolFailure); err != nil {
				return err
			}
		}
	}
}

// observe takes one state of a pod; done is true when the run is over
// (err nil when Calrissian succeeded).
func (r *run) observe(ctx context.Context, p *corev1.Pod, deleted bool, seen map[string]*podSeen, toolFailure *string) (done bool, err error) {
	role := p.Labels[LabelRole]
	if role == "" {
		role = roleTool
	}
	s := seen[p.Name]
	if s == nil {
		s = &podSeen{first: time.Now()}
		seen[p.Name] = s
	}
	if role == roleCalrissian {
		r.calrissianPod = p.Name
	}
	kind := "tool pod"
	if role == roleCalrissian {
		kind = "calrissian"
	}
	if t := trouble(p); t != "" {
		return true, fmt.Errorf("%s %s cannot start: %s", kind, p.Name, t)
	}
	if role == roleCalrissian && !s.finished && (deleted || p.DeletionTimestamp != nil) {
		// Calrissian, stopped by the deletion, deletes its tool pods and
		// exits: the deletion is the cause, not its exit code.
		return true, fmt.Errorf("Calrissian's pod %s was deleted before it finished", p.Name)
	}
	running, term := mainState(p)
	if (running || term != nil) && !s.started {
		s.started = true
		fmt.Fprintf(r.progress, "    %s %s: started (image %s)\n", kind, p.Name, podImage(p))
	}
	if term != nil && !s.finished {
		s.finished = true
		took := term.FinishedAt.Sub(term.StartedAt.Time).Round(100 * time.Millisecond)
		fmt.Fprintf(r.progress, "    %s %s: exit %d after %s\n", kind, p.Name, term.ExitCode, took)
		if role == roleCalrissian {
			if term.ExitCode == 0 {
				return true, nil
			}
			msg := fmt.Sprintf("Calrissian exited %d (%s)", term.ExitCode, term.Reason)
			if *toolFailure != "" {
				msg += "; " + *toolFailure
			}
			return true, fmt.Errorf("%s", msg)
		}
		if term.ExitCode != 0 && *toolFailure == "" {
			*toolFailure = fmt.Sprintf("tool pod %s (image %s) exited %d", p.Name, podImage(p), term.ExitCode)
			if tail := r.logTail(ctx, p.Name, 10); tail != "" {
				*toolFailure += ", its last lines:\n" + tail
			}
		}
	}
	if !deleted && !s.started && p.Status.Phase == corev1.PodPending && time.Since(s.first) > time.Duration(r.s.StartTimeout) {
		return true, fmt.Errorf("%s %s did not start in %s: %s", kind, p.Name, time.Duration(r.s.StartTimeout), r.pendingWhy(ctx, p))
	}
	return false, nil
}

// checkJob notices what no pod event shows: the Job failed (its deadline,
// its pod gone), or never made a pod (its events say why), or a pod still
// pending.
func (r *run) checkJob(ctx context.Context, start time.Time, seen map[string]*podSeen, toolFailure string) error {
	job, err := r.c.api.BatchV1().Jobs(r.ns).Get(ctx, r.s.Name, metav1.GetOptions{})
	if err != nil {
		return nil // transient (an apiserver restart); the pods' watch goes on
	}
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			msg := fmt.Sprintf("Job %s failed: %s: %s", r.s.Name, c.Reason, c.Message)
			if c.Reason == "DeadlineExceeded" {
				msg = fmt.Sprintf("Job %s ran past its timeout of %s", r.s.Name, time.Duration(r.s.Timeout))
			}
			if toolFailure != "" {
				msg += "; " + toolFailure
			}
			return fmt.Errorf("%s", msg)
		}
	}
	if r.calrissianPod == "" && time.Since(start) > time.Duration(r.s.StartTimeout) {
		return fmt.Errorf("Job %s made no pod in %s: %s", r.s.Name, time.Duration(r.s.StartTimeout), strings.Join(r.events(ctx, "Job", r.s.Name), "; "))
	}
	pods, err := r.c.api.CoreV1().Pods(r.ns).List(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + r.s.Name + "," + LabelRole + "!=" + roleStage})
	if err != nil {
		return nil
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if s := seen[p.Name]; s != nil && !s.started && p.Status.Phase == corev1.PodPending && time.Since(s.first) > time.Duration(r.s.StartTimeout) {
			return fmt.Errorf("pod %s did not start in %s: %s", p.Name, time.Duration(r.s.StartTimeout), r.pendingWhy(ctx, p))
		}
	}
	return nil
}

// logTail is the last n lines of a pod's log, indented.
func (r *run) logTail(ctx context.Context, pod string, n int) string {
	lines := int64(n)
	data, err := r.c.api.CoreV1().Pods(r.ns).GetLogs(pod, &corev1.PodLogOptions{TailLines: &lines}).DoRaw(ctx)
	if err != nil {
		return ""
	}
	text := strings.TrimRight(string(data), "\n")
	if text == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(text, "\n", "\n    ")
}

package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CreatePod creates pod in namespace ns and returns its name and a
// function that deletes it at once (grace period 0), also once ctx has
// ended: the pre-flight's probe and the Kaniko pods of a multi-platform
// build are gone when their command returns.
func (c *Client) CreatePod(ctx context.Context, ns string, pod *corev1.Pod) (string, func(), error) {
	pods := c.api.CoreV1().Pods(ns)
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("creating the pod: %w", err)
	}
	name := created.Name
	return name, func() {
		dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		zero := int64(0)
		_ = pods.Delete(dctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}, nil
}

// StartError is a container of a pod that cannot start: its image does
// not pull (CannotStart's reasons).
type StartError struct{ Container, Why string }

func (e *StartError) Error() string { return "container " + e.Container + ": " + e.Why }

// WaitPod polls the pod until done says so. A container that cannot start
// fails at once with a *StartError naming it; a failed pod done does not
// take fails with the pod's message; a deadline of ctx fails with the
// pod's phase and last events (a pod no node can run says so there).
func (c *Client) WaitPod(ctx context.Context, ns, name string, done func(*corev1.Pod) bool) (*corev1.Pod, error) {
	var last *corev1.Pod
	for {
		p, err := c.api.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = p
			if done(p) {
				return p, nil
			}
			for _, st := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
				if w := st.State.Waiting; w != nil && CannotStart(w.Reason) {
					return p, &StartError{Container: st.Name, Why: w.Reason + ": " + w.Message}
				}
			}
			if p.Status.Phase == corev1.PodFailed {
				return p, fmt.Errorf("the pod failed: %s", p.Status.Message)
			}
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return last, ctx.Err()
			}
			if last == nil {
				return nil, errors.New("timed out: the pod was never read")
			}
			// With a fresh context: this one has ended.
			ectx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			why := "no events"
			if ev := c.Events(ectx, ns, "Pod", name); len(ev) > 0 {
				why = strings.Join(ev, "; ")
			}
			return last, fmt.Errorf("timed out, pod %s in phase %s: %s", name, last.Status.Phase, why)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// LastLine is the last line of a log or a program's output, blanks
// trimmed: what the line reporting it quotes.
func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

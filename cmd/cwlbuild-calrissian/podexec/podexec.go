// Package podexec runs a command in a pod with its standard input and
// output attached, through the API server, as `kubectl exec -i` does: it
// is how `cwlbuild plugin` reaches a cluster's buildkitd, by running
// `buildctl dial-stdio` next to it. The daemon listens on a unix socket of
// its pod and on no port, so neither the cluster's network nor the RUN
// steps of the builds it runs (which share the pod's network) can send it
// anything; only a client allowed pods/exec in its namespace can.
package podexec

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// Target is the pod (and container, "" for its only one) to run in.
type Target struct {
	Namespace, Pod, Container string
}

// Run waits (up to wait) for t's pod to run, then runs command in it with
// stdin, stdout and stderr attached, until the command ends, its streams
// close or ctx ends.
func Run(ctx context.Context, config *rest.Config, client kubernetes.Interface, t Target, command []string, wait time.Duration, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := running(ctx, client, t, wait); err != nil {
		return err
	}
	req := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(t.Namespace).Name(t.Pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: t.Container, Command: command, Stdin: true, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	exec, err := remotecommand.NewSPDYExecutor(config, "POST", req.URL())
	if err != nil {
		return err
	}
	if err := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr}); err != nil {
		return fmt.Errorf("running %s in pod %s/%s: %w", command[0], t.Namespace, t.Pod, err)
	}
	return nil
}

// running waits for the pod to be Running, and says what it is instead
// when it is not within wait.
func running(ctx context.Context, client kubernetes.Interface, t Target, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	state := "not found"
	for {
		p, err := client.CoreV1().Pods(t.Namespace).Get(ctx, t.Pod, metav1.GetOptions{})
		switch {
		case err == nil && p.Status.Phase == corev1.PodRunning:
			return nil
		case err == nil:
			state = "in phase " + string(p.Status.Phase)
			for _, c := range p.Status.ContainerStatuses {
				if w := c.State.Waiting; w != nil && w.Reason != "" {
					state += " (" + c.Name + ": " + w.Reason + ")"
				}
			}
		case ctx.Err() == nil:
			state = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pod %s/%s is not running after %s: %s (is buildkitd's StatefulSet applied in that namespace? see docs/cluster.md)", t.Namespace, t.Pod, wait, state)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Package forward reaches a port inside a pod through the API server, as
// `kubectl port-forward` does: the buildkitd of a cluster listens on the
// pod's loopback only, so nothing but a client allowed pods/portforward in
// its namespace (the build's user) can send it a build.
package forward

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
)

// Target is the pod port to reach.
type Target struct {
	Namespace, Pod string
	Port           int
}

// Pod waits (up to wait) for t's pod to run, listens on a free port of
// 127.0.0.1 forwarding to t.Port in the pod, writes api.Forwarding and the
// local address as one line to ready, and forwards until ctx ends.
func Pod(ctx context.Context, config *rest.Config, client kubernetes.Interface, t Target, wait time.Duration, ready, errOut io.Writer) error {
	if err := running(ctx, client, t, wait); err != nil {
		return err
	}
	transport, upgrader, err := spdy.RoundTripperFor(config)
	if err != nil {
		return err
	}
	url := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(t.Namespace).Name(t.Pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stop, readyCh := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", t.Port)}, stop, readyCh, io.Discard, errOut)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- fw.ForwardPorts() }()
	select {
	case <-readyCh:
	case err := <-errc:
		return fmt.Errorf("forwarding to pod %s/%s port %d: %w", t.Namespace, t.Pod, t.Port, err)
	case <-ctx.Done():
		close(stop)
		return context.Cause(ctx)
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) != 1 {
		close(stop)
		return fmt.Errorf("forwarding to pod %s/%s: no local port: %v", t.Namespace, t.Pod, err)
	}
	fmt.Fprintf(ready, "%s127.0.0.1:%d\n", api.Forwarding, ports[0].Local)
	select {
	case <-ctx.Done():
		close(stop)
		<-errc
		return nil
	case err := <-errc:
		if err == nil {
			err = fmt.Errorf("the connection to the API server ended")
		}
		return fmt.Errorf("forwarding to pod %s/%s port %d: %w", t.Namespace, t.Pod, t.Port, err)
	}
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

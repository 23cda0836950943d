package job

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
)

// stage starts the run's helper pod (Calrissian's image: it has tar, and
// the Job pulls it anyway), waits for it, and unpacks the staged files into
// the run directory through exec.
func (r *run) stage(ctx context.Context) error {
	vol, mount := r.volume()
	no := false
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: r.s.Name + "-stage", Labels: r.labels(roleStage)},
		Spec: corev1.PodSpec{
			// The run's account: its pull secrets pull Calrissian's image.
			ServiceAccountName:           r.s.ServiceAccount,
			AutomountServiceAccountToken: &no,
			RestartPolicy:                corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:         "stage",
				Image:        r.s.Image,
				Command:      []string{"sleep", "infinity"},
				VolumeMounts: []corev1.VolumeMount{mount},
			}},
			Volumes: []corev1.Volume{vol},
		},
	}
	if _, err := r.c.api.CoreV1().Pods(r.ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the staging pod: %w", err)
	}
	r.stagePod = pod.Name
	if err := r.waitRunning(ctx, pod.Name); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	counted := &counter{}
	go func() {
		tw := tar.NewWriter(pw)
		err := rename(r.io.Stage, tw, r.s.Name, counted)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	var stderr bytes.Buffer
	err := r.exec(ctx, []string{"tar", "-x", "-f", "-", "-C", api.MountPath}, pr, io.Discard, &stderr)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return fmt.Errorf("staging the inputs: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	fmt.Fprintf(r.progress, "    staged %d files (%d bytes) into %s\n", counted.files, counted.bytes, api.RunDir(r.s.Name))
	return nil
}

// counter counts the regular files and bytes a stream carried.
type counter struct{ files, bytes, skipped int64 }

// rename copies the entries of a tar stream into tw (left open), each
// name put below prefix. It is the one check of what enters the volume and
// what comes back: names stay below the prefix (no absolute name, no
// ".."), and only directories and regular files pass; links, devices and
// the rest are dropped (counted in skipped).
func rename(in io.Reader, tw *tar.Writer, prefix string, n *counter) error {
	tr := tar.NewReader(in)
	if prefix != "" {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix + "/", Mode: 0o777, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			return fmt.Errorf("%q leaves the run directory", h.Name)
		}
		if prefix != "" {
			name = prefix + "/" + name
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o777, ModTime: h.ModTime, Format: tar.FormatPAX})
		case tar.TypeReg:
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: h.Size, Mode: h.Mode&0o777 | 0o444, ModTime: h.ModTime, Format: tar.FormatPAX})
			if err == nil {
				_, err = io.Copy(tw, tr)
				n.files++
				n.bytes += h.Size
			}
		default:
			n.skipped++
		}
		if err != nil {
			return err
		}
	}
}

// fetch copies the run's results back: a tar stream of the Fetch paths
// from the staging pod, passed through rename, then Calrissian's console
// as the Log entry.
func (r *run) fetch(ctx context.Context) error {
	if r.stagePod == "" || r.io.Results == nil {
		return nil
	}
	// "./" before each: a path from project.toml is never read as an
	// option of tar. A missing one is skipped (--ignore-failed-read).
	argv := []string{"tar", "-c", "-f", "-", "--ignore-failed-read", "-C", api.RunDir(r.s.Name)}
	for _, f := range r.s.Fetch {
		argv = append(argv, "./"+path.Clean(f))
	}
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		err := r.exec(ctx, argv, nil, pw, &stderr)
		pw.CloseWithError(err)
		done <- err
	}()
	counted := &counter{}
	tw := tar.NewWriter(r.io.Results)
	copyErr := rename(pr, tw, "", counted)
	// tar pads its stream past the end marker: read it all, so the
	// stream's copy does not fail on a closed pipe.
	io.Copy(io.Discard, pr)
	pr.CloseWithError(io.ErrClosedPipe)
	execErr := <-done
	if copyErr == nil && r.s.Log != "" {
		copyErr = r.addLog(ctx, tw)
	}
	if copyErr == nil {
		copyErr = tw.Close()
	}
	if copyErr != nil {
		return fmt.Errorf("copying the results back: %w", copyErr)
	}
	if execErr != nil {
		return fmt.Errorf("copying the results back: %v: %s", execErr, strings.TrimSpace(stderr.String()))
	}
	msg := ""
	if counted.skipped > 0 {
		msg = fmt.Sprintf(", %d links and special files left out", counted.skipped)
	}
	fmt.Fprintf(r.progress, "    copied %d files (%d bytes) back%s\n", counted.files, counted.bytes, msg)
	return nil
}

// addLog appends Calrissian's console, its container's log, as the entry
// r.s.Log.
func (r *run) addLog(ctx context.Context, tw *tar.Writer) error {
	if r.calrissianPod == "" {
		return nil
	}
	data, err := r.c.api.CoreV1().Pods(r.ns).GetLogs(r.calrissianPod, &corev1.PodLogOptions{Container: "calrissian"}).DoRaw(ctx)
	if err != nil {
		data = []byte(fmt.Sprintf("(the log of pod %s could not be read: %v)\n", r.calrissianPod, err))
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: r.s.Log, Size: int64(len(data)), Mode: 0o644, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}

// exec runs argv in the staging pod.
func (r *run) exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return r.c.Exec(ctx, r.ns, r.stagePod, "stage", argv, stdin, stdout, stderr)
}

// Exec runs argv in a container of a pod (SPDY, as kubectl exec): stdin
// (nil for none) streamed in, its output to stdout and stderr.
func (c *Client) Exec(ctx context.Context, ns, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	req := c.api.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container, Command: argv,
			Stdin: stdin != nil, Stdout: true, Stderr: true,
		}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(c.config, "POST", req.URL())
	if err != nil {
		return err
	}
	return ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

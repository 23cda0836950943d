// cwlbuild-calrissian runs one CWL test as a Calrissian Job in a Kubernetes
// cluster, through the API: `cwlbuild test --engine cluster` calls it when
// it runs outside the cluster. It reads the run's spec (JSON) from a file,
// the files to stage as a tar stream on stdin, writes the results as a tar
// stream on stdout, one progress line per pod on stderr, and exits 1 with
// the cause on stderr when the test fails.
//
//	cwlbuild-calrissian run --spec SPEC.json < stage.tar > results.tar
//	cwlbuild-calrissian account [--namespace NS] [--service-account SA]
//	cwlbuild-calrissian preflight --spec SPEC.json
//	cwlbuild-calrissian probe --spec SPEC.json      (in the pre-flight pod)
//	cwlbuild-calrissian exec --namespace NS --pod POD [--container C] -- COMMAND...
//	cwlbuild-calrissian kaniko --spec SPEC.json < context.tar > results.json
//
// account prints (JSON) a service account's imagePullSecrets and the
// registries each has a login for: what `cwlbuild check` compares with the
// registries of the pinned images. preflight is `cwlbuild check --cluster`:
// it checks what a cluster build needs, from a pod in the build namespace
// (package preflight), one line per check on stdout, and exits 3 when one
// fails (1 when it could not check). exec is how `cwlbuild plugin`
// reaches a cluster's buildkitd: `buildctl dial-stdio` run in its pod
// through the API server (package podexec), its standard input and output
// this program's, the connection to the daemon's unix socket. kaniko
// builds one image for several platforms in Kaniko pods, one per platform
// on a node of its architecture (package kanikopod), and writes each
// pushed digest as a JSON line: what `cwlbuild plugin --backend kaniko
// --cluster` assembles into an index.
//
// The cluster is the kubeconfig's ($KUBECONFIG, else ~/.kube/config, its
// current context), or the pod's own when run inside one.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/job"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/kanikopod"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/podexec"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/preflight"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: cwlbuild-calrissian run --spec SPEC.json < stage.tar > results.tar
       cwlbuild-calrissian account [--namespace NS] [--service-account SA]
       cwlbuild-calrissian preflight --spec SPEC.json
       cwlbuild-calrissian exec --namespace NS --pod POD [--container C] -- COMMAND...
       cwlbuild-calrissian kaniko --spec SPEC.json < context.tar > results.json
       cwlbuild-calrissian --version

Runs one CWL test as a Calrissian Job (cwlbuild test --engine cluster calls it).
`

// release is the version a release build names (go tool task dist sets it
// with -ldflags -X).
var release string

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "version") {
		v := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		if release != "" {
			v = release
		}
		fmt.Fprintln(stdout, "cwlbuild-calrissian", v)
		return 0
	}
	if len(args) > 0 && args[0] == "account" {
		return account(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "exec" {
		return execCmd(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "kaniko" {
		return kanikoCmd(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "preflight" || args[0] == "probe") {
		return preflightCmd(args[0], args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specFile := fs.String("spec", "", "the run's spec (JSON)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *specFile == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err := runSpec(*specFile, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	return 0
}

func runSpec(file string, stdin io.Reader, stdout, stderr io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var spec api.Job
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if spec.Name == "" {
		return errors.New(file + ": no name")
	}
	client, err := job.NewClient()
	if err != nil {
		return err
	}
	// An interrupt cancels the run; Run then deletes what it made.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return client.Run(ctx, &spec, job.IO{Stage: stdin, Results: stdout, Progress: stderr})
}

// account prints a service account's pull secrets as JSON.
func account(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("account", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("namespace", "", "the namespace (default: the kubeconfig's)")
	sa := fs.String("service-account", "", "the service account (default: default)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	client, err := job.NewClient()
	if err == nil {
		var a *api.Account
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if a, err = client.Account(ctx, *ns, *sa); err == nil {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(a)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	return 0
}

// preflightCmd runs the pre-flight (outside the cluster) or its probe (in
// the pod), from a spec file.
func preflightCmd(cmd string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	specFile := fs.String("spec", "", "what to check (JSON)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *specFile == "" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	data, err := os.ReadFile(*specFile)
	if err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	var spec api.Preflight
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %s: %v\n", *specFile, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd == "probe" {
		preflight.Probe(ctx, &spec, stdout)
		return 0
	}
	client, err := job.NewClient()
	if err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	ok, err := preflight.Run(ctx, client, &spec, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	if !ok {
		return api.ExitFailed
	}
	return 0
}

// execCmd runs a command in a pod with this program's standard input and
// output attached, until it ends or a signal comes.
func execCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("namespace", "", "the pod's namespace (default: the kubeconfig's)")
	pod := fs.String("pod", "", "the pod")
	container := fs.String("container", "", "the container (default: the pod's only one)")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the pod to run")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 || *pod == "" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	client, err := job.NewClient()
	if err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	if *ns == "" {
		*ns = client.Namespace
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := podexec.Target{Namespace: *ns, Pod: *pod, Container: *container}
	if err := podexec.Run(ctx, client.Config(), client.API(), t, fs.Args(), *wait, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	return 0
}

// kanikoCmd builds the spec's platforms in Kaniko pods from the context
// tar on stdin (kept in a temporary file: each pod receives it) and
// writes one api.KanikoResult per platform on stdout.
func kanikoCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kaniko", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specFile := fs.String("spec", "", "the build (JSON)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *specFile == "" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	err := func() error {
		data, err := os.ReadFile(*specFile)
		if err != nil {
			return err
		}
		var spec api.KanikoBuild
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			return fmt.Errorf("%s: %w", *specFile, err)
		}
		tmp, err := os.CreateTemp("", "cwlbuild-kaniko-context-*.tar")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		if _, err := io.Copy(tmp, stdin); err != nil {
			tmp.Close()
			return fmt.Errorf("reading the context: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		client, err := job.NewClient()
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		results, err := kanikopod.Build(ctx, client, &spec, tmp.Name(), stderr)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		fmt.Fprintf(stderr, "cwlbuild-calrissian: %v\n", err)
		return 1
	}
	return 0
}

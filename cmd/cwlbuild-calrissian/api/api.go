// Package api is the contract between cwlbuild and its Kubernetes agent,
// cwlbuild-calrissian: the JSON each side writes and the other reads (a
// test Job's spec, the cluster pre-flight's spec and report lines, a
// service account's pull secrets), the exit code of a failed check and
// where a run's volume is mounted. It is defined here, once, with no
// dependency beyond the standard library: the main module holds a copy
// that go generate writes (internal/agentapi), and a test there fails when
// the copy differs from this file. Both sides test the same JSON files
// (testdata) for a round trip.
package api

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// MountPath is where the volume is mounted in every pod of a run: the
// staging pod, Calrissian's and (Calrissian mounts its own volumes again)
// each tool pod's. Each run has its own directory below it, RunDir.
const MountPath = "/calrissian"

// RunDir is the directory of the run NAME in the volume, as every pod of
// the run sees it.
func RunDir(name string) string { return MountPath + "/" + name }

// ExitFailed is the agent's exit code when a pre-flight check failed (its
// line says which); 1 is an error that kept it from checking.
const ExitFailed = 3

// Program is the agent's name, found on PATH.
const Program = "cwlbuild-calrissian"

// Find is the agent's path on PATH, or an error that says how to install
// it; what says what needs it (" (it runs the pre-flight pod)").
func Find(what string) (string, error) {
	prog, err := exec.LookPath(Program)
	if err != nil {
		return "", fmt.Errorf("%s is not installed (not on PATH)%s: go install github.com/eoap/cwlbuild/cmd/%s@latest", Program, what, Program)
	}
	return prog, nil
}

// Job is one test run as a Calrissian Job (`cwlbuild-calrissian run
// --spec FILE`).
type Job struct {
	// Name names the run: the Job, the claim when the run makes one, and
	// the run's directory in the volume. A Kubernetes name.
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Image is Calrissian's; InitImage is CALRISSIAN_INIT_IMAGE ("":
	// Calrissian's own default).
	Image     string `json:"image"`
	InitImage string `json:"initImage,omitempty"`
	// ServiceAccount runs Calrissian and its tool pods ("": the
	// namespace's default); its imagePullSecrets reach the tool pods.
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Claim is an existing ReadWriteMany claim; "" makes one of
	// StorageClass ("": the cluster's default class) and VolumeSize.
	Claim        string `json:"claim,omitempty"`
	StorageClass string `json:"storageClass,omitempty"`
	VolumeSize   string `json:"volumeSize,omitempty"`
	// StartTimeout bounds how long a pod may take to start; Timeout bounds
	// the Job.
	StartTimeout Duration `json:"startTimeout,omitempty"`
	Timeout      Duration `json:"timeout,omitempty"`
	// Args are Calrissian's arguments, paths under RunDir(Name).
	Args []string `json:"args"`
	// Fetch lists what is copied back after the Job, as slash paths
	// relative to the run directory (a missing one is skipped).
	Fetch []string `json:"fetch,omitempty"`
	// Log names the entry of the results stream that holds Calrissian's
	// console (its container's log); "" leaves it out.
	Log string `json:"log,omitempty"`
	// Keep leaves every object of the run in the cluster, also after a
	// success.
	Keep bool `json:"keep,omitempty"`
	// ShouldFail says the test expects the run to fail (cwltest's
	// should_fail): a failure is its expected end, after which the run's
	// objects are removed as after a success, not kept for inspection.
	ShouldFail bool `json:"shouldFail,omitempty"`
}

// Duration is a time.Duration written as "90s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as Go writes it ("1m30s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90s", "10m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Preflight is what a cluster pre-flight checks (`cwlbuild-calrissian
// preflight --spec FILE`).
type Preflight struct {
	// Namespace and ServiceAccount run the pod ("" for the kubeconfig's
	// namespace and the namespace's default account).
	Namespace      string `json:"namespace,omitempty"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Secret is the push secret (a kubernetes.io/dockerconfigjson secret),
	// mounted at /kaniko/.docker/config.json; "" for none.
	Secret        string `json:"secret,omitempty"`
	ExecutorImage string `json:"executorImage"`
	InitImage     string `json:"initImage"`
	// Insecure registries are reached over plain HTTP.
	Insecure []string `json:"insecure,omitempty"`
	// Bases are the tools' FROM images, each with the references Kaniko
	// tries, in order (registry map targets, then the image itself).
	Bases []Base `json:"bases,omitempty"`
	// Push are the repositories the build pushes to (one per tool) and
	// the Kaniko cache repository.
	Push []Push `json:"push,omitempty"`
	// Timeout bounds the whole check (Go duration; default 2m).
	Timeout string `json:"timeout,omitempty"`
	// Platforms are those the Kaniko pods build for (each tool's, once):
	// the cluster needs a node of each architecture, or Emulation.
	Platforms []string `json:"platforms,omitempty"`
	// Emulation is [build.cluster] emulation: a platform no node runs is
	// built on any node, its RUN steps under QEMU.
	Emulation bool `json:"emulation,omitempty"`
}

// Base is one FROM image and the references Kaniko tries for it.
type Base struct {
	// Tool names the tools whose Dockerfiles name it ("a, b").
	Tool  string   `json:"tool"`
	Image string   `json:"image"`
	Pull  []string `json:"pull"`
}

// Push is one repository a build writes to.
type Push struct {
	// Tool names the tool; "" for the cache repository.
	Tool       string `json:"tool,omitempty"`
	Repository string `json:"repository"`
}

// KanikoBuild is one image built for several platforms by Kaniko pods, one
// pod per platform (`cwlbuild-calrissian kaniko --spec FILE <
// context.tar`): the build context and the Dockerfile come as a tar stream
// on stdin (context/... and Dockerfile), each pod pushes its platform's
// image, and the agent writes one KanikoResult per platform (JSON lines)
// on stdout. cwlbuild assembles the index from them.
type KanikoBuild struct {
	// Namespace and ServiceAccount run the pods ("" for the kubeconfig's
	// namespace and the namespace's default account).
	Namespace      string `json:"namespace,omitempty"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Secret is the push secret (kubernetes.io/dockerconfigjson), mounted
	// at /kaniko/.docker/config.json; "" for none.
	Secret        string `json:"secret,omitempty"`
	ExecutorImage string `json:"executorImage"`
	// InitImage receives the context (it needs sh and tar).
	InitImage string `json:"initImage"`
	// Emulation builds a platform no node runs on any node, its RUN steps
	// under QEMU; without it such a platform fails before any pod starts.
	Emulation bool `json:"emulation,omitempty"`
	// Requests and Limits are each pod's resources ("cpu", "memory",
	// "ephemeral-storage" to Kubernetes quantities).
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
	// Timeout bounds each pod.
	Timeout Duration `json:"timeout,omitempty"`
	// Builds are the platforms, each with the executor's arguments; the
	// context is at ContextDir, the Dockerfile at DockerfilePath.
	Builds []KanikoPlatform `json:"builds"`
}

// ContextDir and DockerfilePath are where a Kaniko pod holds the build
// context and the Dockerfile.
const (
	ContextDir     = "/workspace/context"
	DockerfilePath = "/workspace/Dockerfile"
)

// KanikoPlatform is one pod of a KanikoBuild.
type KanikoPlatform struct {
	// Platform is the image's ("linux/arm64").
	Platform string `json:"platform"`
	// Args are the executor's, --digest-file /dev/termination-log
	// included: the pushed digest is the pod's termination message.
	Args []string `json:"args"`
}

// KanikoResult is one platform's pushed image.
type KanikoResult struct {
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	// Node is where it was built; Emulated says it ran under QEMU there.
	Node     string `json:"node"`
	Emulated bool   `json:"emulated,omitempty"`
}

// Result is one pre-flight check's outcome: one line of the report.
type Result struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// String is the report line: "ok" or "FAIL", the check, what was found.
func (r Result) String() string {
	status := "ok  "
	if !r.OK {
		status = "FAIL"
	}
	return status + "  " + r.Check + ": " + r.Detail
}

// ParseResult reads a report line back (String's): how cwlbuild reads the
// pre-flight's output; false for a line that is no check's.
func ParseResult(line string) (Result, bool) {
	var r Result
	switch {
	case strings.HasPrefix(line, "ok    "):
		r.OK = true
	case strings.HasPrefix(line, "FAIL  "):
	default:
		return Result{}, false
	}
	var ok bool
	r.Check, r.Detail, ok = strings.Cut(line[len("FAIL  "):], ": ")
	return r, ok && r.Check != ""
}

// Account is what a service account gives the pods that run as it to pull
// images with: its imagePullSecrets and the registries each holds a login
// for (`cwlbuild-calrissian account`; `cwlbuild check` compares them with
// the registries the pins name).
type Account struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Exists is false when the account does not exist.
	Exists  bool         `json:"exists"`
	Secrets []PullSecret `json:"secrets,omitempty"`
}

// PullSecret is one of an account's imagePullSecrets.
type PullSecret struct {
	Name string `json:"name"`
	// Registries are the hosts of its auths, sorted.
	Registries []string `json:"registries,omitempty"`
	// Unknown says why its registries could not be read (the secret is
	// missing, not readable by this user, or not a Docker config).
	Unknown string `json:"unknown,omitempty"`
}

package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// faultsCWL holds the tools of TestCalrissianJobFaults, each run by a
// workflow of its own: one that works, one that fails with its own exit
// code and message, one whose image does not exist, one that sleeps (its
// Calrissian pod is deleted under it). Calrissian names a tool pod after
// its step: each step is named after its tool.
const faultsCWL = `cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: ok
  requirements: {DockerRequirement: {dockerPull: "MIRROR/library/busybox:1.36"}}
  baseCommand: [sh, -c, "echo hello > out.txt"]
  inputs: []
  outputs: {out: {type: File, outputBinding: {glob: out.txt}}}
- class: CommandLineTool
  id: fail
  requirements: {DockerRequirement: {dockerPull: "MIRROR/library/busybox:1.36"}}
  baseCommand: [sh, -c, "echo the tool broke >&2; exit 3"]
  inputs: []
  outputs: []
- class: CommandLineTool
  id: nopull
  requirements: {DockerRequirement: {dockerPull: "MIRROR/cwlbuild/no-such-image:1"}}
  baseCommand: ["true"]
  inputs: []
  outputs: []
- class: CommandLineTool
  id: sleep
  requirements: {DockerRequirement: {dockerPull: "MIRROR/library/busybox:1.36"}}
  baseCommand: [sleep, "300"]
  inputs: []
  outputs: []
- {class: Workflow, id: wf-ok, inputs: [], outputs: {out: {type: File, outputSource: ok/out}}, steps: {ok: {run: "#ok", in: [], out: [out]}}}
- {class: Workflow, id: wf-fail, inputs: [], outputs: [], steps: {fail: {run: "#fail", in: [], out: []}}}
- {class: Workflow, id: wf-nopull, inputs: [], outputs: [], steps: {nopull: {run: "#nopull", in: [], out: []}}}
- {class: Workflow, id: wf-sleep, inputs: [], outputs: [], steps: {sleep: {run: "#sleep", in: [], out: []}}}
`

// TestCalrissianJobFaults runs tests as Calrissian Jobs in the cluster
// (cwlbuild test --engine cluster --cluster-mode job --keep-going) that
// each fail their own way, and one that passes: every failure is one clear
// error naming the test and the cause, within seconds for an image that
// cannot be pulled; the others still run; after a failure nothing of the
// run is left running and the commands that show it are printed; after
// the success nothing is left at all. A claim that never binds times out
// with the claim's events.
func TestCalrissianJobFaults(t *testing.T) {
	env := clusterEnv(t)
	image := env["CLUSTER_CALRISSIAN_IMAGE"]
	if image == "" {
		testenv.Optional(t, "the Calrissian image", "CWLBUILD_CALRISSIAN_SOURCE=calrissian-0.14.0-debian.tar.gz scripts/setup.sh && scripts/cluster.sh up")
	}
	// A namespace and volumes of this run's own: two runs of the suite on
	// one cluster never touch each other's Jobs.
	ns, kubectl := clusterNamespace(t, env, "cwlbuild-faults")
	state := os.Getenv("CWLBUILD_CLUSTER_DIR")
	if state == "" {
		state = "/var/lib/cwlbuild-cluster"
	}
	vol := filepath.Join(state, "volumes", ns)
	os.MkdirAll(vol, 0o755)
	t.Cleanup(func() {
		// (clusterNamespace deletes the namespace.)
		c := exec.Command("kubectl", "delete", "pv", ns, ns+"-fresh", "--ignore-not-found", "--wait=false")
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
		c.Run()
		os.RemoveAll(vol)
		os.RemoveAll(vol + "-fresh")
	})
	kubectl(`apiVersion: v1
kind: Namespace
metadata: {name: `+ns+`}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: calrissian-sa, namespace: `+ns+`}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: calrissian, namespace: `+ns+`}
rules:
- {apiGroups: [""], resources: [pods, pods/log], verbs: [create, get, list, watch, delete, patch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: calrissian, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: calrissian}
subjects: [{kind: ServiceAccount, name: calrissian-sa, namespace: `+ns+`}]
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: `+ns+`}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: cwlbuild-hostpath
  hostPath: {path: `+vol+`, type: Directory}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: faults-data, namespace: `+ns+`}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: cwlbuild-hostpath
  volumeName: `+ns+`
  resources: {requests: {storage: 1Gi}}
`, "apply", "-f", "-")

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "faults.cwl"), []byte(strings.ReplaceAll(faultsCWL, "MIRROR", env["CLUSTER_MIRROR"])), 0o644)
	build := `[project]
name = "faults"
version = "0.1.0"

[build]
engine = "cluster"

[build.cluster]
namespace = "` + ns + `"

[build.calrissian]
image = "` + image + `"
initImage = "` + env["CLUSTER_INIT_IMAGE"] + `"
serviceAccount = "calrissian-sa"
startTimeout = "20s"
timeout = "4m"
`
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(build+`claim = "faults-data"

[[workflows]]
path = "faults.cwl#wf-ok"

[[workflows.tests]]
name = "passes"

[[workflows.tests]]
name = "no-account"
[workflows.tests.execution.cluster]
pod_serviceaccount = "nobody"

[[workflows]]
path = "faults.cwl#wf-fail"

[[workflows.tests]]
name = "failing-tool"

[[workflows]]
path = "faults.cwl#wf-nopull"

[[workflows.tests]]
name = "missing-image"

[[workflows]]
path = "faults.cwl#wf-sleep"

[[workflows.tests]]
name = "deleted-pod"
`), 0o644)
	os.WriteFile(filepath.Join(dir, "unbound.toml"), []byte(build+`storageClass = "cwlbuild-no-such-class"

[[workflows]]
path = "faults.cwl#wf-ok"

[[workflows.tests]]
name = "unbound-claim"
`), 0o644)

	bin := buildAgent(t)
	cwlbuild := testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	cmdEnv := append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"], "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	// The sleeping tool's Calrissian pod is deleted once the tool runs.
	stop := make(chan struct{})
	deleted := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			c := exec.Command("kubectl", "-n", ns, "get", "pods", "-l", "cwlbuild.eoap.dev/role=tool", "-o", `jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name} {.metadata.labels.cwlbuild\.eoap\.dev/run}{"\n"}{end}`)
			c.Env = cmdEnv
			o, _ := c.Output()
			for _, line := range strings.Split(string(o), "\n") {
				pod, run, ok := strings.Cut(line, " ")
				if !ok || !strings.HasPrefix(pod, "sleep-") {
					continue
				}
				d := exec.Command("kubectl", "-n", ns, "delete", "pod", "-l", "cwlbuild.eoap.dev/run="+run+",cwlbuild.eoap.dev/role=calrissian", "--wait=false")
				d.Env = cmdEnv
				d.Run()
				deleted <- run
				return
			}
		}
	}()
	cmd := exec.Command(cwlbuild, "test", "--engine", "cluster", "--cluster-mode", "job", "--keep-going")
	cmd.Dir, cmd.Env = dir, cmdEnv
	out, err := cmd.CombinedOutput()
	close(stop)
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	t.Logf("%s", out)
	text := string(out)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ok +passes `),
		regexp.MustCompile(`no-account: FAILED after .*service account "nobody" does not exist in namespace "` + ns + `"`),
		regexp.MustCompile(`(?s)failing-tool: FAILED after .*Calrissian exited 1 .*tool pod fail-pod-\S+ \(image \S+busybox:1.36\) exited 3, its last lines:\s+the tool broke`),
		regexp.MustCompile(`missing-image: FAILED after .*tool pod nopull-pod-\S+ cannot start: (ImagePullBackOff|ErrImagePull): image \S+/cwlbuild/no-such-image:1`),
		regexp.MustCompile(`deleted-pod: FAILED after .*Calrissian's pod \S+ was deleted before it finished`),
		regexp.MustCompile(`4 of 5 tests failed`),
	} {
		if !want.MatchString(text) {
			t.Errorf("output does not match %s", want)
		}
	}
	select {
	case <-deleted:
	default:
		t.Error("the sleeping tool never ran, so its Calrissian pod was not deleted")
	}
	// Each failure that made a Job left it, with the command that shows it,
	// and nothing of it still runs.
	kept := regexp.MustCompile(`kept for inspection: kubectl -n `+ns+` get job,pod,pvc -l (cwlbuild\.eoap\.dev/run=\S+);`).FindAllStringSubmatch(text, -1)
	if len(kept) != 3 {
		t.Errorf("%d failed runs said what they kept, want 3 (failing-tool, missing-image, deleted-pod)", len(kept))
	}
	for _, k := range kept {
		if jobs := kubectl("", "-n", ns, "get", "jobs", "-l", k[1], "-o", "name"); strings.TrimSpace(jobs) == "" {
			t.Errorf("%s: the Job was not kept", k[1])
		}
		running := kubectl("", "-n", ns, "get", "pods", "-l", k[1], "--field-selector", "status.phase!=Succeeded,status.phase!=Failed", "-o", "name")
		if strings.TrimSpace(running) != "" {
			t.Errorf("%s: still running after the failure: %s", k[1], running)
		}
	}
	passed := regexp.MustCompile(`job ` + ns + `/(\S+) created`).FindStringSubmatch(text)
	if passed == nil {
		t.Fatal("no Job was created")
	}
	if left := kubectl("", "-n", ns, "get", "job,pod", "-l", "cwlbuild.eoap.dev/run="+passed[1], "-o", "name"); strings.TrimSpace(left) != "" {
		t.Errorf("the passing run left %s", left)
	}
	if data, err := os.ReadFile(filepath.Join(dir, ".cwlbuild", "tests", "workflows.0.0", "outputs", "out.txt")); err != nil || string(data) != "hello\n" {
		t.Errorf("the passing test's output: %q, %v", data, err)
	}
	entries, _ := os.ReadDir(vol)
	if len(entries) != 3 {
		t.Errorf("the shared claim holds %d run directories, want the 3 failed runs' only", len(entries))
	}

	// A claim that never binds: the start timeout, with the claim's
	// events; the claim is kept with the command that shows it.
	cmd = exec.Command(cwlbuild, "test", "-f", "unbound.toml", "--engine", "cluster", "--cluster-mode", "job")
	cmd.Dir, cmd.Env = dir, cmdEnv
	out, err = cmd.CombinedOutput()
	if code := exitCode(err); code != 1 || !regexp.MustCompile(`unbound-claim: FAILED after .*did not start in 20s: .*claim cwlbuild-\S+ is Pending.*cwlbuild-no-such-class`).Match(out) {
		t.Errorf("an unbound claim: exit %d:\n%s", code, out)
	}
	kubectl("", "-n", ns, "delete", "job,pod,pvc", "-l", "cwlbuild.eoap.dev/run", "--wait=true")

	// A claim made for the run, of a class with a volume available: the
	// run binds it, passes, and deletes it.
	fresh := vol + "-fresh"
	os.MkdirAll(fresh, 0o755)
	kubectl(`apiVersion: v1
kind: PersistentVolume
metadata: {name: `+ns+`-fresh}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: `+ns+`-fresh
  hostPath: {path: `+fresh+`, type: Directory}
`, "apply", "-f", "-")
	os.WriteFile(filepath.Join(dir, "created.toml"), []byte(build+`storageClass = "`+ns+`-fresh"
volumeSize = "100Mi"

[[workflows]]
path = "faults.cwl#wf-ok"

[[workflows.tests]]
name = "created-claim"
`), 0o644)
	cmd = exec.Command(cwlbuild, "test", "-f", "created.toml", "--engine", "cluster", "--cluster-mode", "job")
	cmd.Dir, cmd.Env = dir, cmdEnv
	out, err = cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`claim cwlbuild-workflows-0-0-\S+ created \(100Mi, class `+ns+`-fresh\)`).Match(out) {
		t.Errorf("a claim made for the run: %v\n%s", err, out)
	}
	if left := kubectl("", "-n", ns, "get", "job,pod,pvc", "-l", "cwlbuild.eoap.dev/run", "-o", "name"); strings.TrimSpace(left) != "" {
		t.Errorf("the run left %s", left)
	}
	if phase := kubectl("", "get", "pv", ns+"-fresh", "-o", "jsonpath={.status.phase}"); phase != "Released" {
		t.Errorf("the volume is %s, want Released (the claim the run made was deleted)", phase)
	}
}

// randomSuffix is five random lower-case letters and digits.
func randomSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 5)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// exitCode is a finished command's exit status (0 when err is nil).
func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

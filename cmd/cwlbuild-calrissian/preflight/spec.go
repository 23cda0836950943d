// Package preflight checks, before any cluster build starts, each thing a
// build needs from inside the cluster: `cwlbuild check --cluster`. The
// agent (Run) checks the kubeconfig user's RBAC, then starts one short pod
// in the build namespace as the build's service account, with the push
// secret mounted where Kaniko reads it: its init container is the build's
// init image and receives this program through pods/exec, as Skaffold's
// does the build context; its container is the Kaniko executor image and
// runs this program's probe (Probe), which resolves the base images, and
// pushes one small blob to each repository and the cache repository, then
// deletes it, with the pod's network and the secret's login.
package preflight

// ExitFailed is the agent's exit code when a check failed (its line says
// which); 1 is an error that kept it from checking.
const ExitFailed = 3

// Spec is what a pre-flight checks (JSON, written by cwlbuild).
type Spec struct {
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
}

// Base is one FROM image of a tool.
type Base struct {
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

// Result is one check's outcome: one line of the report.
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

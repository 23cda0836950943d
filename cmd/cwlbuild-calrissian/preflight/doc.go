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

#!/usr/bin/env bash
# The seed's four steps in the cluster, for real: starts the single-node
# cluster (scripts/cluster.sh), copies the embedded sample to $DEMO_DIR with
# engine = "cluster", and runs the documentation's cluster recipe (docs/cluster.md) there (the namespace,
# its service account, the push secret, Skaffold's Role, then `task build`:
# cwlbuild generate, Skaffold's cluster builder starting one Kaniko pod per
# tool, cwlpatch); shows the pinned references and the pods' events; runs
# the test recipe (docs/testing.md) (Calrissian's service account with the push secret
# as its pull secret, its Role, `cwlbuild test --engine cluster`: each test a
# Calrissian Job whose tool pods pull the pinned images with that login);
# then runs the pinned workflow with cwltool and compares the results.
# Nothing tracked in this repository changes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
demo=${DEMO_DIR:-/tmp/cwlbuild-demo-cluster}
ns=eoap-sample
cd "$repo"

scripts/cluster.sh up >/dev/null
eval "$(scripts/cluster.sh env | sed 's/^/export /')"
# cwlbuild, cwlpatch, Skaffold and go-task in .bin, first on PATH: the
# package's own Taskfile (cwlbuild init) calls them by name.
go tool task bin
export PATH=$repo/.bin:$repo/scripts/podman-docker:$PATH
[ -n "$CLUSTER_CALRISSIAN_IMAGE" ] || {
  echo "demo-cluster: no Calrissian image in the cluster's mirror: run scripts/setup.sh with CWLBUILD_CALRISSIAN_SOURCE set to Calrissian's source tarball, then scripts/cluster.sh up" >&2
  exit 1
}

echo "== the sample, built in the cluster: $demo"
rm -rf "$demo"
mkdir -p "$demo"
cp -r testdata/projects/sample/. "$demo/"
# The sample with engine = "cluster": images pushed to the cluster's
# registry (login required), the executor and init images and Docker Hub's
# base images taken from the mirror the pods can reach. The [project] and
# [build] tables are written here whole; the sample's tools and workflows
# (everything from its first [tools.] table on) are kept as they are.
{
  awk '/^\[project\]/ {p = 1} /^\[build/ {exit} p' testdata/projects/sample/project.toml
  cat <<TOML
[build]
engine = "cluster"

[build.cluster]
namespace = "eoap-sample"
serviceAccount = "kaniko-sa"
registry = "$CLUSTER_PUSH_REGISTRY/eoap-sample"
secret = "kaniko-secret"

[build.kaniko]
image = "$CLUSTER_KANIKO_IMAGE"
initImage = "$CLUSTER_INIT_IMAGE"
registryMap = { "index.docker.io" = "$CLUSTER_MIRROR" }

# The tests, as Calrissian Jobs. This cluster has no volume provisioner:
# the runs share one claim, bound to a hostPath volume (one node).
[build.calrissian]
image = "$CLUSTER_CALRISSIAN_IMAGE"
initImage = "$CLUSTER_INIT_IMAGE"
serviceAccount = "calrissian-sa"
claim = "calrissian-data"

TOML
  awk '/^\[tools\./ {p = 1} p' testdata/projects/sample/project.toml
} >"$demo/project.toml"
grep -q '^\[tools\.' "$demo/project.toml" && ! awk '/^\[tools\./ {t = 1} t && /^\[build/ {bad = 1} END {exit !bad}' "$demo/project.toml" ||
  { echo "demo-cluster: the sample's project.toml no longer has [build] before its [tools.] tables" >&2; exit 1; }
cwlbuild check -f "$demo/project.toml" >/dev/null

# Skaffold reads the pushed digests, and cwltool's podman pulls the images,
# with the same login.
export DOCKER_CONFIG=$demo/.docker REGISTRY_AUTH_FILE=$demo/.docker/config.json
cwlbuild auth --registry "$CLUSTER_PUSH_REGISTRY" --username "$CLUSTER_PUSH_USER" --password-stdin \
  --output "$REGISTRY_AUTH_FILE" <"$CLUSTER_PUSH_PASSWORD_FILE"
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# The documentation's recipe (docs/cluster.md), run as written in the
# package: namespace, service account, push secret, Skaffold's Role,
# `task build`. Its registry, user and token become the cluster's; each
# replacement must apply, so the recipe cannot drift from what runs here.
recipe=$(awk '/^# Building in a cluster/ {s = 1} s && /^```sh$/ {b = 1; next} b && /^```$/ {exit} b' docs/cluster.md)
for word in 'ghcr.io' ' bot ' '< token'; do
  [[ $recipe == *"$word"* ]] || { echo "demo-cluster: README's cluster recipe no longer says '$word'" >&2; exit 1; }
done
recipe=${recipe//ghcr.io/$CLUSTER_PUSH_REGISTRY}
recipe=${recipe// bot / $CLUSTER_PUSH_USER }
recipe=${recipe//< token/< $CLUSTER_PUSH_PASSWORD_FILE}
# `kubectl create` becomes create-or-update, so the demo can run again.
kubectl() {
  if [[ " $* " == *" create "* ]]; then command kubectl "$@" --dry-run=client -o yaml | command kubectl apply -f -
  else command kubectl "$@"; fi
}
export -f kubectl
echo "== README's cluster recipe in $demo, after cwlbuild init (Skaffold's cache off, so that every image is built now):"
echo "$recipe"
(cd "$demo" && cwlbuild init && SKAFFOLD_CACHE_ARTIFACTS=false bash -euo pipefail -c "$recipe")

echo "== pinned images"
grep -h "dockerPull" "$demo"/cwl-workflow/*.cwl
echo "== the pinned workflow, published next to the images"
cwlbuild publish -f "$demo/project.toml"
echo "== the Kaniko pods' events in namespace $ns (since $since)"
kubectl -n "$ns" get events --sort-by=.metadata.creationTimestamp \
  -o custom-columns=TIME:.metadata.creationTimestamp,POD:.involvedObject.name,REASON:.reason,MESSAGE:.message |
  awk -v s="$since" 'NR == 1 || $1 >= s'

# The claim the runs share: a hostPath volume, bound by name.
mkdir -p "${CWLBUILD_CLUSTER_DIR:-/var/lib/cwlbuild-cluster}/volumes/$ns"
command kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: $ns-calrissian}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: cwlbuild-hostpath
  hostPath: {path: ${CWLBUILD_CLUSTER_DIR:-/var/lib/cwlbuild-cluster}/volumes/$ns, type: Directory}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: calrissian-data, namespace: $ns}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: cwlbuild-hostpath
  volumeName: $ns-calrissian
  resources: {requests: {storage: 1Gi}}
YAML

# The test recipe (docs/testing.md, "Running the tests in the cluster"), as
# written: Calrissian's account, its pull secret, its Role, the tests.
tests=$(awk '/^### Running the tests in the cluster/ {s = 1} s && /^```sh$/ {b = 1; next} b && /^```$/ {exit} b' docs/testing.md)
[[ $tests == *"cwlbuild test --engine cluster"* ]] || { echo "demo-cluster: README's test recipe no longer runs cwlbuild test --engine cluster" >&2; exit 1; }
echo "== README's test recipe in $demo: the tests as Calrissian Jobs"
echo "$tests"
(cd "$demo" && bash -euo pipefail -c "$tests")
cp "$demo/runs/water-bodies/results/water.csv" "$demo/water.calrissian.csv"

echo "== the pinned workflow, run by cwltool"
(cd "$demo" && task test-workflow WORKFLOW=0 ENGINE=local)
echo "workflow result ($demo/runs/water-bodies/results/water.csv):"
cat "$demo/runs/water-bodies/results/water.csv"
cmp "$demo/water.calrissian.csv" "$demo/runs/water-bodies/results/water.csv"
echo "water.csv: Calrissian's run in the cluster and cwltool's here are byte-identical"

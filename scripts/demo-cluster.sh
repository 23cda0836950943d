#!/usr/bin/env bash
# The cluster path end to end, for real: starts the single-node cluster
# (scripts/cluster.sh), prepares the build namespace, its service account and
# the push secret, copies the embedded sample to $DEMO_DIR with
# engine = "cluster", runs the chain (cwlbuild generate, Skaffold's cluster
# builder starting one Kaniko pod per tool, cwlpatch), shows the pinned
# references and the pods' events, and runs the pinned workflow with cwltool.
# Nothing tracked in this repository changes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
demo=${DEMO_DIR:-/tmp/cwlbuild-demo-cluster}
ns=eoap-sample
cd "$repo"

scripts/cluster.sh up >/dev/null
eval "$(scripts/cluster.sh env | sed 's/^/export /')"
CGO_ENABLED=0 go build -o .bin/ ./cmd/cwlbuild ./cmd/cwlpatch
cwlbuild=$repo/.bin/cwlbuild

echo "== the sample, built in the cluster: $demo"
rm -rf "$demo"
mkdir -p "$demo"
cp -r testdata/projects/sample/. "$demo/"
# The sample with engine = "cluster": images pushed to the cluster's
# registry (login required), the executor and init images and Docker Hub's
# base images taken from the mirror the pods can reach.
sed -i \
  -e 's|^engine = "local"$|engine = "cluster"|' \
  -e "s|^registry = \"ghcr.io/eoap/sample\"$|registry = \"$CLUSTER_PUSH_REGISTRY/eoap-sample\"|" \
  -e "s|^registryMap = { \"index.docker.io\" = \"127.0.0.1:5000\" }$|image = \"$CLUSTER_KANIKO_IMAGE\"\ninitImage = \"$CLUSTER_INIT_IMAGE\"\nregistryMap = { \"index.docker.io\" = \"$CLUSTER_MIRROR\" }|" \
  "$demo/project.toml"
grep -q '^engine = "cluster"' "$demo/project.toml" && grep -q '^initImage' "$demo/project.toml" ||
  { echo "demo-cluster: the sample's project.toml no longer has the lines this script edits" >&2; exit 1; }

echo "== namespace $ns, service account kaniko-sa, push secret kaniko-secret"
kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$ns" create serviceaccount kaniko-sa --dry-run=client -o yaml | kubectl apply -f - >/dev/null
"$cwlbuild" auth --registry "$CLUSTER_PUSH_REGISTRY" --username "$CLUSTER_PUSH_USER" --password-stdin \
  --secret kaniko-secret --namespace "$ns" <"$CLUSTER_PUSH_PASSWORD_FILE" | kubectl apply -f - >/dev/null
# Skaffold reads the pushed digests, and cwltool's podman pulls the images,
# with the same login.
export DOCKER_CONFIG=$demo/.docker REGISTRY_AUTH_FILE=$demo/.docker/config.json
"$cwlbuild" auth --registry "$CLUSTER_PUSH_REGISTRY" --username "$CLUSTER_PUSH_USER" --password-stdin \
  --output "$REGISTRY_AUTH_FILE" <"$CLUSTER_PUSH_PASSWORD_FILE"
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)

echo "== task build (Skaffold's cache off, so that every image is built now)"
SKAFFOLD_CACHE_ARTIFACTS=false go tool task build PROJECT="$demo/project.toml"

echo "== pinned images"
grep -h "dockerPull" "$demo"/cwl-workflow/*.cwl
echo "== the pinned workflow, published next to the images"
"$cwlbuild" publish -f "$demo/project.toml"
echo "== the Kaniko pods' events in namespace $ns (since $since)"
kubectl -n "$ns" get events --sort-by=.metadata.creationTimestamp \
  -o custom-columns=TIME:.metadata.creationTimestamp,POD:.involvedObject.name,REASON:.reason,MESSAGE:.message |
  awk -v s="$since" 'NR == 1 || $1 >= s'

echo "== the pinned workflow, run by cwltool"
PATH=$repo/scripts/podman-docker:$PATH "$cwlbuild" test -f "$demo/project.toml" --workflow 0 --engine local
echo "workflow result ($demo/runs/water-bodies/results/water.csv):"
cat "$demo/runs/water-bodies/results/water.csv"

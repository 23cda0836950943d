#!/usr/bin/env bash
# Cluster builds of a package shaped like a real one, through `task build`
# in the project's Kubernetes (scripts/cluster.sh): three tools on a Debian
# base made with debootstrap (the Calrissian image scripts/setup.sh builds),
# each with a heavy RUN (bench/cluster/gen.py: 30,000 files and 300 MB, a
# third of them Python modules compiled to bytecode, the shape of `pip
# install` of a scientific stack) and a final COPY of the tool's code.
#
#   bench/cluster.sh [CONFIG...]   default: every configuration below
#   bench/cluster.sh --smoke       one small tool, two configurations (CI)
#   BENCH_FILES=30000 BENCH_MB=300 BENCH_TOOLS=3 BENCH_SCENARIOS="cold no-op code base"
#
# Each configuration is one [build] / [build.kaniko] setting of project.toml
# (config_toml below) and runs every scenario in turn, from an empty Skaffold
# cache and a registry path of its own:
#   cold   nothing built yet
#   no-op  task build again, nothing changed
#   code   one tool's code changed and committed (only its last layer differs)
#   base   every Dockerfile moves to a new base image (one more layer)
# Per scenario it prints the wall time of `task build`, the Kaniko pods'
# times (creation to the executor's exit), the largest peak memory of a
# Kaniko container (its cgroup's max_usage_in_bytes, page cache included:
# what a memory limit counts), and the bytes the registry stored (images
# and cache layers). The images go to a registry of the bench's own on the
# cluster bridge (10.244.0.1:5003, the push registry's login), removed at
# the end, so runs neither see each other's layers nor fill the cluster's.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
all_configs=(anchor defaults cache norepro+cache norepro+cache+redo norepro+cache+newrun norepro+cache+newrun+redo norepro+single norepro+cache+serial norepro+cache+limits buildkit norepro+buildkit buildkit+fresh buildkit+fresh+link buildkit+link)
files=${BENCH_FILES:-30000} mb=${BENCH_MB:-300} ntools=${BENCH_TOOLS:-3}
scenarios=${BENCH_SCENARIOS:-"cold no-op code base"}
configs=("$@")
if [ "${1:-}" = --smoke ]; then
  files=300 mb=3 ntools=1 configs=(anchor defaults buildkit buildkit+fresh)
fi
[ ${#configs[@]} -gt 0 ] || configs=("${all_configs[@]}")

die() { echo "bench/cluster: $*" >&2; exit 1; }
log() { echo "bench/cluster: $*" >&2; }

# config_toml NAME: the [build] keys (first line) and the [build.kaniko]
# keys and tables (the rest) of a configuration. A name is settings joined
# by '+' on top of what project.toml gets with no [build.kaniko] options:
#   norepro   [build] reproducible = false
#   cache     the layer cache on, nocache off
#   copy      the cache takes COPY layers too
#   redo, time   --snapshot-mode
#   newrun    --use-new-run
#   single    --single-snapshot
#   serial    one Kaniko pod at a time (concurrency = 1)
#   limits    requests 500m CPU and 1Gi, limit 3Gi memory
#   buildkit  [build.cluster] builder = "buildkit": the buildkitd StatefulSet
#             of docs/cluster.md, its state on a volume, made afresh (an
#             empty cache) before the configuration's first scenario
#   fresh     buildkitd without a state volume, its pod replaced before
#             every scenario (a new CI pod), [build.cluster] buildkitCache =
#             "registry" standing in
#   link      the tool's code copied with COPY --link
# anchor is the seed's generated config: Skaffold's Kaniko defaults, no
# layer cache, no reproducible timestamps (norepro+nocache); defaults is
# no setting at all.
config_toml() {
  local name=$1 build="" kaniko="" cache="" res="" s
  case $name in anchor) name=norepro+nocache ;; defaults) name="" ;; esac
  for s in ${name//+/ }; do
    case $s in
    norepro) build='reproducible = false' ;;
    cache) cache+=$'enabled = true\n' ;;
    nocache) cache+=$'enabled = false\n' ;;
    copy) cache+=$'copyLayers = true\n' ;;
    redo | time) kaniko+="snapshotMode = \"$s\""$'\n' ;;
    newrun) kaniko+=$'useNewRun = true\n' ;;
    single) kaniko+=$'singleSnapshot = true\n' ;;
    serial) kaniko+=$'concurrency = 1\n' ;;
    limits) res=$'[build.kaniko.resources.requests]\ncpu = "500m"\nmemory = "1Gi"\n[build.kaniko.resources.limits]\nmemory = "3Gi"\n' ;;
    buildkit | fresh | link) ;; # [build.cluster] and the Dockerfile, written by package

    *) die "unknown setting $s in configuration $1" ;;
    esac
  done
  printf '%s\n%s' "$build" "$kaniko"
  [ -z "$cache" ] || printf '[build.kaniko.cache]\n%s' "$cache"
  printf '%s' "$res"
}
for c in "${configs[@]}"; do config_toml "$c" >/dev/null; done

scripts/cluster.sh up >/dev/null
eval "$(scripts/cluster.sh env | sed 's/^/export /')"
if [ -z "${CLUSTER_CALRISSIAN_IMAGE:-}" ]; then
  # Its Debian base is the Calrissian image's. Under CI that is a failure;
  # elsewhere the bench is left out and `go tool task test` says so.
  fix="CWLBUILD_CALRISSIAN_SOURCE=calrissian-0.14.0-debian.tar.gz scripts/setup.sh && scripts/cluster.sh up"
  if [ -z "${CI:-}" ] || [ "${CI:-}" = false ]; then
    echo "bench/cluster.sh: the Calrissian image is not available; make it with: $fix" | tee -a "$repo/.cwlbuild-missing" >&2
    exit 0
  fi
  die "no Debian base in the cluster's mirror: run $fix"
fi
go tool task bin >/dev/null
export PATH=$repo/.bin:$PATH
S=${CWLBUILD_CLUSTER_DIR:-/var/lib/cwlbuild-cluster}
ns=cwlbuild-bench
reg=${CLUSTER_PUSH_REGISTRY%:*}:5003
work=$(mktemp -d /var/tmp/cwlbuild-bench.XXXXXX)
reg_pid=
watch_pid=
sample_pid=
cleanup() {
  for p in $watch_pid $sample_pid $reg_pid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The bench's registry: the push registry's login, storage in $work.
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $work/registry}
  delete: {enabled: true}
http: {addr: "$reg"}
auth:
  htpasswd: {realm: cwlbuild-bench, path: $S/registry/htpasswd}
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do
  [ "$(curl -sS -o /dev/null -w '%{http_code}' "http://$reg/v2/" 2>/dev/null)" = 401 ] && break
  sleep 0.2
done
export DOCKER_CONFIG=$work/docker REGISTRY_AUTH_FILE=$work/docker/config.json
cwlbuild auth --registry "$reg" --username "$CLUSTER_PUSH_USER" --password-stdin \
  --output "$REGISTRY_AUTH_FILE" <"$CLUSTER_PUSH_PASSWORD_FILE" >/dev/null

# The bases, in the cluster's mirror: 1 is the Debian image, 2 is 1 and
# one more layer (what a base image's patch release looks like).
base=$CLUSTER_MIRROR/cwlbuild/bench-base
if ! skopeo inspect --tls-verify=false "docker://$base:2" >/dev/null 2>&1; then
  log "making the bases $base:1 and :2 from $CLUSTER_CALRISSIAN_IMAGE"
  # (skopeo takes a tag or a digest, not both)
  src=${CLUSTER_CALRISSIAN_IMAGE%@*}
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://${src%:*}@${CLUSTER_CALRISSIAN_IMAGE#*@}" "docker://$base:1"
  ctr=$(buildah from --tls-verify=false -q "docker://$base:1")
  printf 'base 2\n' >"$work/base-release"
  buildah copy -q "$ctr" "$work/base-release" /etc/base-release >/dev/null
  buildah commit -q --rm "$ctr" "$base:2" >/dev/null
  buildah push -q --tls-verify=false "$base:2" "docker://$base:2"
  buildah rmi -q "$base:2" >/dev/null 2>&1 || true
fi

# The namespace the pods run in, its service account and the push secret.
kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null
kubectl -n "$ns" get serviceaccount kaniko-sa >/dev/null 2>&1 || kubectl -n "$ns" create serviceaccount kaniko-sa >/dev/null
cwlbuild auth --registry "$reg" --username "$CLUSTER_PUSH_USER" --password-stdin \
  --secret kaniko-secret -n "$ns" <"$CLUSTER_PUSH_PASSWORD_FILE" | kubectl apply -f - >/dev/null

# package DIR CONFIG: the bench package, a git work tree with one commit.
package() {
  local dir=$1 cfg=$2 i
  mkdir -p "$dir/cwl"
  {
    printf '[project]\nname = "bench"\nversion = "1.0.0"\n\n[build]\nengine = "cluster"\n'
    config_toml "$cfg" | head -1
    printf '\n[build.cluster]\nnamespace = "%s"\nserviceAccount = "kaniko-sa"\nregistry = "%s/%s"\nsecret = "kaniko-secret"\n' \
      "$ns" "$reg" "${cfg//+/-}"
    [[ $cfg != *buildkit* ]] || printf 'builder = "buildkit"\n'
    [[ $cfg != *fresh* ]] || printf 'buildkitCache = "registry"\n'
    printf '\n[build.kaniko]\nimage = "%s"\ninitImage = "%s"\ninsecureRegistries = ["%s", "%s"]\n' \
      "$CLUSTER_KANIKO_IMAGE" "$CLUSTER_INIT_IMAGE" "$reg" "$CLUSTER_MIRROR"
    config_toml "$cfg" | tail -n +2
    printf '\n[release]\nsbom = "none"\n'
    for i in $(seq "$ntools"); do
      printf '\n[tools.tool%d]\ncontext = "tools/tool%d"\npath = "cwl/app.cwl#tool%d"\n' "$i" "$i" "$i"
    done
  } >"$dir/project.toml"
  {
    printf 'cwlVersion: v1.2\n$graph:\n'
    for i in $(seq "$ntools"); do
      printf -- '- class: CommandLineTool\n  id: tool%d\n  hints:\n    DockerRequirement: {dockerPull: "tool%d"}\n' "$i" "$i"
      printf '  baseCommand: [python3, /opt/tool/tool.py]\n  inputs: []\n  outputs: []\n'
    done
  } >"$dir/cwl/app.cwl"
  for i in $(seq "$ntools"); do
    mkdir -p "$dir/tools/tool$i/src"
    cp bench/cluster/gen.py "$dir/tools/tool$i/gen.py"
    printf 'print("tool%d")\n' "$i" >"$dir/tools/tool$i/src/tool.py"
    printf 'FROM %s:1\nCOPY gen.py /opt/gen.py\nRUN python3 /opt/gen.py /opt/stack %d %d tool%d\nCOPY %ssrc/ /opt/tool/\n' \
      "$base" "$files" "$mb" "$i" "$([[ $cfg != *link* ]] || echo '--link ')" >"$dir/tools/tool$i/Dockerfile"
  done
  (cd "$dir" && cwlbuild init >/dev/null 2>&1 && git init -q && git add -A &&
    git -c user.name=bench -c user.email=bench@localhost commit -qm init)
}

# change DIR SCENARIO: the edit a scenario makes, committed.
change() {
  local dir=$1 i
  case $2 in
  code) echo "# changed $(date +%s%N)" >>"$dir/tools/tool1/src/tool.py" ;;
  base) for i in $(seq "$ntools"); do sed -i "s|^FROM $base:1|FROM $base:2|" "$dir/tools/tool$i/Dockerfile"; done ;;
  *) return 0 ;;
  esac
  (cd "$dir" && git -c user.name=bench -c user.email=bench@localhost commit -qam "$2")
}

# buildkitd_fresh CONFIG: docs/cluster.md's buildkitd in the bench's
# namespace, with the cluster's images and plain HTTP to the bench's
# registry and the mirror, its state on a new, empty volume (for a fresh
# configuration, in the pod's emptyDir).
buildkitd_fresh() {
  local stateless=
  [[ $1 != *fresh* ]] || stateless='/^  volumeClaimTemplates:/,/^---$/{/^---$/!d}
      s|^          configMap: {name: buildkitd}|&\n        - {name: state, emptyDir: {}}|'
  kubectl -n "$ns" delete statefulset buildkitd --ignore-not-found --wait=true >/dev/null
  kubectl -n "$ns" delete pod buildkitd-0 --ignore-not-found --wait=true >/dev/null
  kubectl -n "$ns" delete pvc state-buildkitd-0 --ignore-not-found --wait=true >/dev/null
  kubectl delete pv "$ns-buildkitd" --ignore-not-found --wait=true >/dev/null
  rm -rf "$work/buildkitd" && mkdir -p "$work/buildkitd"
  printf 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: %s-buildkitd}\nspec:\n  capacity: {storage: 50Gi}\n  accessModes: [ReadWriteOnce]\n  claimRef: {namespace: %s, name: state-buildkitd-0}\n  hostPath: {path: %s}\n' \
    "$ns" "$ns" "$work/buildkitd" | kubectl apply -f - >/dev/null
  awk '/^# buildkitd for \[build.cluster\]/ {b = 1} b && /^```$/ {exit} b' docs/cluster.md |
    sed "s|image: docker.io/moby/buildkit:.*|image: $CLUSTER_BUILDKIT_IMAGE|
      s|    # \[registry.\"harbor.internal:5000\"\]|    [registry.\"$reg\"]\n      http = true\n    [registry.\"$CLUSTER_MIRROR\"]|
      s|    #   http = true|      http = true|
      $stateless" | kubectl -n "$ns" apply -f - >/dev/null
  kubectl -n "$ns" wait --for=condition=Ready pod/buildkitd-0 --timeout=120s >/dev/null
}

# buildkitd_replace: a new buildkitd pod, its emptyDir empty.
buildkitd_replace() {
  kubectl -n "$ns" delete pod buildkitd-0 --wait=true >/dev/null
  local i
  for i in $(seq 120); do
    kubectl -n "$ns" wait --for=condition=Ready pod/buildkitd-0 --timeout=1s >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "buildkitd-0 did not come back"
}

# build DIR CONFIG SCENARIO: one `task build`, measured; prints a table row.
build() {
  local dir=$1 cfg=$2 sc=$3 before after t0 t1 rc=0
  before=$(du -sb "$work/registry" | cut -f1)
  : >"$work/pods" && : >"$work/mem"
  kubectl -n "$ns" get pods -l skaffold-kaniko=skaffold-kaniko -w --no-headers \
    -o custom-columns='N:.metadata.name,C:.metadata.creationTimestamp,ID:.status.containerStatuses[0].containerID,F:.status.containerStatuses[0].state.terminated.finishedAt,R:.status.containerStatuses[0].state.terminated.reason' \
    >"$work/pods" 2>/dev/null &
  watch_pid=$!
  # Every container's peak, twice a second: a pod's cgroup is gone once
  # Skaffold deletes it.
  while :; do
    for f in /sys/fs/cgroup/memory/k8s.io/*/memory.max_usage_in_bytes; do
      [ -r "$f" ] && { read -r v <"$f" && echo "${f%/*}" "$v"; } 2>/dev/null
    done
    sleep 0.5
  done >"$work/mem" &
  sample_pid=$!
  local bk_cg=""
  if [[ $cfg == *buildkit* ]]; then
    # buildkitd's container lives on: its cgroup's peak, reset now.
    bk_cg=/sys/fs/cgroup/memory/k8s.io/$(kubectl -n "$ns" get pod buildkitd-0 -o jsonpath='{.status.containerStatuses[0].containerID}' | sed 's|.*//||')
    echo 0 >"$bk_cg/memory.max_usage_in_bytes"
  fi
  t0=$(date +%s.%N)
  (cd "$dir" && SKAFFOLD_CACHE_FILE=$work/$cfg.skaffold-cache task build >"$work/$cfg-$sc.log" 2>&1) || rc=$?
  t1=$(date +%s.%N)
  sleep 1
  kill "$watch_pid" "$sample_pid" 2>/dev/null || true
  wait "$watch_pid" "$sample_pid" 2>/dev/null || true
  watch_pid= sample_pid=
  after=$(du -sb "$work/registry" | cut -f1)
  if [ $rc != 0 ]; then
    log "$cfg/$sc: task build failed (exit $rc); its log ends:"
    tail -15 "$work/$cfg-$sc.log" >&2
    printf '| %s | %s | failed (exit %d) after %.1f s | | | | |\n' "$cfg" "$sc" "$rc" "$(echo "$t1 - $t0" | bc -l)"
    return 1
  fi
  if [ -n "$bk_cg" ]; then
    printf '| %s | %s | %.1f s | buildkitd | - | %.0f MB | %.0f MB |\n' "$cfg" "$sc" "$(echo "$t1 - $t0" | bc -l)" \
      "$(($(cat "$bk_cg/memory.max_usage_in_bytes") / 1048576))" "$(((after - before) / 1048576))"
    return 0
  fi
  # Per pod: creation to the executor's exit, and its container's peak.
  local n c id f r
  while read -r n c id f r; do
    [ "$f" != "<none>" ] && echo "$n $(date -d "$c" +%s) ${id##*/} $(date -d "$f" +%s) $r"
  done <"$work/pods" >"$work/pods.done"
  awk -v t0="$t0" -v t1="$t1" -v pushed=$((after - before)) -v cfg="$cfg" -v sc="$sc" '
    FNR == NR { sub(/.*\//, "", $1); if ($2 > peak[$1]) peak[$1] = $2; next }
    { name[$1] = 1; created[$1] = $2; finished[$1] = $4; cid[$1] = $3; reason[$1] = $5 }
    END {
      n = 0; times = ""; max = 0; oom = ""
      for (p in name) {
        n++; times = times sprintf("%s%d", n > 1 ? ", " : "", finished[p] - created[p])
        if (peak[cid[p]] > max) max = peak[cid[p]]
        if (reason[p] == "OOMKilled") oom = " (OOMKilled)"
      }
      printf "| %s | %s | %.1f s | %d | %s | %s | %.0f MB |\n", cfg, sc, t1 - t0, n,
        n ? times " s" : "-", n ? sprintf("%.0f MB%s", max / 1048576, oom) : "-", pushed / 1048576
    }' "$work/mem" "$work/pods.done"
}

failed=()
log "$ntools tools, $files files and $mb MB each; configurations: ${configs[*]}; scenarios: $scenarios"
echo "| configuration | scenario | task build | pods | pod times | peak memory | stored |"
echo "|---|---|---|---|---|---|---|"
for cfg in "${configs[@]}"; do
  dir=$work/$cfg
  package "$dir" "$cfg"
  [[ $cfg != *buildkit* ]] || buildkitd_fresh "$cfg"
  for sc in $scenarios; do
    change "$dir" "$sc"
    [[ $cfg != *fresh* || $sc == cold ]] || buildkitd_replace
    build "$dir" "$cfg" "$sc" || { failed+=("$cfg/$sc"); break; }
  done
done
[ ${#failed[@]} = 0 ] || die "failed: ${failed[*]}"

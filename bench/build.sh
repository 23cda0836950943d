#!/usr/bin/env bash
# Build times of the embedded sample through the whole chain (generate,
# skaffold build via `cwlbuild plugin`, cwlpatch): cold (empty Skaffold
# cache), no-op (nothing changed), and one tool changed, for each local
# runtime named (default: buildah and buildkit). Needs the local registry
# (`go tool task registry`) and scripts/setup.sh.
#   bench/build.sh [--smoke] [buildah] [buildkit]
#
# otsu's image gets a heavy step before its code, as a `pip install` would
# be: a RUN writing 3000 files of 20 kB of random bytes (60 MB; --smoke: 100
# files), so "one tool changed" (otsu's script) shows whether the runtime
# reruns it.
#
# buildah builds in a storage of the bench's own holding only the base
# (BENCH_WARM_BUILDAH=1: the machine's, with what earlier runs left);
# buildkit on a buildkitd of the bench's own, started with an empty cache
# (root: buildkitd runs runc), pulling the busybox base from the local
# registry through the sample's registry map.
#
# BENCH_PLATFORMS=linux/amd64,linux/arm64 builds every tool for those
# platforms ([build] platforms): each an index, the foreign platform's RUN
# steps under QEMU (scripts/setup.sh registers it), from a base index of
# the amd64 and arm64 busybox images pushed to the local registry. The
# table then also gives the bytes the registry holds for the images built
# (every platform's manifest, config and layers, counted once).
#
# Skaffold's artifact cache is on (its default, --cache-artifacts): it hashes
# each artifact's inputs (here every file of the context, `paths: ["."]`) and
# skips a build whose hash it already built and whose image the registry
# still has. The cache lives in $HOME/.skaffold/cache; this script gives
# Skaffold a fresh HOME so the cold run is really cold.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
CGO_ENABLED=0 go build -o .bin/ ./cmd/cwlbuild ./cmd/cwlpatch
skaffold=$(cd scripts/skaffold && CGO_ENABLED=0 go tool -n skaffold)
scripts/registry.sh >/dev/null
work=$(mktemp -d)
cleanup() {
  BUILDKITD_STATE="$work/buildkitd" BUILDKITD_RUN="$work/buildkitd-run" scripts/buildkitd.sh stop >/dev/null 2>&1 || true
  # buildah's overlay storage keeps its layers directory mounted.
  awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" || true
}
trap cleanup EXIT
files=3000
warm_buildah=${BENCH_WARM_BUILDAH:-}
if [ "${1:-}" = --smoke ]; then
  files=100
  shift
fi
runtimes=("$@")
platforms=${BENCH_PLATFORMS:-}
((${#runtimes[@]})) || runtimes=(buildah buildkit)
export SKAFFOLD_UPDATE_CHECK=false SKAFFOLD_INTERACTIVE=false

chain() {
  local t0 t1
  t0=$(date +%s.%N)
  .bin/cwlbuild generate -f "$pkg/project.toml" --plugin-command "$PWD/.bin/cwlbuild" 2>/dev/null
  (cd "$pkg" && HOME="$home" "$skaffold" build -f skaffold-auto.yaml --file-output build.json >"$work/log" 2>&1) ||
    { cat "$work/log" >&2; exit 1; }
  .bin/cwlpatch -q -f "$pkg/project.toml" "$pkg/build.json"
  t1=$(date +%s.%N)
  printf '| %s | %s | %s | %.2f s | %s | %s |\n' "$runtime" "${platforms:-host}" "$1" "$(echo "$t1 - $t0" | bc -l)" \
    "$(grep -c 'Not found. Building' "$work/log" || true)" "$(bytes)"
}

# bytes is what the registry holds for the images in build.json: each
# manifest (and an index's platform manifests), config and layer, once.
bytes() {
  local tag repo raw manifests d m blob total=0 seen=" "
  for tag in $(grep -o '"tag": *"[^"]*"' "$pkg/build.json" | sed 's/.*"tag": *"//; s/"$//'); do
    repo=${tag%@*}
    repo=${repo%:*}
    raw=$(skopeo inspect --raw --tls-verify=false "docker://$repo@${tag#*@}")
    total=$((total + ${#raw}))
    manifests=$(jq -r '.manifests // [] | .[].digest' <<<"$raw")
    [ -n "$manifests" ] || manifests=${tag#*@}
    for d in $manifests; do
      m=$raw
      if [ "$d" != "${tag#*@}" ]; then
        m=$(skopeo inspect --raw --tls-verify=false "docker://$repo@$d")
        total=$((total + ${#m}))
      fi
      for blob in $(jq -r '[.config] + .layers | .[] | "\(.digest)=\(.size)"' <<<"$m"); do
        case "$seen" in *" ${blob%=*} "*) continue ;; esac
        seen="$seen${blob%=*} "
        total=$((total + ${blob#*=}))
      done
    done
  done
  echo "$((total / 1024)) KiB"
}

if [ -n "$platforms" ]; then
  # The base for each platform, as one index in the local registry.
  list=localhost/cwlbuild-bench/base-$$
  buildah manifest create "$list" >/dev/null
  buildah manifest add "$list" containers-storage:docker.io/library/busybox:1.36 >/dev/null
  buildah manifest add "$list" containers-storage:localhost/cwlbuild/busybox:1.36-arm64 >/dev/null
  buildah manifest push --all --rm --quiet --tls-verify=false "$list" docker://127.0.0.1:5000/bench-base/busybox:1.36
fi
echo "| runtime | platforms | run | chain time | images built | registry bytes |"
echo "|---|---|---|---|---|---|"
for runtime in "${runtimes[@]}"; do
  pkg=$work/$runtime/pkg home=$work/$runtime/home
  mkdir -p "$pkg" "$home" && cp -r testdata/projects/sample/. "$pkg/"
  # A registry path of its own, so images from earlier runs do not count as cached.
  run_id=$(date +%s%N)
  sed -i "s|127.0.0.1:5000/eoap-sample|127.0.0.1:5000/bench-$run_id|; s|^runtime = .*|runtime = \"$runtime\"|" "$pkg/project.toml"
  if [ -n "$platforms" ]; then
    sed -i "s|^engine = .*|&\nplatforms = [\"${platforms//,/\", \"}\"]|" "$pkg/project.toml"
    sed -i 's|^FROM docker.io/library/busybox:1.36|FROM 127.0.0.1:5000/bench-base/busybox:1.36|' "$pkg"/command-line-tools/*/Dockerfile
  fi
  sed -i "1a RUN mkdir -p /opt/heavy \\&\\& for i in \$(seq 1 $files); do head -c 20000 /dev/urandom > /opt/heavy/f\$i; done" \
    "$pkg/command-line-tools/otsu/Dockerfile"
  case "$runtime" in
    buildah)
      # A storage of the bench's own, holding only the base: a cold build
      # is cold (buildah reuses a layer of an earlier run with the same
      # step on the same base, whatever that step wrote).
      if [ -z "${warm_buildah:-}" ]; then
        mkdir -p "$work/storage"
        printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$work/storage/graph" "$work/storage/run" >"$work/storage.conf"
        skopeo copy -q containers-storage:docker.io/library/busybox:1.36 "oci:$work/base:busybox" 2>/dev/null
        export CONTAINERS_STORAGE_CONF=$work/storage.conf
        skopeo copy -q "oci:$work/base:busybox" containers-storage:docker.io/library/busybox:1.36 2>/dev/null
      fi
      ;;
    buildkit)
      skopeo copy -q --dest-tls-verify=false containers-storage:docker.io/library/busybox:1.36 \
        docker://127.0.0.1:5000/library/busybox:1.36 2>/dev/null
      BUILDKITD_STATE="$work/buildkitd" BUILDKITD_RUN="$work/buildkitd-run" scripts/buildkitd.sh start >/dev/null
      export BUILDKIT_HOST="unix://$work/buildkitd-run/buildkitd.sock"
      ;;
    *) echo "bench/build.sh: runtime $runtime: buildah or buildkit" >&2; exit 2 ;;
  esac
  chain cold
  chain no-op
  echo "# changed" >>"$pkg/command-line-tools/otsu/otsu.sh"
  chain "one tool changed"
  # The pinned images still give the sample's result (its workflow test
  # expects water.csv's checksum): a build that is fast and wrong fails the
  # bench. Not timed.
  (cd "$pkg" && PATH="$root/scripts/podman-docker:$PATH" "$root/.bin/cwlbuild" test --engine local --workflow 0) >"$work/test.log" 2>&1 ||
    { cat "$work/test.log" >&2; echo "bench/build.sh: $runtime: the images built do not give the sample's expected result" >&2; exit 1; }
done

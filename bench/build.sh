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
# Skaffold's artifact cache is on (its default, --cache-artifacts): it hashes
# each artifact's inputs (here every file of the context, `paths: ["."]`) and
# skips a build whose hash it already built and whose image the registry
# still has. The cache lives in $HOME/.skaffold/cache; this script gives
# Skaffold a fresh HOME so the cold run is really cold.
set -euo pipefail
cd "$(dirname "$0")/.."
CGO_ENABLED=0 go build -o .bin/ ./cmd/cwlbuild ./cmd/cwlpatch
skaffold=$(cd scripts/skaffold && go tool -n skaffold)
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
  printf '| %s | %s | %.2f s | %s |\n' "$runtime" "$1" "$(echo "$t1 - $t0" | bc -l)" "$(grep -c 'Not found. Building' "$work/log" || true)"
}

echo "| runtime | run | chain time | images built |"
echo "|---|---|---|---|"
for runtime in "${runtimes[@]}"; do
  pkg=$work/$runtime/pkg home=$work/$runtime/home
  mkdir -p "$pkg" "$home" && cp -r testdata/projects/sample/. "$pkg/"
  # A registry path of its own, so images from earlier runs do not count as cached.
  run_id=$(date +%s%N)
  sed -i "s|127.0.0.1:5000/eoap-sample|127.0.0.1:5000/bench-$run_id|; s|^runtime = .*|runtime = \"$runtime\"|" "$pkg/project.toml"
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
done

#!/usr/bin/env bash
# Build times of the embedded sample through the whole chain (generate,
# skaffold build with buildah via `cwlbuild plugin`, cwlpatch): cold (empty
# Skaffold cache), no-op (nothing changed), and one tool changed. Needs the
# local registry (`go tool task registry`) and scripts/setup.sh.
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
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pkg" && cp -r testdata/projects/sample/. "$work/pkg/"
# A registry path of its own, so images from earlier runs do not count as cached.
run_id=$(date +%s%N)
sed -i "s|127.0.0.1:5000/eoap-sample|127.0.0.1:5000/bench-$run_id|" "$work/pkg/project.toml"
export HOME="$work/home" SKAFFOLD_UPDATE_CHECK=false SKAFFOLD_INTERACTIVE=false
mkdir -p "$HOME"

chain() {
  local t0 t1
  t0=$(date +%s.%N)
  .bin/cwlbuild generate -f "$work/pkg/project.toml" --plugin-command "$PWD/.bin/cwlbuild" 2>/dev/null
  (cd "$work/pkg" && "$skaffold" build -f skaffold-auto.yaml --file-output build.json >"$work/log" 2>&1)
  .bin/cwlpatch -q -f "$work/pkg/project.toml" "$work/pkg/build.json"
  t1=$(date +%s.%N)
  printf '| %s | %.2f s | %s |\n' "$1" "$(echo "$t1 - $t0" | bc -l)" "$(grep -c 'Not found. Building' "$work/log" || true)"
}

echo "| run | chain time | images built |"
echo "|---|---|---|"
chain cold
chain no-op
echo "# changed" >>"$work/pkg/command-line-tools/otsu/otsu.sh"
chain "one tool changed"

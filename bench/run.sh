#!/usr/bin/env bash
# Speed and peak memory of cwlbuild generate and cwlpatch on synthetic
# packages (tools listed in reverse alphabetical order, one packed CWL file),
# next to the shell Taskfile's approach on the same inputs: yq processes per
# tool (mikefarah yq, pinned in bench/yq/go.mod).
#
#   bench/run.sh [SIZES...]        default: 10 100 1000 10000
#   ANCHOR_MAX=100 bench/run.sh    largest size the yq approach is run at
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000 10000)
anchor_max=${ANCHOR_MAX:-100}
CGO_ENABLED=0 go build -o .bin/ ./cmd/cwlbuild ./cmd/cwlpatch ./bench/synth ./bench/measure
yq=$(cd bench/yq && go tool -n yq)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# measure CMD...: prints "SECONDS PEAK_MB": the median wall time of 5 runs (1
# from 10000 tools) and the largest peak resident set, timed by bench/measure.
measure() {
  local reps=5
  [ "$n" -lt 10000 ] || reps=1
  .bin/measure -n "$reps" -- "$@" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
}
now() { date +%s.%N; }

# The Taskfile's update: for each tool, in alphabetical order, read its build
# from build.json, look up the tool in the CWL, rewrite the CWL in place.
anchor_update() {
  local dir=$1 i=0
  for t in $(printf '%s\n' $(grep -o '^\[tools\.[^]]*' "$dir/project.toml" | cut -d. -f2) | sort); do
    img=$("$yq" -r ".builds[$i].tag" "$dir/build.json")
    "$yq" ".\$graph[] | select(.id == \"$t\") | .id" "$dir/app.cwl" >/dev/null
    "$yq" -i "(.\$graph[] | select(.id == \"$t\") | .hints.DockerRequirement.dockerPull) = \"$img\"" "$dir/app.cwl"
    i=$((i + 1))
  done
}

# The Taskfile's prepare-kaniko: one yq read of project.toml and one yq
# in-place append to the Skaffold config per tool.
anchor_generate() {
  local dir=$1
  printf 'apiVersion: skaffold/v4beta9\nkind: Config\nbuild:\n  artifacts: []\n' >"$dir/anchor.yaml"
  for t in $(grep -o '^\[tools\.[^]]*' "$dir/project.toml" | cut -d. -f2); do
    ctx=$("$yq" -p toml -oy ".tools.\"$t\".context" "$dir/project.toml")
    "$yq" -i ".build.artifacts += [{\"image\": \"r/$t\", \"context\": \"$ctx\", \"kaniko\": {\"dockerfile\": \"Dockerfile\"}}]" "$dir/anchor.yaml"
  done
}

printf '| tools | generate | generate peak | anchor config | generate speed-up | cwlpatch | cwlpatch peak | anchor update | cwlpatch speed-up |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  dir="$work/n$n"
  .bin/synth -n "$n" -o "$dir"
  cp "$dir/app.cwl" "$dir/app.cwl.orig"
  read -r gen_s gen_mb <<<"$(measure .bin/cwlbuild generate -f "$dir/project.toml")"
  read -r patch_s patch_mb <<<"$(measure .bin/cwlpatch -q -f "$dir/project.toml" "$dir/build.json")"
  anchor_cfg=n/a anchor_upd=n/a gen_speedup=n/a patch_speedup=n/a
  if [ "$n" -le "$anchor_max" ]; then
    t0=$(now); anchor_generate "$dir"; t1=$(now)
    cfg=$(echo "$t1 - $t0" | bc -l)
    anchor_cfg=$(printf '%.2f s' "$cfg")
    gen_speedup=$(echo "$cfg / $gen_s" | bc -l | xargs printf '%.0fx')
    cp "$dir/app.cwl.orig" "$dir/app.cwl"
    t0=$(now); anchor_update "$dir"; t1=$(now)
    upd=$(echo "$t1 - $t0" | bc -l)
    anchor_upd=$(printf '%.2f s' "$upd")
    patch_speedup=$(echo "$upd / $patch_s" | bc -l | xargs printf '%.0fx')
  fi
  printf '| %s | %s s | %s MB | %s | %s | %s s | %s MB | %s | %s |\n' "$n" "$gen_s" "$gen_mb" "$anchor_cfg" "$gen_speedup" "$patch_s" "$patch_mb" "$anchor_upd" "$patch_speedup"
done

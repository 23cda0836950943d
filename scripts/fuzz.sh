#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) twice: coverage-guided
# (go test -fuzz) and unguided (the test binary built without coverage
# instrumentation). The unguided run executes ten times more inputs and,
# with no new-coverage inputs to minimise, never sits at "0 execs/sec"
# (golang/go#51484); each mode found crashers the other missed. A crasher is
# written to the package's testdata/fuzz/TARGET/ and fails the script: fix
# it and commit the file as a regression input.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
targets=(builder:FuzzParseProject skaffold/buildjson:FuzzParse cwlpatch:FuzzPinEdits)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
status=0
# run LABEL CMD...: runs one fuzzing session; prints its last progress line,
# or everything but the progress lines when it fails.
run() {
  local label=$1 log="$bin/log"
  shift
  if "$@" >"$log" 2>&1; then
    echo "$label: ok, $(grep '^fuzz: elapsed' "$log" | tail -1 | sed 's/^fuzz: //')"
  else
    echo "$label: FAILED"
    grep -v -e '^fuzz: elapsed' -e '^warning: the test binary' "$log" | sed 's/^/    /'
    status=1
  fi
}
for spec in "${targets[@]}"; do
  pkg=${spec%%:*} target=${spec##*:}
  run "$target guided" go test "./$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "${secs}s"
  go test -c -o "$bin/$target.test" "./$pkg"
  run "$target unguided" bash -c 'cd "$1" && "$2" -test.run "^$" -test.fuzz "^$3\$" -test.fuzztime "$4s" -test.fuzzcachedir "$5"' \
    _ "$pkg" "$bin/$target.test" "$target" "$secs" "$bin/cache-$target"
done
exit $status

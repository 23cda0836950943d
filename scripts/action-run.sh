#!/usr/bin/env bash
# The run step of the cwlbuild GitHub Action (action.yml): `task COMMAND`
# in the package with the package Taskfile (`cwlbuild init` writes one when
# the package has none), then the step's outputs: the pinned images of
# build.json and, for a release, the published workflow reference. The
# inputs arrive as environment variables and reach go-task as single
# VAR=value arguments, never as shell code.
set -euo pipefail
fail() { echo "::error::cwlbuild action: $*" >&2; exit 1; }
case "$COMMAND" in
  build | check | release) name=$COMMAND ;;
  test) name=test-all ;;
  *) fail "command must be build, check, release or test" ;;
esac
if [ ! -e Taskfile.yaml ] && [ ! -e Taskfile.yml ]; then
  cwlbuild init
fi
set -- "$name"
[ -z "${PROFILE:-}" ] || set -- "$@" "PROFILE=$PROFILE"
if [ "$name" = release ]; then
  set -- "$@" "TAGS=${TAGS:-}" "KEY=${KEY:-}" "PUB=${PUB:-}"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
task "$@" | tee "$log"
out=${GITHUB_OUTPUT:-/dev/null}
delim=cwlbuild_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
if [ -f build.json ] && [ "$name" != check ]; then
  {
    echo "pinned<<$delim"
    grep -o '"tag" *: *"[^"\\]*@sha256:[0-9a-f]\{64\}"' build.json | sed 's/^"tag" *: *"//; s/"$//'
    echo "$delim"
  } >>"$out"
fi
if [ "$name" = release ]; then
  ref=$(grep -E -m1 '^[^[:space:]]+:[^[:space:]]+@sha256:[0-9a-f]{64}$' "$log" || true)
  [ -n "$ref" ] || fail "task release published no workflow reference"
  echo "workflow=$ref" >>"$out"
fi

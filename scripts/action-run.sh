#!/usr/bin/env bash
# The steps of the cwlbuild GitHub Action (action.yml) after the install and
# the login, one phase per step so that each secret reaches only its own:
#
#   action-run.sh build     `task COMMAND` (for a release: `task build`). The
#                           package's code runs here (its Dockerfiles' RUN
#                           lines, its CWL tools in the tests): no signing key
#                           or password is in this step's environment.
#   action-run.sh release   `task sign-publish` (a release after its build):
#                           check --strict, SBOMs, sign, publish, attest,
#                           verify. cwlbuild's own commands only, with the
#                           cosign key; the references published go to a file.
#   action-run.sh summary   for test: the results' Markdown table (written
#                           by cwlbuild test --markdown) appended to the job
#                           summary, whether the tests passed or not.
#   action-run.sh outputs   the step outputs, from files only: `pinned` from
#                           build.json, `workflow` from the references publish
#                           wrote; never from a log a build step writes to.
#
# The Taskfile is the one `cwlbuild init --print` writes, from a directory of
# the runner's (go-task -t FILE -d PACKAGE): no file of the package decides
# what runs, its own Taskfile included. TASKFILE=package runs the package's
# Taskfile instead (its release task in the release phase, with the key):
# code of the package runs with the secrets, so only for trusted branches.
#
# What the package's code prints cannot act as a workflow command: the
# build and release phases run between ::stop-commands:: and its random
# token. Inputs arrive as environment variables and reach go-task as single
# VAR=value arguments, never as shell code.
set -euo pipefail
fail() { echo "::error::cwlbuild action: $*" >&2; exit 1; }
phase=${1:?usage: action-run.sh build|release|summary|outputs}
case "$COMMAND" in
  build | check | release) name=$COMMAND ;;
  test) name=test-all ;;
  *) fail "command must be build, check, release or test" ;;
esac
case "${TASKFILE:-cwlbuild}" in
  cwlbuild | package) ;;
  *) fail "taskfile must be cwlbuild (the default: the Taskfile cwlbuild writes, run from outside the package) or package" ;;
esac
# Shared by this job's steps, and no other job's: the runner's temporary
# directory (per job), named after the run and the job too.
state=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/cwlbuild-action-${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-0}-${GITHUB_JOB:-job}
refs=$state/published-refs
random() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# run ARGS...: go-task with the Taskfile chosen, GitHub's command processing
# stopped while it runs.
run() {
  local tf=() token
  if [ "${TASKFILE:-cwlbuild}" = cwlbuild ]; then
    mkdir -p "$state"
    tf=("--taskfile" "$state/Taskfile.yaml" "--dir" "$PWD")
    cwlbuild init --print >"$state/Taskfile.yaml"
  elif [ ! -e Taskfile.yaml ] && [ ! -e Taskfile.yml ]; then
    fail "taskfile: package, and the package has no Taskfile.yaml"
  fi
  token=$(random)
  echo "::stop-commands::$token"
  local rc=0
  task ${tf[@]+"${tf[@]}"} "$@" || rc=$?
  echo "::$token::"
  return "$rc"
}

case "$phase" in
  build)
    if [ "$name" = release ]; then
      # The package's own release task builds and signs in one: it runs in
      # the release phase, with the key.
      [ "${TASKFILE:-cwlbuild}" = package ] && exit 0
      name=build
    fi
    set -- "$name"
    [ -z "${PROFILE:-}" ] || set -- "$@" "PROFILE=$PROFILE"
    if [ "$name" = test-all ]; then
      # The results as a table, for the job summary (phase summary).
      mkdir -p "$state"
      rm -f "$state/test-summary.md"
      set -- "$@" "MARKDOWN=$state/test-summary.md"
    fi
    run "$@" || fail "task $name failed"
    ;;
  summary)
    # The tests' table (cwlbuild test --markdown, every cell made inert),
    # passed or failed, appended to the job summary from its file.
    [ "$name" = test-all ] || exit 0
    f=$state/test-summary.md
    [ -f "$f" ] && [ ! -L "$f" ] || exit 0
    cat "$f" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
    rm -f "$f"
    ;;
  release)
    [ "$name" = release ] || exit 0
    rm -f "$refs"
    mkdir -p "$state"
    task=sign-publish
    [ "${TASKFILE:-cwlbuild}" = package ] && task=release
    set -- "$task" "TAGS=${TAGS:-}" "KEY=${KEY:-}" "PUB=${PUB:-}" "REF_FILE=$refs"
    [ -z "${PROFILE:-}" ] || set -- "$@" "PROFILE=$PROFILE"
    run "$@" || fail "task $task failed"
    ;;
  outputs)
    out=${GITHUB_OUTPUT:-/dev/null}
    ref='^[a-z0-9][a-z0-9.:-]*(/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[0-9a-f]{64}$'
    # output NAME FILE: the lines of FILE that are digest references, as a
    # multi-line output under a random delimiter no line holds.
    output() {
      local delim lines
      lines=$(grep -E "$ref" "$2" || true)
      delim=cwlbuild_$(random)
      case "$lines" in *"$delim"*) fail "output $1 holds its delimiter" ;; esac
      printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$lines" "$delim" >>"$out"
    }
    if [ "$name" = build ] || [ "$name" = release ]; then
      [ -f build.json ] && [ ! -L build.json ] || fail "task $name wrote no build.json"
      tags=$(mktemp)
      trap 'rm -f "$tags"' EXIT
      grep -o '"tag" *: *"[^"\\]*@sha256:[0-9a-f]\{64\}"' build.json | sed 's/^"tag" *: *"//; s/"$//' >"$tags" || true
      output pinned "$tags"
    fi
    if [ "$name" = release ]; then
      [ -s "$refs" ] || fail "the release published no workflow reference (no $refs)"
      first=$(grep -E -m1 "$ref" "$refs" || true)
      [ -n "$first" ] || fail "the release published no workflow reference"
      echo "workflow=$first" >>"$out"
      rm -f "$refs"
    fi
    ;;
  *) fail "phase must be build, release, summary or outputs" ;;
esac

#!/usr/bin/env bash
# The install step of the cwlbuild GitHub Action (action.yml): cwlbuild's
# release archive for the runner's OS and architecture, checked against the
# release's SHA256SUMS; Skaffold and go-task, each checked against its
# vendor's published checksum, unless the runner has them already in the
# versions this repository pins or newer (a self-hosted runner's). Puts
# them in a directory it adds to GITHUB_PATH.
#
# VERSION (else ACTION_REF): the cwlbuild release, a tag v1.2.3.
# CWLBUILD_RELEASES: where the releases are downloaded from (default
# GitHub's; a file:// or mirror URL works the same).
set -euo pipefail
# The versions this repository pins: Skaffold in scripts/skaffold/go.mod,
# go-task in go.mod; and the Skaffold config schema cwlbuild generate
# writes (TestGitHubAction checks they agree).
SKAFFOLD_VERSION=v2.24.0
SKAFFOLD_SCHEMA=skaffold/v4beta14
TASK_VERSION=v3.45.4

fail() { echo "::error::cwlbuild action: $*" >&2; exit 1; }
version=${VERSION:-${ACTION_REF:-}}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]] ||
  fail "no cwlbuild release to install: set the action's version input to a release tag (v1.2.3), or use the action at one"
case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;; macOS | Darwin) os=darwin ;;
  *) fail "runner OS ${RUNNER_OS:-$(uname -s)}: the releases are for Linux and macOS" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;; ARM64 | aarch64 | arm64) arch=arm64 ;;
  *) fail "runner architecture ${RUNNER_ARCH:-$(uname -m)}: the releases are for amd64 and arm64" ;;
esac
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }
# check FILE SUMS: FILE's sha256 is the one SUMS (sha256sum's format) lists
# for its name.
check() {
  local want
  want=$(awk -v f="$(basename "$1")" '$2 == f || $2 == "*" f {print $1}' "$2")
  [ -n "$want" ] || fail "$2 lists no checksum for $(basename "$1")"
  [ "$(sha256 "$1")" = "$want" ] || fail "$(basename "$1"): checksum mismatch, not installed"
}
# newer_or_equal A B: version A is B or later.
newer_or_equal() { [ "$(printf '%s\n%s\n' "${1#v}" "${2#v}" | sort -V | head -1)" = "${2#v}" ]; }

bin=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/cwlbuild-bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$bin"

base=${CWLBUILD_RELEASES:-https://github.com/eoap/cwlbuild/releases/download}/$version
name=cwlbuild_${version#v}_${os}_${arch}
echo "cwlbuild action: cwlbuild $version ($os/$arch)"
curl -fsSL -o "$tmp/$name.tar.gz" "$base/$name.tar.gz" -o "$tmp/SHA256SUMS" "$base/SHA256SUMS"
check "$tmp/$name.tar.gz" "$tmp/SHA256SUMS"
tar -xzf "$tmp/$name.tar.gz" -C "$tmp"
install -m 755 "$tmp/$name"/cwlbuild* "$tmp/$name/cwlpatch" "$bin/"

# A runner's Skaffold is kept when it reads the schema cwlbuild writes (what
# `cwlbuild check` asks of it too): a build from source names no version.
if command -v skaffold >/dev/null && skaffold schema list 2>/dev/null | grep -qx "$SKAFFOLD_SCHEMA"; then
  echo "cwlbuild action: Skaffold from the runner ($(command -v skaffold), reads $SKAFFOLD_SCHEMA)"
else
  echo "cwlbuild action: Skaffold $SKAFFOLD_VERSION"
  url=https://storage.googleapis.com/skaffold/releases/$SKAFFOLD_VERSION/skaffold-$os-$arch
  curl -fsSL -o "$tmp/skaffold-$os-$arch" "$url" -o "$tmp/skaffold.sha256" "$url.sha256"
  [ "$(sha256 "$tmp/skaffold-$os-$arch")" = "$(cut -d' ' -f1 "$tmp/skaffold.sha256")" ] || fail "Skaffold: checksum mismatch, not installed"
  install -m 755 "$tmp/skaffold-$os-$arch" "$bin/skaffold"
fi

if command -v task >/dev/null && newer_or_equal "$(task --version 2>/dev/null | grep -o 'v\{0,1\}[0-9][0-9.]*' | head -1)" "$TASK_VERSION"; then
  echo "cwlbuild action: go-task $(task --version) from the runner"
else
  echo "cwlbuild action: go-task $TASK_VERSION"
  url=https://github.com/go-task/task/releases/download/$TASK_VERSION
  curl -fsSL -o "$tmp/task_${os}_${arch}.tar.gz" "$url/task_${os}_${arch}.tar.gz" -o "$tmp/task_checksums.txt" "$url/task_checksums.txt"
  check "$tmp/task_${os}_${arch}.tar.gz" "$tmp/task_checksums.txt"
  tar -xzf "$tmp/task_${os}_${arch}.tar.gz" -C "$tmp" task
  install -m 755 "$tmp/task" "$bin/task"
fi
echo "$bin" >>"${GITHUB_PATH:-/dev/null}"
PATH=$bin:$PATH cwlbuild --version

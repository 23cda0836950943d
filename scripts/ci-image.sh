#!/usr/bin/env bash
# Builds the cwlbuild CI image with cwlbuild itself (dogfood): fills the
# image package's build context (PKG/cwlbuild-ci/bin, default image/) with
# static linux binaries of this checkout (cwlbuild, cwlpatch, cwlbuild-sbom,
# with the pinned Skaffold and go-task), built reproducibly as the release
# archives are, then runs the package's own `task build` (generate,
# Skaffold, pins, SBOM) with those programs first on PATH. Any other
# argument goes to `task build` (PROFILE=..., for example).
#
#   scripts/ci-image.sh [PKG] [TASK ARGS...]     ARCH=amd64|arm64 (default amd64)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
pkg=$(cd "${1:-$repo/image}" && pwd)
shift || true
cd "$repo"
bin=$pkg/cwlbuild-ci/bin
version=${VERSION:-$(git describe --tags --exact-match 2>/dev/null || echo "(devel)")}
epoch=$(git log -1 --format=%ct)
rm -rf "$bin"
mkdir -p "$bin"
echo "ci-image: [1/2] static linux/${ARCH:-amd64} binaries into $bin" >&2
(
  export CGO_ENABLED=0 GOOS=linux GOARCH=${ARCH:-amd64}
  flags=(-trimpath -ldflags="-s -w -buildid= -X github.com/eoap/cwlbuild/internal/cliapp.release=${version/(devel)/}")
  go build "${flags[@]}" -buildvcs=true -o "$bin/" ./cmd/cwlbuild ./cmd/cwlpatch ./cmd/cwlbuild-sbom
  go build -trimpath -ldflags="-s -w -buildid=" -o "$bin/task" github.com/go-task/task/v3/cmd/task
  cd scripts/skaffold && go build -trimpath -ldflags="-s -w -buildid=" -o "$bin/skaffold" github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold
)
chmod 755 "$bin"/*
touch -h -d "@$epoch" "$bin" "$bin"/*
echo "ci-image: [2/2] task build in $pkg" >&2
go tool task bin >/dev/null
cd "$pkg"
PATH=$repo/.bin:$PATH task build "$@"

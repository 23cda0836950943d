#!/usr/bin/env bash
# The release archives: cwlbuild, cwlpatch, cwlbuild-sbom and
# cwlbuild-calrissian as static binaries for each platform, so that users
# install without Go. Writes into OUT (default dist/):
#   cwlbuild_VERSION_OS_ARCH.tar.gz   the four programs, README.md and docs/
#   SHA256SUMS                        sha256sum's format, one line per archive
#   cwlbuild_VERSION.spdx.json        the SBOM of every binary (syft, through
#                                     cwlbuild-sbom: the Go modules each holds)
# Reproducible: the same commit and Go toolchain give the same archives,
# byte for byte, wherever the checkout lies (-trimpath; file times are the
# commit's; owners, order and gzip headers fixed). The SBOM is not: SPDX
# requires its creation time and a unique namespace.
#
#   scripts/dist.sh [OUT]         VERSION=v1.2.0 (default: the tag at HEAD,
#                                 else v0.0.0-TIME-COMMIT)
#                                 PLATFORMS="linux/amd64 ..." (default: linux
#                                 and darwin, amd64 and arm64)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$repo/dist}" && cd "${1:-$repo/dist}" && pwd)
cd "$repo"
commit=$(git rev-parse HEAD)
epoch=$(git log -1 --format=%ct)
version=${VERSION:-$(git describe --tags --exact-match 2>/dev/null ||
  echo "v0.0.0-$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)-${commit:0:12}")}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]] ||
  { echo "dist: VERSION $version is not a semantic version tag (v1.2.3)" >&2; exit 1; }
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
ldflags="-s -w -buildid= -X github.com/eoap/cwlbuild/internal/cliapp.release=$version"
n=0
for p in $platforms; do
  n=$((n + 1))
  os=${p%/*} arch=${p#*/}
  name=cwlbuild_${version#v}_${os}_${arch}
  echo "dist: [$n/$(wc -w <<<"$platforms")] $name" >&2
  mkdir -p "$stage/$name"
  GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=true -ldflags="$ldflags" -o "$stage/$name/" \
    ./cmd/cwlbuild ./cmd/cwlpatch ./cmd/cwlbuild-sbom
  (cd cmd/cwlbuild-calrissian && GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=true \
    -ldflags="-s -w -buildid= -X main.release=$version" -o "$stage/$name/" .)
  cp -r README.md docs "$stage/$name/"
  chmod 755 "$stage/$name" "$stage/$name"/cwlbuild* "$stage/$name/docs"
  chmod 644 "$stage/$name/README.md" "$stage/$name"/docs/*
  find "$stage/$name" -exec touch -h -d "@$epoch" {} +
  tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -C "$stage" -cf - "$name" | gzip -9 -n >"$stage/$name.tar.gz"
done
(cd "$stage" && sha256sum -- *.tar.gz) >"$stage/SHA256SUMS"
# The SBOM, made by this checkout's own agent, for this machine.
go build -o "$stage/.agent/" ./cmd/cwlbuild-sbom
mkdir -p "$stage/cwlbuild_${version#v}"
for d in "$stage"/cwlbuild_*_*/; do cp -r "$d" "$stage/cwlbuild_${version#v}/"; done
"$stage/.agent/cwlbuild-sbom" --format spdx --output "$stage" -- "dir:$stage/cwlbuild_${version#v}" >/dev/null
mv -f -- "$stage"/*.tar.gz "$stage/SHA256SUMS" "$stage/cwlbuild_${version#v}.spdx.json" "$out/"
echo "dist: $out: $(cd "$out" && ls cwlbuild_"${version#v}"_*.tar.gz | wc -l) archives, SHA256SUMS, cwlbuild_${version#v}.spdx.json ($version, commit $commit)" >&2

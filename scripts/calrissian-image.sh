#!/usr/bin/env bash
# Builds the Calrissian image that `cwlbuild test --engine cluster` runs as a
# Job, without pulling anything from a registry: a Debian bookworm root file
# system from Debian packages (debootstrap: cwltool, the Kubernetes client,
# tenacity, Node.js for CWL expressions), Calrissian installed into it from
# its source tarball with pip (no network, no dependencies: Debian has them),
# then one layer committed with buildah.
#
#   scripts/calrissian-image.sh TARBALL [IMAGE]
#   scripts/calrissian-image.sh pypi [IMAGE]
#
# TARBALL is a Calrissian source release whose setup.py pins match Debian
# bookworm's packages (0.14.0 with the Debian patch). `pypi` installs
# calrissian==0.14.0 from PyPI instead, with the exact versions it pins
# (cwltool among them: Calrissian checks its pins on every run), over the
# Debian packages. IMAGE defaults to
# localhost/cwlbuild/calrissian:0.14.0 in local containers storage. About two
# minutes on two cores; needs root (debootstrap).
set -euo pipefail
src=${1:?usage: $0 TARBALL [IMAGE]}
image=${2:-localhost/cwlbuild/calrissian:0.14.0}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$src" = pypi ] || [ -f "$src" ] || { echo "calrissian-image: $src: no such file" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "calrissian-image: needs root (debootstrap)" >&2; exit 1; }
for cmd in debootstrap buildah; do
  command -v "$cmd" >/dev/null || { echo "calrissian-image: $cmd is missing: run scripts/setup.sh" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rootfs=$tmp/rootfs
# PyPI first: where it is out of reach, say so before a minute of debootstrap.
if [ "$src" = pypi ] && ! /usr/bin/python3 -m pip download --quiet --no-deps --timeout 20 -d "$tmp/pypi" calrissian==0.14.0 >/dev/null 2>&1; then
  echo "calrissian-image: calrissian==0.14.0 cannot be downloaded from PyPI here" >&2
  exit 1
fi
echo "calrissian-image: debootstrap bookworm from $mirror (about a minute)" >&2
# python3-cffi-backend is named because debootstrap does not resolve the
# virtual package python3-cryptography depends on.
debootstrap --variant=minbase \
  --include=cwltool,python3-kubernetes,python3-tenacity,python3-cffi-backend,nodejs \
  bookworm "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
  { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }

# /usr/bin/python3: the Debian interpreter, the image's own version (a
# python3 earlier on PATH may be another one that sees no Debian packages).
if [ "$src" = pypi ]; then
  echo "calrissian-image: installing calrissian==0.14.0 and its pins from PyPI" >&2
  /usr/bin/python3 -m pip install --quiet --ignore-installed --root "$rootfs" --prefix /usr \
    --break-system-packages --no-warn-script-location calrissian==0.14.0
  label=calrissian-0.14.0
else
  echo "calrissian-image: installing $(basename "$src")" >&2
  mkdir "$tmp/src"
  tar -xzf "$src" -C "$tmp/src" --strip-components=1
  (cd "$tmp/src" && /usr/bin/python3 -m pip install --quiet --no-deps --no-build-isolation --no-index \
    --root "$rootfs" --prefix /usr --break-system-packages --no-warn-script-location .)
  label=$(basename "$src" .tar.gz)
fi
[ -x "$rootfs/usr/bin/calrissian" ] || [ -x "$rootfs/usr/local/bin/calrissian" ] ||
  { echo "calrissian-image: pip installed no calrissian program" >&2; exit 1; }

# What a container never reads: package lists and caches, documentation,
# locales, bytecode (rebuilt on demand).
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/usr/share/{man,info,doc,locale} "$rootfs"/var/log/*
find "$rootfs" -name __pycache__ -type d -prune -exec rm -rf {} +

echo "calrissian-image: committing $image" >&2
ctr=$(buildah from scratch)
buildah copy --quiet "$ctr" "$rootfs" / >/dev/null
buildah config --cmd calrissian --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --label org.opencontainers.image.title=calrissian \
  --label org.opencontainers.image.version="$label" "$ctr"
buildah commit --quiet --rm "$ctr" "$image" >/dev/null
echo "calrissian-image: $image" >&2

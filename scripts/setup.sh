#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian machine, as root,
# in two tiers:
#   scripts/setup.sh demo   what `go tool task demo` uses: the Debian packages of
#                           the local engines (buildah, podman, a registry,
#                           cwltool), the podman configuration that works on these
#                           kernels, the busybox base image, Skaffold and go-task
#   scripts/setup.sh [all]  that, and what the full tests and the cluster demo
#                           use: the Kaniko and Calrissian images, buildkitd,
#                           cosign, act, oras and the test cluster's Kubernetes
#                           binaries
# Safe to run again; it does nothing that is already done. Each step says what
# it makes and, when it ends, how long it took; the whole ends with a summary.
set -euo pipefail
cd "$(dirname "$0")/.."

tier=${1:-all}
case "$tier" in
  demo | all) ;;
  *) echo "usage: scripts/setup.sh [demo|all]" >&2; exit 2 ;;
esac
started=$SECONDS
summary=()
# timed NAME: the time since the last mark goes to the summary under NAME.
mark=$SECONDS
timed() {
  local took=$((SECONDS - mark))
  summary+=("$(printf '%-34s %4ds' "$1" "$took")")
  ((took < 2)) || echo "setup: $1: ${took}s"
  mark=$SECONDS
}
finish() {
  echo "setup: done ($tier tier, $((SECONDS - started))s):"
  printf 'setup:   %s\n' "${summary[@]}"
}

packages=(buildah podman runc docker-registry cwltool busybox-static skopeo jq ca-certificates curl)
if [ "$tier" = all ]; then
  packages+=(etcd-server containerd containernetworking-plugins apache2-utils iproute2 iptables openssl
    python3-kubernetes python3-tenacity python3-pip debootstrap qemu-user-static)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
timed "Debian packages"

# podman as root on hybrid cgroups: runc, cgroupfs, no default ulimits.
if [ -w /etc/containers ] || [ "$(id -u)" = 0 ]; then
  mkdir -p /etc/containers/registries.conf.d
  conf=/etc/containers/containers.conf
  if ! grep -q 'cgroup_manager = "cgroupfs"' "$conf" 2>/dev/null; then
    echo "setup: writing $conf"
    cat >"$conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
  fi
  reg=/etc/containers/registries.conf.d/50-cwlbuild-local.conf
  if [ ! -f "$reg" ]; then
    echo "setup: marking the local test registries insecure in $reg"
    cat >"$reg" <<'CONF'
[[registry]]
location = "localhost:5000"
insecure = true

[[registry]]
location = "127.0.0.1:5000"
insecure = true
CONF
  fi
fi

# No base image can be pulled from the internet here: make busybox:1.36 from
# Debian's static busybox, under the name Dockerfiles use, in local storage.
base=docker.io/library/busybox:1.36
if ! podman image exists "$base" 2>/dev/null; then
  echo "setup: making $base from /bin/busybox"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/tmp" "$tmp/rootfs/etc"
  cp /bin/busybox "$tmp/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$tmp/rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$tmp/rootfs/etc/passwd"
  chmod 1777 "$tmp/rootfs/tmp"
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["sh"]\n' >"$tmp/Dockerfile"
  buildah bud --quiet --isolation chroot -t "$base" "$tmp" >/dev/null
  rm -rf "$tmp"
fi
timed "podman config, busybox base"

# Skaffold (pinned in scripts/skaffold/go.mod) and go-task (in go.mod) are Go
# tools; building them once fills the Go build cache (Skaffold takes several
# minutes the first time). Skaffold is built static, and only so: the demo's
# `task bin`, the tests (`go tool skaffold`) and the CI job's Kaniko image
# (TestGitLabRecipe) all take that build from the cache (a build with cgo
# would compile its whole tree again, every package above net).
echo "setup: building Skaffold and go tool task (several minutes the first time)"
(cd scripts/skaffold && CGO_ENABLED=0 go tool -n skaffold >/dev/null)
go tool -n task >/dev/null
timed "Skaffold, go-task"
if [ "$tier" = demo ]; then
  finish
  exit 0
fi

# Images of another architecture: the kernel runs arm64 programs through
# Debian's static QEMU (binfmt_misc, registered with the F flag, so that
# RUN steps inside containers and chroots find it), and the busybox base
# exists for arm64 too, from Debian's arm64 busybox-static (no RUN step
# makes it). A kernel that refuses binfmt_misc is said plainly; the
# multi-platform tests then say what is missing.
binfmt=/proc/sys/fs/binfmt_misc
if [ "$(id -u)" = 0 ] && [ ! -e "$binfmt/register" ]; then
  mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null ||
    echo "setup: this kernel refuses to mount binfmt_misc: RUN steps of foreign platforms cannot run here"
fi
if [ -w "$binfmt/register" ] && [ ! -e "$binfmt/qemu-aarch64" ]; then
  echo "setup: registering QEMU for arm64 programs in $binfmt"
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register" 2>/dev/null ||
    echo "setup: this kernel refused the arm64 QEMU registration: RUN steps of arm64 images cannot run here"
fi
base_arm64=localhost/cwlbuild/busybox:1.36-arm64
if ! podman image exists "$base_arm64" 2>/dev/null; then
  echo "setup: making $base_arm64 from Debian's arm64 busybox-static"
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }
  tmp=$(mktemp -d)
  chmod 755 "$tmp" # apt downloads as its own user
  (cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null)
  dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/deb"
  mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/tmp" "$tmp/rootfs/etc"
  cp "$tmp/deb/bin/busybox" "$tmp/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$tmp/rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$tmp/rootfs/etc/passwd"
  chmod 1777 "$tmp/rootfs/tmp"
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCMD ["sh"]\n' >"$tmp/Dockerfile"
  buildah bud --quiet --isolation chroot --platform linux/arm64 -t "$base_arm64" "$tmp" >/dev/null
  rm -rf "$tmp"
fi
timed "arm64 emulation and base"

# The Kaniko executor, built from the Chainguard fork's Go module
# (scripts/kaniko pins it) and packed the way the executor's debug image is:
# /kaniko/executor, CA certificates, and busybox under /busybox.
kaniko=localhost/cwlbuild/kaniko:$(awk '$1 == "require" && $2 == "github.com/chainguard-dev/kaniko" {print $3; exit}' scripts/kaniko/go.mod)
if ! podman image exists "$kaniko" 2>/dev/null; then
  echo "setup: building the Kaniko executor image $kaniko (about 3 minutes the first time)"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/kaniko/ssl/certs" "$tmp/kaniko/.docker" "$tmp/busybox" "$tmp/workspace"
  (cd scripts/kaniko && CGO_ENABLED=0 go build -trimpath -o "$tmp/kaniko/executor" github.com/chainguard-dev/kaniko/cmd/executor)
  cp /etc/ssl/certs/ca-certificates.crt "$tmp/kaniko/ssl/certs/"
  cp /bin/busybox "$tmp/busybox/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$tmp/busybox/$applet"
  done
  cat >"$tmp/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY kaniko/ /kaniko/
COPY busybox/ /busybox/
COPY workspace/ /workspace/
ENV PATH=/usr/local/bin:/kaniko:/busybox SSL_CERT_DIR=/kaniko/ssl/certs DOCKER_CONFIG=/kaniko/.docker/ HOME=/root USER=root
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]
DOCKERFILE
  buildah bud --quiet --isolation chroot -t "$kaniko" "$tmp" >/dev/null
  rm -rf "$tmp"
fi
timed "Kaniko executor image"

# buildkitd, the daemon of the buildkit runtime, at the version
# scripts/buildkit pins, once per version (TestPluginBuildKit starts its own),
# and the image the cluster runs it from: buildkitd, buildctl (whose
# dial-stdio is how cwlbuild reaches the daemon's socket), Debian's runc
# with the libraries it links, CA certificates and busybox.
scripts/buildkitd.sh build
buildkit=$(scripts/buildkitd.sh image)
if ! podman image exists "$buildkit" 2>/dev/null; then
  echo "setup: making the buildkitd image $buildkit"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/root/usr/bin" "$tmp/root/bin" "$tmp/root/etc/ssl/certs" "$tmp/root/etc/buildkit" "$tmp/root/tmp" "$tmp/root/run" "$tmp/root/var/lib/buildkit"
  cp "$(scripts/buildkitd.sh path)" "$tmp/root/usr/bin/buildkitd"
  cp "$(scripts/buildkitd.sh path buildctl)" "$tmp/root/usr/bin/buildctl"
  cp /usr/sbin/runc "$tmp/root/usr/bin/runc"
  for lib in $(ldd /usr/sbin/runc | grep -o '/[^ ]*'); do
    mkdir -p "$tmp/root$(dirname "$lib")"
    cp -L "$lib" "$tmp/root$lib"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$tmp/root/etc/ssl/certs/"
  cp /bin/busybox "$tmp/root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$tmp/root/bin/$applet"
  done
  printf '[worker.oci]\n  enabled = true\n[worker.containerd]\n  enabled = false\n' >"$tmp/root/etc/buildkit/buildkitd.toml"
  chmod 1777 "$tmp/root/tmp"
  cat >"$tmp/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
ENV PATH=/usr/bin:/bin
ENTRYPOINT ["/usr/bin/buildkitd"]
DOCKERFILE
  buildah bud --quiet --isolation chroot -t "$buildkit" "$tmp" >/dev/null
  rm -rf "$tmp"
fi
timed "buildkitd and its image"

# Calrissian, which `cwlbuild test --engine cluster` runs as a Job, under the
# name the tests use. Three ways, the first that works:
#   1. $CWLBUILD_CALRISSIAN_SOURCE, a source tarball whose pins match Debian
#      bookworm (CI sets it; this machine reaches neither PyPI nor ghcr.io):
#      the image from Debian packages and that source;
#   2. Calrissian's published image ($CWLBUILD_CALRISSIAN_PUBLISHED), pulled
#      and tagged;
#   3. PyPI: the same Debian root with calrissian==0.14.0 and its pinned
#      dependencies from PyPI.
# Without any, the image is left out and `go tool task test` says so first,
# runs the rest, and names the tests it could not run at the end.
calrissian=localhost/cwlbuild/calrissian:0.14.0
published=${CWLBUILD_CALRISSIAN_PUBLISHED:-ghcr.io/duke-gcb/calrissian/calrissian:0.14.0}
if ! podman image exists "$calrissian" 2>/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: no Calrissian image: building it needs root"
  elif [ -n "${CWLBUILD_CALRISSIAN_SOURCE:-}" ]; then
    echo "setup: building the Calrissian image $calrissian from $CWLBUILD_CALRISSIAN_SOURCE (about two minutes)"
    scripts/calrissian-image.sh "$CWLBUILD_CALRISSIAN_SOURCE" "$calrissian"
  elif timeout 300 podman pull -q "$published" >/dev/null 2>&1; then
    echo "setup: Calrissian image $calrissian: pulled $published"
    podman tag "$published" "$calrissian"
  elif timeout 900 scripts/calrissian-image.sh pypi "$calrissian" 2>/dev/null; then
    echo "setup: Calrissian image $calrissian: built from PyPI"
  else
    echo "setup: no Calrissian image: neither CWLBUILD_CALRISSIAN_SOURCE (a source tarball), a pull of $published, nor PyPI worked here; the cluster test tests will be left out"
  fi
fi
timed "Calrissian image"

echo "setup: building cosign v2 and v3, act, go tool oras and cwlbuild-calrissian (several minutes the first time)"
# cosign, the independent verifier of what cwlbuild signs (the tests build
# it from scripts/cosign; this fills the build cache).
(cd scripts/cosign && CGO_ENABLED=0 go build -o /dev/null github.com/sigstore/cosign/v2/cmd/cosign)
# cosign v3, the second verifier: it reads the Sigstore bundle format too.
(cd scripts/cosign3 && CGO_ENABLED=0 go build -o /dev/null github.com/sigstore/cosign/v3/cmd/cosign)
# nektos/act, which runs README's GitHub Actions workflow with the action of
# the working tree (TestGitHubAction; this fills the build cache).
(cd scripts/act && CGO_ENABLED=0 go build -o /dev/null github.com/nektos/act)
# oras: the README's release recipe pulls a workflow with it.
go tool -n oras >/dev/null
# The Calrissian Job agent, a module of its own (client-go): the cluster
# tests build it (`task bin`) with the module proxy off.
(cd cmd/cwlbuild-calrissian && CGO_ENABLED=0 go build -o /dev/null .)
timed "cosign v2 and v3, act, oras, the agent"
# The single-node Kubernetes of scripts/cluster.sh: its binaries are built
# from the k8s.io/kubernetes module (about 20 minutes the first time).
if [ "$(id -u)" = 0 ]; then
  scripts/cluster.sh build
fi
timed "Kubernetes binaries"
finish

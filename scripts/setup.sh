#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine, as root:
# the Debian packages of the real engines, the podman configuration that works
# on these kernels (see ../shared/ENVIRONMENT.md), and the Go tools pinned in
# go.mod. Safe to run again; it does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(buildah podman runc docker-registry cwltool busybox-static skopeo jq)
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

# Skaffold and go-task are Go tools pinned in go.mod; building them once
# fills the Go build cache (Skaffold takes several minutes the first time).
echo "setup: building go tool skaffold and go tool task"
go tool -n skaffold >/dev/null
go tool -n task >/dev/null
echo "setup: done"

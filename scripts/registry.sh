#!/usr/bin/env bash
# Starts the local registry the demo pushes to: Debian's docker-registry on
# 127.0.0.1:5000 (plain HTTP, loopback only), storage under
# ${XDG_CACHE_HOME:-~/.cache}/cwlbuild/registry. Does nothing when a registry
# already answers there. `scripts/registry.sh stop` stops the one it started.
set -euo pipefail
addr=${REGISTRY_ADDR:-127.0.0.1:5000}
state=${XDG_CACHE_HOME:-$HOME/.cache}/cwlbuild/registry
mkdir -p "$state"

if [ "${1:-start}" = stop ]; then
  # Only the registry this script started: the saved pid may have been
  # reused by another process since.
  pid=$(cat "$state/pid" 2>/dev/null || true)
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "docker-registry serve $state/config.yml"; then
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid"
  exit 0
fi

up() { curl -fsS -o /dev/null "http://$addr/v2/" 2>/dev/null; }
if up; then
  echo "registry: already serving on $addr"
  exit 0
fi
cat >"$state/config.yml" <<CONF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: $addr
CONF
nohup docker-registry serve "$state/config.yml" >"$state/log" 2>&1 &
echo $! >"$state/pid"
for _ in $(seq 50); do
  up && { echo "registry: serving on $addr (storage $state/data)"; exit 0; }
  sleep 0.1
done
echo "registry: did not start on $addr; see $state/log" >&2
exit 1

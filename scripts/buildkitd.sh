#!/usr/bin/env bash
# The buildkitd of the buildkit runtime ([build.local] runtime = "buildkit"):
#   scripts/buildkitd.sh build    build buildkitd at the version scripts/buildkit
#                                 pins, once per version (a few minutes the first
#                                 time), into ${XDG_CACHE_HOME:-~/.cache}/cwlbuild/buildkit
#   scripts/buildkitd.sh start    start it as root with runc, its state under
#                                 ${XDG_CACHE_HOME:-~/.cache}/cwlbuild/buildkit/state
#                                 (the layer cache that survives between builds)
#                                 and its socket at unix:///run/cwlbuild-buildkit/buildkitd.sock,
#                                 the address cwlbuild builds with by default
#   scripts/buildkitd.sh stop | status
#   scripts/buildkitd.sh path [buildctl]   where the built program is
#   scripts/buildkitd.sh image    the name of the image the cluster runs it from
#                                 (scripts/setup.sh makes it)
# $BUILDKITD_STATE and $BUILDKITD_RUN start another daemon beside it, with
# its state and socket directory there.
# Registries on loopback are reached over plain HTTP, as Docker does; give
# others in $BUILDKITD_INSECURE (space-separated host[:port]).
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(awk '$1 == "require" && $2 == "github.com/moby/buildkit" {print $3; exit}' scripts/buildkit/go.mod)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/cwlbuild/buildkit
bin=$cache/$version/buildkitd
# buildctl too: in the cluster's image, `buildctl dial-stdio` is how cwlbuild
# reaches the daemon's socket (kube-pod://).
ctl=$cache/$version/buildctl
# The cluster's image; the number after the version counts changes to what
# scripts/setup.sh puts in it, so that a machine holding an older one makes
# the new one.
image=localhost/cwlbuild/buildkit:$version-2
# A daemon of another's (a bench's fresh one) sets both.
state=${BUILDKITD_STATE:-$cache/state}
run=${BUILDKITD_RUN:-/run/cwlbuild-buildkit}
sock=$run/buildkitd.sock

build() {
  [ -x "$bin" ] && [ -x "$ctl" ] && return 0
  echo "buildkitd: building buildkitd and buildctl $version (a few minutes the first time)"
  local src tmp prog
  src=$(go mod download -json "github.com/moby/buildkit@$version" | awk -F'"' '$2 == "Dir" {print $4}')
  [ -d "$src" ] || { echo "buildkitd: cannot download github.com/moby/buildkit@$version" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  cp -r "$src" "$tmp/src"
  chmod -R u+w "$tmp/src"
  mkdir -p "$(dirname "$bin")"
  for prog in buildkitd buildctl; do
    [ -x "$cache/$version/$prog" ] && continue
    (cd "$tmp/src" && CGO_ENABLED=0 go build -mod=mod -trimpath \
      -ldflags "-X github.com/moby/buildkit/version.Version=$version" -o "$tmp/$prog" "./cmd/$prog")
    mv "$tmp/$prog" "$cache/$version/$prog"
  done
}

running() {
  [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null && [ -S "$sock" ]
}

start() {
  if running; then
    echo "buildkitd: running at unix://$sock"
    return 0
  fi
  [ "$(id -u)" = 0 ] || { echo "buildkitd: starting it needs root (runc and overlay mounts)" >&2; exit 1; }
  build
  mkdir -p "$state" "$run"
  {
    echo '[worker.oci]'
    echo '  enabled = true'
    echo '  gc = true'
    echo '[worker.containerd]'
    echo '  enabled = false'
    for r in ${BUILDKITD_INSECURE:-}; do
      printf '[registry."%s"]\n  http = true\n' "$r"
    done
  } >"$run/buildkitd.toml"
  rm -f "$sock"
  setsid "$bin" --config "$run/buildkitd.toml" --root "$state" --addr "unix://$sock" \
    --otel-socket-path "$run/otel.sock" >"$state/buildkitd.log" 2>&1 </dev/null &
  echo $! >"$run/pid"
  for _ in $(seq 1 100); do
    if [ -S "$sock" ]; then
      echo "buildkitd: running at unix://$sock (log: $state/buildkitd.log)"
      return 0
    fi
    kill -0 "$(cat "$run/pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "buildkitd: did not start; its log ($state/buildkitd.log) ends:" >&2
  tail -20 "$state/buildkitd.log" >&2
  exit 1
}

stop() {
  if [ -f "$run/pid" ]; then
    local pid
    pid=$(cat "$run/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    rm -f "$run/pid" "$sock"
  fi
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  status)
    if running; then echo "buildkitd: running at unix://$sock"; else echo "buildkitd: not running"; exit 1; fi
    ;;
  path)
    case "${2:-buildkitd}" in
      buildkitd) echo "$bin" ;;
      buildctl) echo "$ctl" ;;
      *) echo "usage: scripts/buildkitd.sh path [buildkitd|buildctl]" >&2; exit 2 ;;
    esac
    ;;
  image) echo "$image" ;;
  *) echo "usage: scripts/buildkitd.sh build|start|stop|status|path|image" >&2; exit 2 ;;
esac

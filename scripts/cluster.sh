#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, for the cluster build path
# (Skaffold's Kaniko pods). No systemd and no Docker: every daemon is a
# background process under one state directory, with a pid file each.
#
#   scripts/cluster.sh build   only build the Kubernetes binaries (scripts/setup.sh does)
#   scripts/cluster.sh up      start it (or reuse a running one); prints the kubeconfig
#   scripts/cluster.sh env     prints the variables a build needs, as shell assignments
#   scripts/cluster.sh status  says which parts run
#   scripts/cluster.sh down    stops exactly what `up` started, removes the bridge
#
# Parts: Kubernetes v1.31.4 (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy) built from the k8s.io/kubernetes Go
# module pinned in scripts/cluster/go.mod; Debian's etcd, containerd, runc and
# CNI plugins; a bridge (cwlbr0, 10.244.0.1/24) that pods reach the host
# through. The apiserver listens on that address and kube-proxy routes the
# service address 10.96.0.1 to it, so pods reach the API the way they do in
# any cluster (Calrissian's Jobs talk to it). Two registries on the bridge
# address, which pods can reach (127.0.0.1 they cannot):
#   10.244.0.1:5001  images the cluster pulls (pause, busybox, the Kaniko
#                    executor, base images), anonymous
#   10.244.0.1:5002  where builds push; htpasswd login required
# Needs root (containerd, kubelet, the bridge). State: $CWLBUILD_CLUSTER_DIR
# (default /var/lib/cwlbuild-cluster).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
S=${CWLBUILD_CLUSTER_DIR:-/var/lib/cwlbuild-cluster}
BRIDGE=cwlbr0
NODE_IP=10.244.0.1
POD_CIDR=10.244.0.0/24
NODE=cwlbuild-node
MIRROR=$NODE_IP:5001
PUSH=$NODE_IP:5002
PUSH_USER=cwlbuild
K8S=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
# The executor's version is the one scripts/kaniko/go.mod builds.
KANIKO_VERSION=$(awk '$1 == "require" && $2 == "github.com/chainguard-dev/kaniko" {print $3; exit}' "$(dirname "$0")/kaniko/go.mod")
KANIKO_IMAGE=localhost/cwlbuild/kaniko:$KANIKO_VERSION
# buildkitd's image (scripts/setup.sh makes it), at scripts/buildkit's version.
BUILDKIT_IMAGE=$("$(dirname "$0")/buildkitd.sh" image)
BUSYBOX_IMAGE=docker.io/library/busybox:1.36
# Calrissian's image (scripts/setup.sh builds it when it has the source).
CALRISSIAN_IMAGE=localhost/cwlbuild/calrissian:0.14.0

log() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }

# running NAME: the process of NAME's pid file is alive and is NAME's program.
running() {
  local pid
  pid=$(cat "$S/run/$1.pid" 2>/dev/null) || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  case "$(tr '\0' ' ' <"/proc/$pid/cmdline")" in *"$2"*) return 0 ;; esac
  return 1
}

# start NAME MATCH ARGV...: runs ARGV in the background, output to
# $S/log/NAME.log, and records its pid; nothing when it already runs.
start() {
  local name=$1 match=$2
  shift 2
  if running "$name" "$match"; then return 0; fi
  log "starting $name"
  setsid "$@" >>"$S/log/$name.log" 2>&1 </dev/null &
  echo $! >"$S/run/$name.pid"
}

wait_for() { # wait_for WHAT SECONDS COMMAND...
  local what=$1 secs=$2
  shift 2
  for _ in $(seq $((secs * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what did not come up in ${secs}s; logs in $S/log"
}

build_binaries() {
  local missing=()
  for b in "${K8S[@]}"; do [ -x "$S/bin/$b" ] || missing+=("k8s.io/kubernetes/cmd/$b"); done
  ((${#missing[@]})) || return 0
  log "building ${missing[*]##*/} from scripts/cluster (about 20 minutes the first time)"
  (cd "$repo/scripts/cluster" && CGO_ENABLED=0 go build -trimpath -o "$S/bin/" "${missing[@]}")
}

keys() {
  [ -f "$S/pki/sa.key" ] || {
    openssl genrsa -out "$S/pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$S/pki/sa.key" -pubout -out "$S/pki/sa.pub" 2>/dev/null
  }
  [ -f "$S/pki/admin.token" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$S/pki/admin.token"
  printf '%s,admin,admin,system:masters\n' "$(cat "$S/pki/admin.token")" >"$S/pki/tokens.csv"
  chmod 600 "$S/pki/"*
  cat >"$S/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cwlbuild
  cluster:
    server: https://$NODE_IP:6443
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: $(cat "$S/pki/admin.token")
contexts:
- name: cwlbuild
  context: {cluster: cwlbuild, user: admin}
current-context: cwlbuild
EOF
  chmod 600 "$S/kubeconfig"
}

bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  # (not `ip | grep -q`: under pipefail grep's early exit fails the pipe)
  case "$(ip addr show dev "$BRIDGE")" in
  *"inet $NODE_IP/"*) ;;
  *) ip addr add "$NODE_IP/24" dev "$BRIDGE" ;;
  esac
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1 || true
  mkdir -p "$S/cni"
  cat >"$S/cni/10-cwlbuild.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "cwlbuild", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$S/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
}

registries() {
  [ -f "$S/registry/push.password" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$S/registry/push.password"
  chmod 600 "$S/registry/push.password"
  htpasswd -Bbn "$PUSH_USER" "$(cat "$S/registry/push.password")" >"$S/registry/htpasswd"
  local name addr auth
  for name in mirror push; do
    addr=$MIRROR auth=""
    if [ $name = push ]; then
      addr=$PUSH
      auth="auth:
  htpasswd:
    realm: cwlbuild
    path: $S/registry/htpasswd"
    fi
    cat >"$S/registry/$name.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $S/registry/$name
  delete:
    enabled: true
http:
  addr: $addr
$auth
EOF
    start "registry-$name" "$S/registry/$name.yml" docker-registry serve "$S/registry/$name.yml"
  done
  wait_for "registry $MIRROR" 10 curl -fsS "http://$MIRROR/v2/"
  wait_for "registry $PUSH" 10 sh -c "curl -sS -o /dev/null -w '%{http_code}' http://$PUSH/v2/ | grep -q 401"
  # podman, buildah, skopeo and cwltool reach both over plain HTTP.
  if [ -d /etc/containers/registries.conf.d ]; then
    cat >/etc/containers/registries.conf.d/60-cwlbuild-cluster.conf <<EOF
[[registry]]
location = "$MIRROR"
insecure = true

[[registry]]
location = "$PUSH"
insecure = true
EOF
  fi
}

# seed_images pushes what the cluster pulls to the mirror: the sandbox
# ("pause") image, busybox (Skaffold's and Calrissian's init container and
# the samples' base image, under Docker Hub's path library/busybox), the
# Kaniko executor, buildkitd and Calrissian (when setup built it).
seed_images() {
  if ! skopeo inspect --tls-verify=false "docker://$MIRROR/cwlbuild/pause:1" >/dev/null 2>&1; then
    log "making the sandbox image $MIRROR/cwlbuild/pause:1"
    local tmp
    tmp=$(mktemp -d)
    mkdir -p "$tmp/rootfs/bin"
    cp /bin/busybox "$tmp/rootfs/bin/busybox"
    printf 'FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]\n' >"$tmp/Containerfile"
    buildah bud --quiet --isolation chroot -f "$tmp/Containerfile" -t "$MIRROR/cwlbuild/pause:1" "$tmp" >/dev/null
    rm -rf "$tmp"
    podman push --quiet --tls-verify=false "$MIRROR/cwlbuild/pause:1"
  fi
  local pair src dst
  for pair in "$BUSYBOX_IMAGE=$MIRROR/library/busybox:1.36" "$KANIKO_IMAGE=$MIRROR/cwlbuild/kaniko:$KANIKO_VERSION" \
    "$BUILDKIT_IMAGE=$MIRROR/cwlbuild/buildkit:${BUILDKIT_IMAGE##*:}"; do
    src=${pair%%=*} dst=${pair#*=}
    skopeo inspect --tls-verify=false "docker://$dst" >/dev/null 2>&1 && continue
    podman image exists "$src" || die "$src is not in local storage: run scripts/setup.sh"
    log "pushing $src to $dst"
    podman push --quiet --tls-verify=false "$src" "docker://$dst"
  done
  if podman image exists "$CALRISSIAN_IMAGE" && ! skopeo inspect --tls-verify=false "docker://$MIRROR/cwlbuild/calrissian:0.14.0" >/dev/null 2>&1; then
    log "pushing $CALRISSIAN_IMAGE to $MIRROR/cwlbuild/calrissian:0.14.0"
    podman push --quiet --tls-verify=false "$CALRISSIAN_IMAGE" "docker://$MIRROR/cwlbuild/calrissian:0.14.0"
  fi
}

containerd_up() {
  mkdir -p "$S/containerd"
  cat >"$S/containerd/config.toml" <<EOF
version = 2
root = "$S/containerd/root"
state = "$S/containerd/state"
[grpc]
  address = "$S/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$MIRROR/cwlbuild/pause:1"
  # These VMs lack CAP_SYS_RESOURCE: lowering oom_score_adj fails every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$S/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$MIRROR"]
    endpoint = ["http://$MIRROR"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$PUSH"]
    endpoint = ["http://$PUSH"]
EOF
  start containerd "$S/containerd/config.toml" containerd --config "$S/containerd/config.toml"
  wait_for containerd 30 ctr --address "$S/containerd/containerd.sock" version
}

control_plane() {
  start etcd "$S/etcd" etcd --name cwlbuild --data-dir "$S/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster cwlbuild=http://127.0.0.1:2380
  wait_for etcd 30 curl -fsS http://127.0.0.1:2379/health
  # Privileged pods are allowed, as in most clusters: buildkitd's
  # StatefulSet (docs/cluster.md) runs as one.
  start kube-apiserver "$S/bin/kube-apiserver" "$S/bin/kube-apiserver" \
    --allow-privileged=true --etcd-servers http://127.0.0.1:2379 --bind-address "$NODE_IP" --advertise-address "$NODE_IP" \
    --secure-port 6443 --cert-dir "$S/pki/apiserver" --token-auth-file "$S/pki/tokens.csv" \
    --kubelet-preferred-address-types InternalIP \
    --authorization-mode RBAC --service-account-key-file "$S/pki/sa.pub" \
    --service-account-signing-key-file "$S/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.96.0.0/24
  wait_for kube-apiserver 90 kubectl --kubeconfig "$S/kubeconfig" get --raw /readyz
  start kube-controller-manager "$S/bin/kube-controller-manager" "$S/bin/kube-controller-manager" \
    --kubeconfig "$S/kubeconfig" --leader-elect=false --controllers '*,-nodeipam,-nodelifecycle' \
    --service-account-private-key-file "$S/pki/sa.key" --root-ca-file "$S/pki/apiserver/apiserver.crt"
  start kube-scheduler "$S/bin/kube-scheduler" "$S/bin/kube-scheduler" \
    --kubeconfig "$S/kubeconfig" --leader-elect=false
}

kubelet_up() {
  mkdir -p "$S/kubelet"
  cat >"$S/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
containerRuntimeEndpoint: unix://$S/containerd/containerd.sock
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
resolvConf: /etc/resolv.conf
# No DNS service runs in this cluster: pods ask the host's resolver.
clusterDNS: [$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf)]
clusterDomain: cluster.local
imageGCHighThresholdPercent: 100
evictionHard: {}
EOF
  start kubelet "$S/bin/kubelet" "$S/bin/kubelet" --config "$S/kubelet/config.yaml" \
    --kubeconfig "$S/kubeconfig" --node-ip "$NODE_IP" --hostname-override "$NODE" \
    --root-dir "$S/kubelet/root" --cert-dir "$S/kubelet/pki"
  wait_for "node $NODE" 120 sh -c "kubectl --kubeconfig '$S/kubeconfig' get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q True"
  # The node lifecycle controller is off (it needs a cloud of nodes to
  # judge), so nobody else lifts the taint a new node starts with.
  kubectl --kubeconfig "$S/kubeconfig" taint nodes "$NODE" node.kubernetes.io/not-ready:NoSchedule- >/dev/null 2>&1 || true
  # The service address of the API (10.96.0.1:443) leads to the apiserver
  # on the bridge; in iptables mode, the one Debian's kernel and iptables
  # give every machine of this kind.
  start kube-proxy "$S/bin/kube-proxy" "$S/bin/kube-proxy" --kubeconfig "$S/kubeconfig" \
    --hostname-override "$NODE" --cluster-cidr "$POD_CIDR" --proxy-mode iptables \
    --conntrack-max-per-core 0 --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256
  wait_for kube-proxy 60 sh -c "iptables -t nat -S KUBE-SERVICES | grep -q 10.96.0.1/32"
  wait_for "service account default" 60 kubectl --kubeconfig "$S/kubeconfig" get serviceaccount default -n default
}

print_env() {
  cat <<EOF
KUBECONFIG=$S/kubeconfig
CLUSTER_MIRROR=$MIRROR
CLUSTER_PUSH_REGISTRY=$PUSH
CLUSTER_PUSH_USER=$PUSH_USER
CLUSTER_PUSH_PASSWORD_FILE=$S/registry/push.password
CLUSTER_KANIKO_IMAGE=$MIRROR/cwlbuild/kaniko:$KANIKO_VERSION
CLUSTER_INIT_IMAGE=$MIRROR/library/busybox:1.36
CLUSTER_BUILDKIT_IMAGE=$MIRROR/cwlbuild/buildkit:${BUILDKIT_IMAGE##*:}
EOF
  # Calrissian's image, pinned by digest as project.toml must name it;
  # empty when setup had no Calrissian source to build it from.
  local digest=""
  digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$MIRROR/cwlbuild/calrissian:0.14.0" 2>/dev/null) || digest=""
  echo "CLUSTER_CALRISSIAN_IMAGE=${digest:+$MIRROR/cwlbuild/calrissian:0.14.0@$digest}"
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root: containerd, the kubelet and the bridge do"
  for cmd in etcd containerd runc ctr docker-registry htpasswd kubectl openssl skopeo podman buildah iptables; do
    command -v "$cmd" >/dev/null || die "$cmd is missing: run scripts/setup.sh"
  done
  [ -x /usr/lib/cni/bridge ] || die "CNI plugins are missing: run scripts/setup.sh"
  mkdir -p "$S/bin" "$S/run" "$S/log" "$S/pki/apiserver" "$S/registry"
  build_binaries
  keys
  bridge
  registries
  seed_images
  containerd_up
  control_plane
  kubelet_up
  log "ready: node $NODE, kubeconfig $S/kubeconfig"
  echo "$S/kubeconfig"
}

status() {
  local rc=0 name match
  for pair in etcd:"$S/etcd" kube-apiserver:kube-apiserver kube-controller-manager:kube-controller-manager \
    kube-scheduler:kube-scheduler containerd:containerd kubelet:kubelet kube-proxy:kube-proxy registry-mirror:mirror.yml registry-push:push.yml; do
    name=${pair%%:*} match=${pair#*:}
    if running "$name" "$match"; then echo "$name: running (pid $(cat "$S/run/$name.pid"))"; else echo "$name: stopped"; rc=1; fi
  done
  return $rc
}

stop() { # stop NAME MATCH: TERM, then KILL after 10 s
  local pid
  running "$1" "$2" || { rm -f "$S/run/$1.pid"; return 0; }
  pid=$(cat "$S/run/$1.pid")
  log "stopping $1 (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$S/run/$1.pid"
}

down() {
  [ -d "$S/run" ] || { log "nothing to stop"; return 0; }
  stop kube-proxy kube-proxy
  stop kubelet kubelet
  # The pods' containers run under shims of our containerd: they are known by
  # its socket path, which no other containerd uses.
  pkill -9 -f "containerd-shim-runc-v2 .*-address $S/containerd/containerd.sock" 2>/dev/null || true
  stop containerd "$S/containerd/config.toml"
  stop kube-scheduler kube-scheduler
  stop kube-controller-manager kube-controller-manager
  stop kube-apiserver kube-apiserver
  stop etcd "$S/etcd"
  stop registry-push push.yml
  stop registry-mirror mirror.yml
  # Volumes and root filesystems the kubelet and containerd mounted.
  awk -v s="$S/" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  # kube-proxy's rules lead to an address that no longer exists.
  "$S/bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  rm -f /etc/containers/registries.conf.d/60-cwlbuild-cluster.conf
  log "stopped; state kept in $S (remove it to start afresh)"
}

case "${1:-}" in
build)
  mkdir -p "$S/bin"
  build_binaries
  ;;
up) up ;;
down) down ;;
env) print_env ;;
status) status ;;
*)
  echo "usage: $0 build|up|down|env|status" >&2
  exit 2
  ;;
esac

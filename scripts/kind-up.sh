#!/usr/bin/env bash
# k8ts inside Kubernetes, on a local kind cluster (make kind-up; make kind-down). Steps:
#   1. check the tools: kind, kubectl, node, and docker (with a running engine) or podman
#   2. build k8ts (npm ci when node_modules is missing, then make build): the CLI and
#      scripts/gen-secrets.sh run from the build
#   3. create the kind cluster (deploy/kind/cluster.yaml: one control-plane, two workers),
#      or reuse it when it exists
#   4. build the images (scripts/images.sh) and load them into the cluster's nodes
#   5. generate the keys and tokens (scripts/gen-secrets.sh, one node token per kind node)
#   6. apply the overlay (kubectl apply -k deploy/k8s/overlays/$K8TS_OVERLAY) and wait for the
#      rollout of every component
#   7. port-forward the apiserver to 127.0.0.1:$K8TS_APISERVER_PORT (left running; its pid is
#      in .k8ts/kind/<cluster>/port-forward.pid) and run `k8ts get nodes` through it
#
#   scripts/kind-up.sh            all of the above
#   scripts/kind-up.sh --down     stop the port-forward and delete the kind cluster
#
# K8TS_OVERLAY (dev | ha, default dev), K8TS_KIND_CLUSTER (default k8ts),
# K8TS_APISERVER_PORT (default 16443), K8TS_ROLLOUT_TIMEOUT (default 600s),
# K8TS_SKIP_IMAGES=1 (the images are built and loaded already). See deploy/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

cluster="${K8TS_KIND_CLUSTER:-k8ts}"
overlay="${K8TS_OVERLAY:-dev}"
port="${K8TS_APISERVER_PORT:-16443}"
timeout="${K8TS_ROLLOUT_TIMEOUT:-600s}"
ns=k8ts-system
ctx="kind-$cluster"
state=".k8ts/kind/$cluster"
pidfile="$state/port-forward.pid"
services=(store apiserver scheduler controller-manager kubelet proxy)

say() { echo "kind-up: $*"; }
die() { echo "kind-up: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

mode=up
case "${1:-}" in
  "") ;;
  --down) mode=down ;;
  -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "kind-up: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

# The container engine kind runs its nodes in: docker, else podman (kind's podman provider).
provider=""
if have docker && docker info >/dev/null 2>&1; then provider=docker
elif have podman; then provider=podman; export KIND_EXPERIMENTAL_PROVIDER=podman
fi

stop_port_forward() {
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile")"
  # Only our own kubectl port-forward, never whatever reused the pid.
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "port-forward"; then
    kill "$pid" 2>/dev/null || true
    say "stopped the apiserver port-forward (pid $pid)"
  fi
  rm -f "$pidfile"
}

if [ "$mode" = down ]; then
  stop_port_forward
  have kind || die "kind is not installed, so there is no kind cluster to delete (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
  [ -n "$provider" ] || die "no container engine answers (docker info failed, no podman): kind cannot reach its cluster"
  if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
    kind delete cluster --name "$cluster"
    say "deleted the kind cluster \"$cluster\"; the keys and tokens stay in deploy/k8s/secrets (scripts/gen-secrets.sh --rotate renews them)"
  else
    say "there is no kind cluster \"$cluster\""
  fi
  exit 0
fi

# 1. Tools: report everything that is missing at once.
missing=()
have kind || missing+=("kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (a single binary; e.g. go install sigs.k8s.io/kind@latest)")
have kubectl || missing+=("kubectl (1.27 or later, for gRPC probes and kustomize v5): https://kubernetes.io/docs/tasks/tools/")
have node || missing+=("node (Node.js 20 or later) and npm: https://nodejs.org/")
if [ -z "$provider" ]; then
  if have docker; then
    missing+=("a running container engine: the docker client is installed but no docker engine answers (is the daemon running? can this user reach /var/run/docker.sock?); podman works too")
  else
    missing+=("docker (https://docs.docker.com/engine/install/) or podman: kind runs its nodes as containers, and the images are built with it")
  fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "kind-up: cannot start: missing" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  echo "kind-up: nothing was changed. deploy/README.md lists every step for doing it by hand." >&2
  exit 1
fi
case "$overlay" in
  dev | ha) ;;
  *) [ -d "deploy/k8s/overlays/$overlay" ] || die "no overlay deploy/k8s/overlays/$overlay (K8TS_OVERLAY: dev or ha)" ;;
esac

# 2. Build: the CLI and the secrets generator run from dist/.
if [ ! -d node_modules ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi
say "building k8ts (npm run gen, scripts/build.js)"
npm run --silent gen
node scripts/build.js

# 3. The cluster.
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  say "using the existing kind cluster \"$cluster\""
else
  say "creating the kind cluster \"$cluster\" (deploy/kind/cluster.yaml)"
  kind create cluster --name "$cluster" --config deploy/kind/cluster.yaml --wait 180s
fi
kubectl --context "$ctx" get nodes >/dev/null || die "kubectl cannot reach the kind cluster (context $ctx)"

# 4. Images.
images=()
for s in "${services[@]}"; do images+=("k8ts/$s:dev"); done
if [ "${K8TS_SKIP_IMAGES:-0}" = 1 ]; then
  say "K8TS_SKIP_IMAGES=1: not building or loading images"
else
  K8TS_IMAGE_TAG=dev K8TS_IMAGE_PREFIX=k8ts/ scripts/images.sh
  say "loading the images into the kind nodes"
  if [ "$provider" = docker ]; then
    kind load docker-image --name "$cluster" "${images[@]}"
  else
    # podman names local images localhost/...; the manifests ask for docker.io/k8ts/...
    archive="$(mktemp -d)/k8ts-images.tar"
    for i in "${images[@]}"; do podman tag "$i" "docker.io/$i"; done
    podman save -o "$archive" $(printf 'docker.io/%s ' "${images[@]}")
    kind load image-archive --name "$cluster" "$archive"
    rm -rf "$(dirname "$archive")"
  fi
fi

# 5. Keys and tokens: one node token per node of the cluster.
nodes="$(kubectl --context "$ctx" get nodes -o jsonpath='{.items[*].metadata.name}' | tr ' ' ',')"
scripts/gen-secrets.sh --nodes "$nodes"

# 6. Apply and wait.
say "applying deploy/k8s/overlays/$overlay"
kubectl --context "$ctx" apply -k "deploy/k8s/overlays/$overlay"
say "waiting for the rollout (up to $timeout per component)"
for w in statefulset/nats deployment/store deployment/apiserver deployment/scheduler deployment/controller-manager daemonset/kubelet daemonset/proxy; do
  if ! kubectl --context "$ctx" -n "$ns" rollout status "$w" --timeout "$timeout"; then
    kubectl --context "$ctx" -n "$ns" get pods -o wide >&2 || true
    die "$w did not become ready: see kubectl --context $ctx -n $ns describe $w, and kubectl --context $ctx -n $ns logs $w"
  fi
done

# 7. The apiserver on 127.0.0.1:$port, and the CLI through it.
mkdir -p "$state"
stop_port_forward
kubectl --context "$ctx" -n "$ns" port-forward svc/apiserver "$port:6443" >"$state/port-forward.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$(cat "$pidfile")" 2>/dev/null || die "kubectl port-forward exited: $(cat "$state/port-forward.log")"
  sleep 0.2
done
token="$(cat deploy/k8s/secrets/admin.token)"
k8ts=(node cli/dist/main.js --server "127.0.0.1:$port" --token "$token")
say "k8ts get nodes (through the port-forward; kubelets register within a minute)"
want="$(echo "$nodes" | tr ',' ' ')"
out=""
for _ in $(seq 1 60); do
  if out="$("${k8ts[@]}" get nodes 2>&1)"; then
    ok=1
    for n in $want; do grep -q "$n" <<<"$out" || ok=0; done
    [ "$ok" = 1 ] && break
  fi
  sleep 2
done
echo "$out"
for n in $want; do grep -q "$n" <<<"$out" || die "node $n did not show up in k8ts get nodes; kubelet logs: kubectl --context $ctx -n $ns logs daemonset/kubelet"; done
cat <<EOF
kind-up: k8ts runs in the kind cluster "$cluster" (overlay $overlay, namespace $ns).
kind-up: the apiserver is forwarded to 127.0.0.1:$port (kubectl port-forward, pid $(cat "$pidfile"); make kind-down stops it). Try:
  node cli/dist/main.js --server 127.0.0.1:$port --token "\$(cat deploy/k8s/secrets/admin.token)" get nodes
EOF

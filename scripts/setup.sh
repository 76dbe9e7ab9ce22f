#!/usr/bin/env bash
# Installs what k8ts needs on a fresh Debian/Ubuntu machine, then the npm dependencies.
#   nats-server 2.10 or later (the replicated log and the watch bus): the machine's when it is
#   new enough, else Debian 13's package fetched into .tools by scripts/nats-server.sh;
#   system packages: etcd-client and etcd-server
#   (compatibility tests and side-by-side benchmarks), haproxy (the proxy benchmark's
#   baseline), protoc with the gRPC Python plugin and
#   python3-grpcio (cross-language client checks), python3-kubernetes (the HTTP API's
#   Python client checks).
# Missing packages are installed with apt-get (as root, or through sudo when available).
# Set K8TS_SETUP_SYSTEM=0 to skip the system packages (for example on a machine you do not
# administer); `make test` then tells you which binary is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
have_cmd etcdctl || need+=(etcd-client)
have_cmd etcd || need+=(etcd-server)
have_cmd protoc || need+=(protobuf-compiler)
# protoc's well-known types (google/protobuf/*.proto) come with libprotobuf-dev, a Recommends.
[ -f /usr/include/google/protobuf/timestamp.proto ] || need+=(libprotobuf-dev)
have_cmd grpc_python_plugin || need+=(protobuf-compiler-grpc)
/usr/bin/python3 -c 'import grpc, google.protobuf' >/dev/null 2>&1 || need+=(python3-grpcio python3-protobuf)
# The Python Kubernetes client: one of the real clients the HTTP API is tested with.
/usr/bin/python3 -c 'import kubernetes' >/dev/null 2>&1 || need+=(python3-kubernetes)
have_cmd openssl || need+=(openssl)
have_cmd haproxy || need+=(haproxy)

if [ "${#need[@]}" -gt 0 ] && [ "${K8TS_SETUP_SYSTEM:-1}" != "0" ]; then
  echo "setup: installing system packages: ${need[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: need root (or sudo) to install: ${need[*]}" >&2
      exit 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

bash scripts/nats-server.sh >/dev/null

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
echo "setup: done"

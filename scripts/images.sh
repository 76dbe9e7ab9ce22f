#!/usr/bin/env bash
# Builds one container image per service (services/*/Dockerfile) with the first container
# engine that works: docker (with a running engine), podman, or buildah. Says so clearly
# when there is none; a docker client without an engine does not count.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${K8TS_IMAGE_TAG:-dev}"
engine=""
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine="docker build"
elif command -v podman >/dev/null 2>&1; then engine="podman build"
elif command -v buildah >/dev/null 2>&1; then engine="buildah bud"
fi
if [ -z "$engine" ]; then
  echo "images: no container engine here (docker without a running engine, no podman, no buildah)." >&2
  echo "images: the Dockerfiles are in services/*/Dockerfile; build them where an engine runs." >&2
  exit 1
fi
built=0
for df in services/*/Dockerfile; do
  [ -f "$df" ] || continue
  svc=$(basename "$(dirname "$df")")
  echo "images: building k8ts/$svc:$tag"
  $engine -f "$df" -t "k8ts/$svc:$tag" .
  built=$((built + 1))
done
echo "images: built $built image(s)"

#!/usr/bin/env bash
# Builds one container image per service (services/*/Dockerfile), k8ts/<service>:<tag>, from
# the repository root with the first container engine that works: docker (with a running
# engine), podman, or buildah. Says so clearly when there is none; a docker client without an
# engine does not count.
#
#   scripts/images.sh            build every image (make images)
#   scripts/images.sh --print    print the build commands and build nothing (no engine needed)
#
# K8TS_IMAGE_TAG (default dev) and K8TS_IMAGE_PREFIX (default k8ts/) name the images;
# K8TS_IMAGES="store apiserver" builds only those. Each image is labelled with the version of
# package.json and the git commit (K8TS_VERSION, K8TS_GIT_COMMIT, reported by InfoService).
# The six Dockerfiles share their build stage, so after the first image the others reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

print=0
case "${1:-}" in
  --print) print=1 ;;
  "") ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "images: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

tag="${K8TS_IMAGE_TAG:-dev}"
prefix="${K8TS_IMAGE_PREFIX:-k8ts/}"
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json | head -n 1)"
commit="$(git rev-parse HEAD 2>/dev/null || true)"

services=()
if [ -n "${K8TS_IMAGES:-}" ]; then
  for s in $K8TS_IMAGES; do
    [ -f "services/$s/Dockerfile" ] || { echo "images: no services/$s/Dockerfile" >&2; exit 2; }
    services+=("$s")
  done
else
  for df in services/*/Dockerfile; do
    [ -f "$df" ] && services+=("$(basename "$(dirname "$df")")")
  done
fi
[ "${#services[@]}" -gt 0 ] || { echo "images: no services/*/Dockerfile found" >&2; exit 1; }

engine=()
if [ "$print" = 1 ]; then engine=(docker build)
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine=(docker build)
elif command -v podman >/dev/null 2>&1; then engine=(podman build --layers)
elif command -v buildah >/dev/null 2>&1; then engine=(buildah bud --layers)
fi
if [ "${#engine[@]}" -eq 0 ]; then
  if command -v docker >/dev/null 2>&1; then
    echo "images: no container engine here: a docker client is installed but no docker engine answers (docker info failed), and there is no podman or buildah." >&2
  else
    echo "images: no container engine here: no docker, podman or buildah." >&2
  fi
  echo "images: the Dockerfiles are services/*/Dockerfile; build them where an engine runs (make images)," >&2
  echo "images: or see the commands with: scripts/images.sh --print" >&2
  exit 1
fi

built=0
for svc in "${services[@]}"; do
  cmd=("${engine[@]}" -f "services/$svc/Dockerfile" -t "$prefix$svc:$tag"
    --build-arg "K8TS_VERSION=$version" --build-arg "K8TS_GIT_COMMIT=$commit" .)
  if [ "$print" = 1 ]; then
    printf '%q ' "${cmd[@]}"
    echo
    continue
  fi
  echo "images: building $prefix$svc:$tag"
  "${cmd[@]}"
  built=$((built + 1))
done
[ "$print" = 1 ] || echo "images: built ${built} image(s): $(printf "$prefix%s:$tag " "${services[@]}")"

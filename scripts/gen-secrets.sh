#!/usr/bin/env bash
# Generates the keys, tokens and certificates of k8ts on Kubernetes into deploy/k8s/secrets/
# (gitignored), with the kustomization that makes them Secrets (the overlays in
# deploy/k8s/overlays include it) and a kubeconfig for kubectl over HTTPS.
# Keeps what exists; --rotate makes everything anew; --nodes a,b,c adds node tokens.
#   scripts/gen-secrets.sh [--out DIR] [--nodes a,b,c] [--rotate] [--namespace NS] [--issuer ISS]
#                          [--service-cidr CIDR] [--kubeconfig-server URL]
# It uses the apiserver's key and token helpers (services/apiserver/dist/auth) and the kit's
# NATS key helpers (packages/kit/dist/natsauth.js): `make build` first; and openssl for the
# cluster CA and the certificates it signs (the apiserver's, the store's, the admin's, ...).
# See deploy/README.md, "Secrets".
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null 2>&1 || { echo "gen-secrets: node (Node.js 20 or later) is not installed" >&2; exit 1; }
command -v openssl >/dev/null 2>&1 || { echo "gen-secrets: openssl is not installed (it makes the cluster's certificates)" >&2; exit 1; }
exec node deploy/gen-secrets.js "$@"

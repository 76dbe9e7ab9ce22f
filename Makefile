# k8ts: the two commands that matter on a fresh machine are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPX := npx --no-install

.PHONY: help setup gen build lint test test-unit test-integration up down bench images

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 22

setup: ## install system packages (nats-server, etcd, protoc, python grpc) and npm dependencies
	@scripts/setup.sh

gen: ## regenerate packages/api from proto/ (buf generate + ts-proto); never committed
	@npm run --silent gen

build: gen ## generate code and transpile every workspace to dist/
	@node scripts/build.js

lint: gen ## buf lint + buf format check, TypeScript strict type check, biome lint
	@if [ -n "$$CI" ]; then git diff --quiet -- proto || { git diff --stat -- proto; echo "lint: make gen changed proto/ (the generated services.proto files are stale): commit them" >&2; exit 1; }; fi
	@$(NPX) buf lint
	@$(NPX) buf format --diff --exit-code
	@$(NPX) tsc -p tsconfig.json --noEmit
	@$(NPX) biome lint --diagnostic-level=error
	@echo "lint: ok"

test: setup build ## install what is missing, then unit and integration tests (real nats-server, real processes)
	@$(NPX) jest --ci

test-unit: build ## unit tests only
	@$(NPX) jest --ci --selectProjects unit

test-integration: build ## integration tests only
	@$(NPX) jest --ci --selectProjects integration

up: ## install what is missing, build, and start a local 3-node cluster in the background (k8ts up --detach)
	@scripts/setup.sh
	@$(MAKE) --no-print-directory build
	@node cli/dist/main.js up --detach $(UP_FLAGS)

down: ## stop the local cluster started by make up
	@node cli/dist/main.js down

bench: build ## run every benchmark under bench/src (each also runs as make bench-<name>)
	@set -e; found=0; for f in bench/src/*.ts; do [ -f "$$f" ] || continue; found=1; \
	  node bench/dist/$$(basename $$f .ts).js; done; [ $$found = 1 ] || echo "bench: no benchmarks yet"

bench-%: build ## run one benchmark, bench/src/<name>.ts
	@test -f bench/src/$*.ts || { echo "no benchmark bench/src/$*.ts" >&2; exit 1; }
	@node bench/dist/$*.js

images: ## build one container image per service (needs docker, podman or buildah with an engine)
	@scripts/images.sh

# ---- k8ts on Kubernetes (deploy/README.md) ----
.PHONY: kind-up kind-down deploy-render deploy-validate

kind-up: ## k8ts on a local kind cluster: images, secrets, overlay K8TS_OVERLAY (dev|ha), rollout, k8ts get nodes
	@scripts/kind-up.sh

kind-down: ## stop the apiserver port-forward and delete the kind cluster
	@scripts/kind-up.sh --down

deploy-render: build ## print the manifests of overlay K8TS_OVERLAY (dev|ha); makes deploy/k8s/secrets when missing
	@test -f deploy/k8s/secrets/kustomization.yaml || scripts/gen-secrets.sh >&2
	@kubectl kustomize deploy/k8s/overlays/$${K8TS_OVERLAY:-dev}

deploy-validate: build ## render and check both overlays, the Dockerfiles and the build context offline (integration/deploy)
	@$(NPX) jest --ci --selectProjects integration -- integration/deploy

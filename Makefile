# FerroLB — see README.md. The two set-up commands are `make demo` and `make test`.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin

.PHONY: all build test unit vet bench demo clean k8s-bins

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# Builds (or reuses from ~/.cache/ferrolb) the pinned etcd, kube-apiserver
# and kube-proxy that the integration tests run against.
k8s-bins:
	@hack/build-k8s.sh >/dev/null

vet:
	$(GO) vet ./...

# The whole suite: generated files up to date, vet, unit and integration
# tests against a real API server.
test: verify-generated vet k8s-bins
	FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) test -count=1 -timeout 30m ./...

# Pure-core tests only (no API server).
unit:
	$(GO) test -count=1 ./internal/core/...

# Benchmarks: the allocator (Go benchmarks) and the controller's throughput
# and memory against the real API server; prints a table.
bench: k8s-bins build
	FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) run ./hack/bench

# A local API server, the controller, an example pool and Services.
demo: k8s-bins build
	FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) run ./hack/demo

clean:
	rm -rf $(BIN)

include hack/generate.mk

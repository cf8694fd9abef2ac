# FerroLB — see README.md. The two set-up commands are `make demo` and `make test`.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin

.PHONY: all build test unit vet bench demo clean k8s-bins deps manifests tools

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# Builds (or reuses from ~/.cache/ferrolb) the pinned etcd, kube-apiserver
# and kube-proxy that the integration tests run against.
k8s-bins:
	@hack/build-k8s.sh >/dev/null

# Debian packages for the lab (network namespaces, nftables, arping,
# ndisc6); installs them when missing (root).
deps:
	@hack/deps.sh

vet:
	$(GO) vet ./...

# Rendered manifests (config/manifests) and the chart's copies of the CRDs.
manifests:
	config/manifests/render.sh

# Pinned kustomize and helm (go install into ~/.cache/ferrolb/tools).
tools:
	@hack/tools.sh >/dev/null

# The whole suite: generated files up to date, vet, unit and integration
# tests against a real API server.
test: deps verify-generated vet k8s-bins
	FERROLB_REQUIRE_LAB=1 FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) test -count=1 -timeout 40m ./...

# Pure-core tests only (no API server).
unit:
	$(GO) test -count=1 ./internal/core/...

# Benchmarks, printed as tables: the allocator (Go benchmarks) and the
# controller's throughput and memory against the real API server
# (hack/bench), then layer 2 failover, scale and speaker memory in the lab
# (hack/benchl2), then BGP convergence, scale, BFD failover and speaker
# memory against FRR in the lab (hack/benchbgp).
bench: deps k8s-bins build
	FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) run ./hack/bench
	FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) run ./hack/benchl2
	FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) run ./hack/benchbgp

# A local cluster in network namespaces: API server, controller, speakers,
# kube-proxy, backends; an example pool and Services, and a client's curl.
demo: deps k8s-bins build
	FERROLB_K8S_BIN_DIR="$$(hack/build-k8s.sh)" $(GO) run ./hack/demo

clean:
	rm -rf $(BIN)

include hack/generate.mk

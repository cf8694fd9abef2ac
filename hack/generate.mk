# Code and manifest generation for the metallb.io API types. Included by the
# top-level Makefile.
#
#   make generate          regenerate deepcopy code and CRD manifests
#   make verify-generated  fail if the committed output is stale
#   make docs              regenerate docs/reference (CRD pages, flags)
#
# controller-gen is a Go tool dependency (see go.mod), so no download is
# needed.

CONTROLLER_GEN ?= go tool controller-gen
GEN_CRD_DIR := config/crd/bases
# One invocation writes zz_generated.deepcopy.go next to each API package
# and one CRD manifest per kind into the directory given last.
GEN_ARGS := object crd:crdVersions=v1 paths=./api/... output:crd:artifacts:config=

.PHONY: generate verify-generated docs

# The configuration reference under docs/reference, generated from the CRD
# schemas and the binaries' flags so it cannot drift.
docs:
	go run ./hack/crdref

generate:
	rm -f $(GEN_CRD_DIR)/metallb.io_*.yaml
	$(CONTROLLER_GEN) $(GEN_ARGS)$(GEN_CRD_DIR)
	config/manifests/render.sh
	go run ./hack/crdref

# Regenerates from a scratch copy of the API packages (the working tree is
# left untouched), then compares the result with the files in the tree.
verify-generated:
	@set -eu; \
	tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	cp go.mod go.sum "$$tmp"/; \
	cp -R api "$$tmp"/api; \
	find "$$tmp/api" \( -name 'zz_generated.*.go' -o -name '*_test.go' \) -delete; \
	mkdir -p "$$tmp/$(GEN_CRD_DIR)"; \
	(cd "$$tmp" && $(CONTROLLER_GEN) $(GEN_ARGS)$(GEN_CRD_DIR)); \
	ok=1; \
	diff -ru -x '*_test.go' -x 'testdata' api "$$tmp/api" || ok=0; \
	diff -ru $(GEN_CRD_DIR) "$$tmp/$(GEN_CRD_DIR)" || ok=0; \
	if [ "$$ok" = 0 ]; then echo "generated files are stale: run 'make generate'" >&2; exit 1; fi; \
	echo "generated files are up to date"

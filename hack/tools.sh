#!/usr/bin/env bash
# Installs pinned kustomize and helm with `go install` from the Go module
# proxy into a cache outside the clone, keyed by version, and prints the
# path of each binary asked for (one per line, in argument order).
# Idempotent: a binary already in the cache is reused as it is.
#
# Usage: hack/tools.sh kustomize          # print the kustomize path
#        hack/tools.sh helm               # print the helm path
#        hack/tools.sh                    # both (kustomize, then helm)
#
# Versions can be overridden with KUSTOMIZE_VERSION / HELM_VERSION; the
# cache root with FERROLB_TOOLS_DIR (default ~/.cache/ferrolb/tools).
set -euo pipefail

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.1}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# The Kubernetes minor version helm assumes without a cluster (helm's own
# Makefile derives it from its k8s.io/client-go, v0.37 for v3.22.0).
HELM_K8S_MINOR="${HELM_K8S_MINOR:-37}"
TOOLS_DIR="${FERROLB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ferrolb/tools}"

log() { echo "tools: $*" >&2; }

# install <name> <version> <package> [ldflags]: go install into
# $TOOLS_DIR/<name>-<version>/ and print the binary's path.
install() {
  local name="$1" version="$2" pkg="$3" ldflags="${4:-}"
  local dir="$TOOLS_DIR/$name-$version"
  local bin="$dir/$name"
  if [[ -x "$bin" ]]; then echo "$bin"; return 0; fi
  mkdir -p "$TOOLS_DIR"
  # One install at a time: test packages may ask concurrently. Bounded wait.
  exec 9>"$dir.lock"
  flock -w 1200 9 || { log "timed out waiting for another install of $name (lock $dir.lock)"; exit 1; }
  if [[ ! -x "$bin" ]]; then
    log "installing $name $version (go install $pkg@$version)"
    local tmp
    tmp="$(mktemp -d "$TOOLS_DIR/.$name-XXXXXX")"
    # Outside any module, with the local toolchain (no toolchain download),
    # no cgo: a static binary that runs on any Linux of this architecture.
    if ! (cd "$tmp" && GOBIN="$tmp" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS= \
          go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version" >&2); then
      rm -rf "$tmp"
      log "installing $name $version failed"
      exit 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    mv "$tmp/$name" "$bin"
    rm -rf "$tmp"
  fi
  exec 9>&-
  echo "$bin"
}

kustomize() {
  install kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5 \
    "-X sigs.k8s.io/kustomize/api/provenance.version=$KUSTOMIZE_VERSION"
}

helm() {
  install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION
     -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR
     -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR"
}

command -v go >/dev/null || { log "go is not installed"; exit 1; }
command -v flock >/dev/null || { log "flock (util-linux) is not installed"; exit 1; }

if [[ $# -eq 0 ]]; then set -- kustomize helm; fi
for tool in "$@"; do
  case "$tool" in
    kustomize) kustomize ;;
    helm) helm ;;
    *) log "unknown tool $tool (want kustomize or helm)"; exit 2 ;;
  esac
done

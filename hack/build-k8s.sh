#!/usr/bin/env bash
# Builds pinned etcd, kube-apiserver and kube-proxy from the Go module proxy and
# caches them outside the clone, keyed by version. Prints the directory that
# holds the binaries. Idempotent: a complete cache is reused as it is.
#
# Usage: hack/build-k8s.sh            # build (or reuse) and print the bin dir
#        K8S_BIN_DIR=... hack/build-k8s.sh
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
STAGING_VERSION="v0${K8S_VERSION#v1}"       # v1.34.4 -> v0.34.4
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/ferrolb"
BIN_DIR="${K8S_BIN_DIR:-$CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION}"
WANT=(etcd kube-apiserver kube-proxy)

complete() {
  for b in "${WANT[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
}

log() { echo "build-k8s: $*" >&2; }

if complete; then echo "$BIN_DIR"; exit 0; fi
mkdir -p "$BIN_DIR"
# One build at a time: test packages run in parallel and may all ask at once
# (they would otherwise write the same .tmp files). Bounded wait.
exec 9>"$BIN_DIR.lock"
flock -w 1800 9 || { log "timed out waiting for another build (lock $BIN_DIR.lock)"; exit 1; }
if complete; then echo "$BIN_DIR"; exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ ! -x "$BIN_DIR/etcd" ]]; then
  log "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd"
  (
    cd "$work/etcd"
    cat > go.mod <<MOD
module ferrolb.local/etcdbuild

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
MOD
    echo 'package tools' > tools.go
    echo 'import _ "go.etcd.io/etcd/server/v3"' >> tools.go
    GOFLAGS=-mod=mod go mod tidy >&2
    GOFLAGS=-mod=mod go build -trimpath -o "$BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
  )
fi

if [[ ! -x "$BIN_DIR/kube-apiserver" || ! -x "$BIN_DIR/kube-proxy" ]]; then
  log "building kube-apiserver and kube-proxy $K8S_VERSION (a few minutes when cold)"
  mkdir -p "$work/k8s"
  (
    cd "$work/k8s"
    go mod download -json "k8s.io/kubernetes@$K8S_VERSION" > dl.json
    upstream_mod="$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/go.mod"
    {
      echo "module ferrolb.local/k8sbuild"
      echo
      echo "go 1.24.0"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      grep -E '=> \./staging/src/' "$upstream_mod" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}'
      echo ")"
    } > go.mod
    printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-proxy"\n)\n' > tools.go
    GOFLAGS=-mod=mod go mod tidy >&2
    for b in kube-apiserver kube-proxy; do
      GOFLAGS=-mod=mod go build -trimpath -o "$BIN_DIR/$b.tmp" "k8s.io/kubernetes/cmd/$b"
      mv "$BIN_DIR/$b.tmp" "$BIN_DIR/$b"
    done
  )
fi

complete || { log "binaries missing after build"; exit 1; }
echo "$BIN_DIR"

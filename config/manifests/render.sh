#!/usr/bin/env bash
# Regenerates the rendered manifests (config/manifests/*.yaml) with the
# pinned kustomize, and copies the generated CRDs into the Helm chart.
# test/manifests checks that both are up to date.
#
# Usage: config/manifests/render.sh   (from anywhere in the clone)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
kustomize="$(hack/tools.sh kustomize)"

"$kustomize" build config/native > config/manifests/metallb-native.yaml
"$kustomize" build config/prometheus-native > config/manifests/metallb-native-prometheus.yaml

crds=charts/metallb/charts/crds/files
mkdir -p "$crds"
rm -f "$crds"/*.yaml
cp config/crd/bases/*.yaml "$crds"/
echo "rendered config/manifests and copied the CRDs to $crds" >&2

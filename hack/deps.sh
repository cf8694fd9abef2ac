#!/usr/bin/env bash
# Installs the Debian packages the lab and the end-to-end tests use
# (network namespaces, kube-proxy's nftables, ARP/NDP clients, and the BGP
# routers FRR, BIRD 2 and gobgpd), when one is missing.
# Needs root; prints what to install otherwise.
set -euo pipefail
PKGS=(iproute2 iputils-ping iputils-arping ndisc6 nftables conntrack tcpdump socat curl procps frr bird2 gobgpd)
TOOLS=(ip ping arping ndisc6 nft conntrack tcpdump socat curl sysctl /usr/lib/frr/bgpd bird gobgpd)
missing=()
for t in "${TOOLS[@]}"; do command -v "$t" >/dev/null 2>&1 || [[ -x "$t" ]] || missing+=("$t"); done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "deps: missing ${missing[*]}; as root run: apt-get install -y ${PKGS[*]}" >&2
  exit 1
fi
echo "deps: installing ${PKGS[*]} (missing: ${missing[*]})" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "${PKGS[@]}" >&2

package migration

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// The AS numbers: the nodes and FRR share one (iBGP), so FRR keeps the
// LOCAL_PREF the advertisement sets.
const asn = 64512

// The old annotation keys, as MetalLB up to v0.13 wrote and read them.
const (
	oldAddressPool   = "metallb.universe.tf/address-pool"
	oldLBIPs         = "metallb.universe.tf/loadBalancerIPs"
	oldAllowShared   = "metallb.universe.tf/allow-shared-ip"
	oldAllocatedPool = "metallb.universe.tf/ip-allocated-from-pool"
	// newAllocatedPool is the key the controller writes.
	newAllocatedPool = "metallb.io/ip-allocated-from-pool"
	newAddressPool   = "metallb.io/address-pool"
)

// metallbConfig is the configuration a MetalLB user applied: three pools
// (one dual-stack, one BGP, one only for explicit requests), their
// advertisements, a BGPPeer in its old v1beta1 form (with a v1beta1
// NodeSelector) and a Community alias.
const metallbConfig = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: l2-pool, namespace: metallb-system}
spec:
  addresses: [203.0.113.10-203.0.113.19, "2001:db8:100::10-2001:db8:100::1f"]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: reserved, namespace: metallb-system}
spec:
  addresses: [203.0.113.32-203.0.113.35]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec:
  addresses: [203.0.113.64/28]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec:
  ipAddressPools: [l2-pool, reserved]
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: communities, namespace: metallb-system}
spec:
  communities:
  - {name: gold, value: "64512:300"}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp, namespace: metallb-system}
spec:
  ipAddressPools: [bgp-pool]
  localPref: 150
  communities: [gold, "64512:100"]
---
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: frr, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 198.51.100.1
  holdTime: 30s
  nodeSelectors:
  - matchLabels: {kubernetes.io/os: linux}
`

// What FRR must see on every path of a BGP address.
var (
	wantLocalPref   uint32 = 150
	wantCommunities        = []string{"64512:100", "64512:300"}
)

// Address ranges of the pools, for the checks on new Services.
var (
	reservedRange = [2]string{"203.0.113.32", "203.0.113.35"}
	autoRanges    = [][2]string{
		{"203.0.113.10", "203.0.113.19"}, {"2001:db8:100::10", "2001:db8:100::1f"}, // l2-pool
		{"203.0.113.64", "203.0.113.79"}, // bgp-pool
	}
)

// legacy is a LoadBalancer Service as MetalLB left it: the annotations it
// was created with, and the addresses MetalLB's controller wrote into its
// status.
type legacy struct {
	name string
	ann  map[string]string
	mod  func(*corev1.Service)
	// ingress is status.loadBalancer.ingress, as MetalLB wrote it (IPv4
	// first).
	ingress []string
	pool    string
	// bgp: announced by BGP (else layer 2).
	bgp bool
	// backends are the nodes with a ready endpoint.
	backends []string
	// owner is the node that must answer ARP/NDP ("" = any one node).
	owner string
	// paths are the nodes FRR must hold a path from (BGP only).
	paths []string
}

var allNodes = []string{"node1", "node2", "node3"}

// legacyServices are the migrated Services. Their addresses are never the
// first free address of their pool (203.0.113.10, .32, .64 and
// 2001:db8:100::10 are all free), so an allocator that re-allocated
// instead of keeping them would move them.
var legacyServices = []legacy{
	{
		// Auto-assigned: no annotation but the pool MetalLB recorded.
		name:     "l2-auto",
		ann:      map[string]string{oldAllocatedPool: "l2-pool"},
		ingress:  []string{"203.0.113.14"},
		pool:     "l2-pool",
		backends: allNodes,
	},
	{
		// Two Services sharing one address: one asked for the pool, the
		// other for the address.
		name:     "shared-a",
		ann:      map[string]string{oldAddressPool: "l2-pool", oldAllowShared: "web-share", oldAllocatedPool: "l2-pool"},
		ingress:  []string{"203.0.113.15"},
		pool:     "l2-pool",
		backends: []string{"node1"},
	},
	{
		name:     "shared-b",
		ann:      map[string]string{oldLBIPs: "203.0.113.15", oldAllowShared: "web-share", oldAllocatedPool: "l2-pool"},
		mod:      cluster.Port(8080),
		ingress:  []string{"203.0.113.15"},
		pool:     "l2-pool",
		backends: []string{"node2"},
	},
	{
		// Dual stack, auto-assigned.
		name:     "l2-dual",
		ann:      map[string]string{oldAllocatedPool: "l2-pool"},
		mod:      cluster.DualStack,
		ingress:  []string{"203.0.113.16", "2001:db8:100::14"},
		pool:     "l2-pool",
		backends: allNodes,
	},
	{
		// The deprecated spec.loadBalancerIP.
		name:     "l2-field",
		ann:      map[string]string{oldAllocatedPool: "l2-pool"},
		mod:      func(s *corev1.Service) { s.Spec.LoadBalancerIP = "203.0.113.17" },
		ingress:  []string{"203.0.113.17"},
		pool:     "l2-pool",
		backends: allNodes,
	},
	{
		// Local traffic policy: only node3 has an endpoint, so only node3
		// may answer.
		name:     "l2-local",
		ann:      map[string]string{oldAllocatedPool: "l2-pool"},
		mod:      cluster.LocalTraffic,
		ingress:  []string{"203.0.113.18"},
		pool:     "l2-pool",
		backends: []string{"node3"},
		owner:    "node3",
	},
	{
		// A pool with autoAssign false, asked for by name.
		name:     "reserved-a",
		ann:      map[string]string{oldAddressPool: "reserved", oldAllocatedPool: "reserved"},
		ingress:  []string{"203.0.113.33"},
		pool:     "reserved",
		backends: allNodes,
	},
	{
		name:     "reserved-b",
		ann:      map[string]string{oldLBIPs: "203.0.113.34", oldAllocatedPool: "reserved"},
		ingress:  []string{"203.0.113.34"},
		pool:     "reserved",
		backends: allNodes,
	},
	{
		name:     "bgp-web",
		ann:      map[string]string{oldAddressPool: "bgp-pool", oldAllocatedPool: "bgp-pool"},
		ingress:  []string{"203.0.113.68"},
		pool:     "bgp-pool",
		bgp:      true,
		backends: allNodes,
		paths:    allNodes,
	},
	{
		// Local traffic policy: only node2 has an endpoint, so only node2
		// advertises.
		name:     "bgp-local",
		ann:      map[string]string{oldLBIPs: "203.0.113.70", oldAllocatedPool: "bgp-pool"},
		mod:      cluster.LocalTraffic,
		ingress:  []string{"203.0.113.70"},
		pool:     "bgp-pool",
		bgp:      true,
		backends: []string{"node2"},
		paths:    []string{"node2"},
	},
}

// thief asks, with the old annotation, for the address l2-auto holds
// without sharing; MetalLB left it without address, and so must we.
const (
	thief       = "thief"
	thiefIP     = "203.0.113.14"
	thiefHolder = "l2-auto"
)

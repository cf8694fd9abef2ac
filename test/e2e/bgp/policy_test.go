package bgp

import (
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// TestLocalTrafficPolicy: with externalTrafficPolicy Local only the nodes
// with a ready endpoint advertise, so the router's next hops follow the
// endpoints; a client's connections spread over those nodes and each is
// served by the node it reached. With no endpoint left the route goes.
func TestLocalTrafficPolicy(t *testing.T) {
	e := newEnv(t)
	r := e.router("frr")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: local}
spec:
  addresses: [203.0.113.120/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: local-frr}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: local}
spec:
  ipAddressPools: [local]
`)
	const ip = "203.0.113.121"
	prefix := hostPrefix(ip)
	svc := e.service("local", []string{ip}, cluster.LocalTraffic)

	e.backends(svc, "node1")
	e.waitNextHops(r, prefix, []string{"node1"}, 60*time.Second)
	e.waitKernelRoute(r, prefix, []string{"node1"}, 10*time.Second)
	e.waitHTTPVia(r, ip, 20*time.Second, "node1")
	e.spread(r, ip, []string{"node1"}, 5)
	e.waitStatuses(svc, map[string][]string{"node1": {"local-frr"}}, 15*time.Second)

	t.Log("the endpoints move to node2 and node3")
	e.backends(svc, "node2", "node3")
	e.waitNextHops(r, prefix, []string{"node2", "node3"}, 15*time.Second)
	e.waitKernelRoute(r, prefix, []string{"node2", "node3"}, 10*time.Second)
	seen := e.spread(r, ip, []string{"node2", "node3"}, 40)
	t.Logf("answers through the router's two next hops: %v", seen)
	e.waitStatuses(svc, map[string][]string{"node2": {"local-frr"}, "node3": {"local-frr"}}, 15*time.Second)

	t.Log("no endpoint left")
	e.backends(svc)
	e.waitNoRoute(r, prefix, 15*time.Second)
	e.waitStatuses(svc, nil, 15*time.Second)
}

package bgp

import (
	"fmt"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/lab"
)

// TestNodeAndPeerSelectors: a BGPPeer's nodeSelectors choose the nodes
// that open its session (and follow node labels), a BGPAdvertisement's
// nodeSelectors the nodes that advertise (the next hops), its peers the
// sessions that get the prefix; the ServiceBGPStatus objects list, per
// node, the peers each Service is advertised to.
func TestNodeAndPeerSelectors(t *testing.T) {
	e := newEnv(t)
	bird, gobgp := e.router("bird"), e.router("gobgp")
	on := "on"
	for _, n := range []string{"node1", "node2"} {
		e.labelNode(n, testLabel+"bgp", &on)
	}
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: sel-a}
spec:
  addresses: [203.0.113.112/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: sel-b}
spec:
  addresses: [203.0.113.116/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: sel-bird}
spec:
  myASN: 4200000020
  peerASN: 4200000010
  peerAddress: 198.51.100.2
  nodeSelectors:
  - matchLabels: {e2e.ferrolb.io/bgp: "on"}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: sel-gobgp}
spec:
  myASN: 4200000020
  peerASN: 64502
  peerAddress: 198.51.100.3
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: sel-a}
spec:
  ipAddressPools: [sel-a]
  nodeSelectors:
  - matchExpressions:
    - {key: kubernetes.io/hostname, operator: In, values: [node2, node3]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: sel-b}
spec:
  ipAddressPools: [sel-b]
  peers: [sel-gobgp]
`)
	const ipA, ipB = "203.0.113.113", "203.0.113.117"
	a := e.service("a", []string{ipA})
	b := e.service("b", []string{ipB})
	e.backends(a, allNodes...)
	e.backends(b, allNodes...)

	// BIRD peers with the labelled nodes only; gobgpd with all.
	e.waitSessions(bird, model.IPv4, []string{"node1", "node2"}, 30*time.Second)
	e.waitSessions(gobgp, model.IPv4, allNodes, 30*time.Second)
	e.waitNextHops(bird, hostPrefix(ipA), []string{"node2"}, 30*time.Second)
	e.waitNextHops(gobgp, hostPrefix(ipA), []string{"node2", "node3"}, 30*time.Second)
	e.waitNextHops(gobgp, hostPrefix(ipB), allNodes, 30*time.Second)
	e.waitStatuses(a, map[string][]string{"node2": {"sel-bird", "sel-gobgp"}, "node3": {"sel-gobgp"}}, 15*time.Second)
	e.waitStatuses(b, map[string][]string{"node1": {"sel-gobgp"}, "node2": {"sel-gobgp"}, "node3": {"sel-gobgp"}}, 15*time.Second)
	e.neverRoute(bird, hostPrefix(ipB), 2*time.Second)
	if n, err := bird.Neighbor(e.ctx, e.nodeAddr("node3", model.IPv4)); err != nil || n.Up() {
		t.Errorf("BIRD's session with node3, not selected by the BGPPeer: %+v %v", n, err)
	}

	t.Log("node3 gets the label: it peers with BIRD too")
	e.labelNode("node3", testLabel+"bgp", &on)
	e.waitSessions(bird, model.IPv4, allNodes, 30*time.Second)
	e.waitNextHops(bird, hostPrefix(ipA), []string{"node2", "node3"}, 30*time.Second)
	e.waitStatuses(a, map[string][]string{"node2": {"sel-bird", "sel-gobgp"}, "node3": {"sel-bird", "sel-gobgp"}}, 15*time.Second)

	t.Log("node1 loses it: its session with BIRD closes")
	e.labelNode("node1", testLabel+"bgp", nil)
	e.eventually(15*time.Second, "BIRD's session with node1 down", func() (bool, string) {
		n, err := bird.Neighbor(e.ctx, e.nodeAddr("node1", model.IPv4))
		return err == nil && !n.Up(), fmt.Sprintf("%+v %v", n, err)
	})
	// gobgpd keeps its three sessions and routes.
	e.waitNextHops(gobgp, hostPrefix(ipB), allNodes, 5*time.Second)
	checkRouterUp(e, gobgp, allNodes)
}

// checkRouterUp fails the test unless r's sessions with the nodes are up.
func checkRouterUp(e *env, r *lab.Router, nodes []string) {
	e.t.Helper()
	for _, node := range nodes {
		n, err := r.Neighbor(e.ctx, e.nodeAddr(node, model.IPv4))
		if err != nil || !n.Up() {
			e.t.Errorf("router %s's session with %s: %+v %v", r.Name, node, n, err)
		}
	}
}

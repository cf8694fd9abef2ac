package bgp

import (
	"fmt"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// TestEBGPMultihop: a router behind a transit host is two hops from the
// nodes. Without ebgpMultiHop the speaker's packets leave with TTL 1 and
// die at the transit: no session, no route. With it the sessions come up
// and the router learns the route with the nodes' LAN addresses as next
// hops (the transit forwards no pool traffic, so only the RIB is checked).
func TestEBGPMultihop(t *testing.T) {
	e := newEnv(t)
	r := e.router("mh")
	peer := func(multihop bool) string {
		return fmt.Sprintf(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: mh}
spec:
  myASN: 64512
  peerASN: 64503
  peerAddress: %s
  ebgpMultiHop: %v
`, r.Host.IPv4, multihop)
	}
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: mh}
spec:
  addresses: [203.0.113.128/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: mh}
spec:
  ipAddressPools: [mh]
` + "---" + peer(false))
	const ip = "203.0.113.129"
	svc := e.service("mh", []string{ip})
	e.backends(svc, allNodes...)
	prefix := hostPrefix(ip)

	// The sessions would be up within a few seconds if TTL 1 got through.
	e.neverRoute(r, prefix, 8*time.Second)
	for _, n := range e.nodeAddrs(model.IPv4, allNodes...) {
		if st, err := r.Neighbor(e.ctx, n); err != nil || st.Up() || st.Established != 0 {
			t.Errorf("router %s, single-hop session with %v: %+v %v", r.Name, n, st, err)
		}
	}

	t.Log("ebgpMultiHop: true")
	e.apply(peer(true))
	e.waitSessions(r, model.IPv4, allNodes, 30*time.Second)
	e.waitNextHops(r, prefix, allNodes, 30*time.Second)
	e.waitStatuses(svc, map[string][]string{"node1": {"mh"}, "node2": {"mh"}, "node3": {"mh"}}, 15*time.Second)
}

package bgp

import (
	"slices"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/test/lab"
)

// TestECMPThroughBIRDAndGoBGP: the same Services advertised to BIRD and
// to gobgpd at once, from a 4-byte AS (BIRD's is one too). Each router
// holds one next hop per node with the communities and large communities
// of the advertisement and the node's AS as the AS path, and forwards a
// client's HTTP to the nodes. Every node's ServiceBGPStatus lists both
// peers.
func TestECMPThroughBIRDAndGoBGP(t *testing.T) {
	e := newEnv(t)
	bird, gobgp := e.router("bird"), e.router("gobgp")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: routers}
spec:
  addresses: [203.0.113.72/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: routers-bird}
spec:
  myASN: 4200000020
  peerASN: 4200000010
  peerAddress: 198.51.100.2
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: routers-gobgp}
spec:
  myASN: 4200000020
  peerASN: 64502
  peerAddress: 198.51.100.3
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: routers}
spec:
  ipAddressPools: [routers]
  communities: ["64512:200", "65535:65281", "large:4200000020:7:8"]
`)
	const ipA, ipB = "203.0.113.73", "203.0.113.74"
	a := e.service("a", []string{ipA})
	b := e.service("b", []string{ipB})
	e.backends(a, allNodes...)
	e.backends(b, allNodes...)

	for _, c := range []struct {
		r      *lab.Router
		asPath []uint32
	}{
		{bird, []uint32{bigNodeASN}},
		{gobgp, []uint32{bigNodeASN}},
	} {
		for _, ip := range []string{ipA, ipB} {
			rt := e.waitNextHops(c.r, hostPrefix(ip), allNodes, 60*time.Second)
			if !slices.Equal(rt.Communities, []string{"64512:200", "65535:65281"}) ||
				!slices.Equal(rt.LargeCommunities, []string{"4200000020:7:8"}) ||
				!slices.Equal(rt.ASPath, c.asPath) || rt.Origin != "IGP" {
				t.Errorf("router %s: %s; want communities 64512:200 and no-export, large community 4200000020:7:8, AS path %v, origin IGP",
					c.r.Name, describeRoute(rt), c.asPath)
			}
			// One path per node, each from the node's own session.
			for _, p := range rt.Paths {
				if p.NextHop != p.Peer {
					t.Errorf("router %s, %s: path with next hop %v learnt from %v", c.r.Name, ip, p.NextHop, p.Peer)
				}
			}
		}
		e.waitHTTPVia(c.r, ipA, 20*time.Second)
		e.waitHTTPVia(c.r, ipB, 20*time.Second)
	}
	both := map[string][]string{}
	for _, n := range allNodes {
		both[n] = []string{"routers-bird", "routers-gobgp"}
	}
	e.waitStatuses(a, both, 15*time.Second)
	e.waitStatuses(b, both, 15*time.Second)

	// One Service goes: its prefix leaves both routers, the other stays.
	e.deleteService(a)
	e.waitNoRoute(bird, hostPrefix(ipA), 15*time.Second)
	e.waitNoRoute(gobgp, hostPrefix(ipA), 15*time.Second)
	e.waitNextHops(bird, hostPrefix(ipB), allNodes, 5*time.Second)
	e.waitNextHops(gobgp, hostPrefix(ipB), allNodes, 5*time.Second)
}

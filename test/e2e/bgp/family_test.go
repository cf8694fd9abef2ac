package bgp

import (
	"slices"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// TestIPv6AndDualStack: over an IPv6 session (next to an IPv4 one with
// the same router) an IPv6 Service is advertised as a /128 with one IPv6
// next hop per node, and a dual-stack Service's addresses each go over
// the session of their family; HTTP reaches both families through the
// router.
func TestIPv6AndDualStack(t *testing.T) {
	e := newEnv(t)
	r := e.router("frr")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: family}
spec:
  addresses: [203.0.113.124/30, "2001:db8:100::c0/124"]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: family-v4}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: family-v6}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: "2001:db8:1::1"
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: family}
spec:
  ipAddressPools: [family]
  communities: ["64512:600"]
`)
	const six = "2001:db8:100::c1"
	const dual4, dual6 = "203.0.113.125", "2001:db8:100::c2"
	v6 := e.service("six", []string{six}, cluster.IPv6Only)
	dual := e.service("dual", []string{dual4, dual6}, cluster.DualStack)
	e.backends(v6, allNodes...)
	e.backends(dual, allNodes...)

	e.waitSessions(r, model.IPv6, allNodes, 30*time.Second)
	for _, ip := range []string{six, dual6, dual4} {
		rt := e.waitNextHops(r, hostPrefix(ip), allNodes, 60*time.Second)
		if !slices.Equal(rt.Communities, []string{"64512:600"}) || !slices.Equal(rt.ASPath, []uint32{nodeASN}) {
			t.Errorf("route to %s: %s; want community 64512:600 and AS path [%d]", ip, describeRoute(rt), nodeASN)
		}
	}
	// Each session carries its own family only.
	for _, p := range mustRoute(e, r, dual6).Paths {
		if !p.Peer.Is6() {
			t.Errorf("IPv6 route %s learnt from %v", dual6, p.Peer)
		}
	}
	for _, ip := range []string{six, dual6, dual4} {
		e.waitHTTPVia(r, ip, 20*time.Second)
	}
	// (The IPv6 Service's objects are not checked: they list family-v4
	// too, as the peers it is configured to go to, although an IPv4
	// session without dualStackAddressFamily does not carry it.)
	both := []string{"family-v4", "family-v6"}
	e.waitStatuses(dual, map[string][]string{"node1": both, "node2": both, "node3": both}, 15*time.Second)
	e.waitMetrics("node1", map[string]float64{
		peerSeries("metallb_bgp_session_up", r.Host.IPv6):               1,
		peerSeries("metallb_bgp_announced_prefixes_total", r.Host.IPv6): 2,
		peerSeries("metallb_bgp_announced_prefixes_total", r.Host.IPv4): 1,
	}, 10*time.Second)

	e.deleteService(dual)
	e.waitNoRoute(r, hostPrefix(dual4), 15*time.Second)
	e.waitNoRoute(r, hostPrefix(dual6), 15*time.Second)
	e.waitNextHops(r, hostPrefix(six), allNodes, 5*time.Second)
}

// mustRoute returns r's route to ip's host prefix, failing the test if
// there is none.
func mustRoute(e *env, r *lab.Router, ip string) lab.Route {
	e.t.Helper()
	rt, ok, err := r.Route(e.ctx, hostPrefix(ip))
	if err != nil || !ok {
		e.t.Fatalf("router %s: no route to %s (%v)", r.Name, ip, err)
	}
	return rt
}

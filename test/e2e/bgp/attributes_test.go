package bgp

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/lab"
)

// TestCommunitiesAndLocalPrefOverIBGP: over iBGP in a 4-byte AS, every
// node's path carries the advertisement's LOCAL_PREF, an empty AS path,
// its legacy and large communities, given literally or through the
// aliases of a Community object, and the node as next hop. Changing the
// advertisement or an alias updates the routes in place: no session is
// reset.
func TestCommunitiesAndLocalPrefOverIBGP(t *testing.T) {
	e := newEnv(t)
	r := e.router("ibgp")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: e2e-aliases}
spec:
  communities:
  - {name: e2e-gold, value: "64512:300"}
  - {name: e2e-big, value: "large:4200000020:1:2"}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: attrs}
spec:
  addresses: [203.0.113.84/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: attrs-ibgp}
spec:
  myASN: 4200000020
  peerASN: 4200000020
  peerAddress: 198.51.100.7
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: attrs}
spec:
  ipAddressPools: [attrs]
  localPref: 150
  communities: [e2e-gold, e2e-big, "64512:301", "large:1:2:3"]
`)
	const ip = "203.0.113.85"
	svc := e.service("attrs", []string{ip})
	e.backends(svc, allNodes...)
	prefix := hostPrefix(ip)

	want := func(localPref uint32, comms, large []string) func(lab.Route) string {
		return func(rt lab.Route) string { return checkPaths(e, rt, localPref, comms, large) }
	}
	e.waitRoute(r, prefix, 60*time.Second, want(150, []string{"64512:300", "64512:301"}, []string{"1:2:3", "4200000020:1:2"}))
	before := e.established(r)

	t.Log("the advertisement changes")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: attrs}
spec:
  ipAddressPools: [attrs]
  localPref: 200
  communities: [e2e-gold]
`)
	e.waitRoute(r, prefix, 15*time.Second, want(200, []string{"64512:300"}, nil))

	t.Log("the alias changes")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: e2e-aliases}
spec:
  communities:
  - {name: e2e-gold, value: "64512:302"}
  - {name: e2e-big, value: "large:4200000020:1:2"}
`)
	e.waitRoute(r, prefix, 15*time.Second, want(200, []string{"64512:302"}, nil))
	if after := e.established(r); !maps.Equal(after, before) {
		t.Errorf("sessions re-established while routes changed: established counts %v, then %v", before, after)
	}
}

// checkPaths checks that rt has one path per node, each from the node's
// session with the node as next hop, an empty AS path (iBGP) and the given
// attributes; it returns what is wrong, "" if nothing.
func checkPaths(e *env, rt lab.Route, localPref uint32, comms, large []string) string {
	want := e.nodeAddrs(model.IPv4, allNodes...)
	var peers []netip.Addr
	for _, p := range rt.Paths {
		peers = append(peers, p.Peer)
		switch {
		case p.NextHop != p.Peer:
			return fmt.Sprintf("path from %v has next hop %v", p.Peer, p.NextHop)
		case p.LocalPref != localPref:
			return fmt.Sprintf("path from %v has local preference %d, want %d", p.Peer, p.LocalPref, localPref)
		case len(p.ASPath) != 0:
			return fmt.Sprintf("path from %v has AS path %v, want none (iBGP)", p.Peer, p.ASPath)
		case !slices.Equal(p.Communities, comms) || !slices.Equal(p.LargeCommunities, large):
			return fmt.Sprintf("path from %v has communities %v and large %v, want %v and %v", p.Peer, p.Communities, p.LargeCommunities, comms, large)
		}
	}
	slices.SortFunc(peers, func(a, b netip.Addr) int { return a.Compare(b) })
	if !slices.Equal(peers, want) {
		return fmt.Sprintf("paths from %v, want one from each of %v", peers, want)
	}
	return ""
}

// established returns how many times each of r's sessions came up.
func (e *env) established(r *lab.Router) map[netip.Addr]int {
	e.t.Helper()
	ns, err := r.Neighbors(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[netip.Addr]int{}
	for _, n := range ns {
		out[n.Address] = n.Established
	}
	return out
}

// TestAggregation: with aggregationLength 28, two Services of a /28 pool
// are advertised as one /28 route (no host route), which carries traffic
// to both; it stays while one of them is left and goes with the last.
func TestAggregation(t *testing.T) {
	e := newEnv(t)
	r := e.router("frr")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: agg}
spec:
  addresses: [203.0.113.96/28]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: agg-frr}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: agg}
spec:
  ipAddressPools: [agg]
  aggregationLength: 28
`)
	const ipA, ipB = "203.0.113.97", "203.0.113.98"
	aggregate := netip.MustParsePrefix("203.0.113.96/28")
	a := e.service("a", []string{ipA})
	b := e.service("b", []string{ipB})
	e.backends(a, allNodes...)
	e.backends(b, allNodes...)

	e.waitNextHops(r, aggregate, allNodes, 60*time.Second)
	e.waitHTTPVia(r, ipA, 20*time.Second)
	e.waitHTTPVia(r, ipB, 20*time.Second)
	e.onlyRoutes(r, model.IPv4, aggregate)

	e.deleteService(a)
	e.waitStatuses(a, nil, 15*time.Second)
	e.never(2*time.Second, "the aggregate leaves with the first Service", func() (bool, string) {
		rt, ok, err := r.Route(e.ctx, aggregate)
		return err == nil && (!ok || len(rt.NextHops) != len(allNodes)), describeRoute(rt)
	})
	e.waitHTTPVia(r, ipB, 10*time.Second)
	e.onlyRoutes(r, model.IPv4, aggregate)

	e.deleteService(b)
	e.waitNoRoute(r, aggregate, 15*time.Second)
}

// onlyRoutes fails the test unless r's routes of a family are exactly
// the given prefixes.
func (e *env) onlyRoutes(r *lab.Router, f model.Family, want ...netip.Prefix) {
	e.t.Helper()
	rs, err := r.Routes(e.ctx, f)
	if err != nil {
		e.t.Fatal(err)
	}
	var got []netip.Prefix
	for _, rt := range rs {
		got = append(got, rt.Prefix)
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("router %s has routes to %v; want only %v", r.Name, got, want)
	}
}

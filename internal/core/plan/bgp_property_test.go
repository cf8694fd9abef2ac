package plan

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/google/go-cmp/cmp"
)

// Pools of the random BGP inputs: lo and hi aggregate together into
// 203.0.113.0/24, so that aggregation spans pools.
var bgpRandPools = []*model.Pool{
	pool("lo", "203.0.113.0/25"),
	pool("hi", "203.0.113.128/25"),
	pool("v6", "2001:db8:1::/120"),
	pool("dual", "198.51.100.0/28", "2001:db8:2::/124"),
}

// randomBGPInput builds a small random cluster where IPs share prefixes,
// advertisements overlap and every rule has a fair chance to matter.
func randomBGPInput(r *rand.Rand) Input {
	maybe := func(p float64) bool { return r.Float64() < p }
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	nodeSels := []model.Selector{sel("zone", "a"), sel("zone", "b"), sel("rack", "r1")}
	var in Input

	for i := range 1 + r.IntN(4) {
		n := node(fmt.Sprintf("n%d", i), "zone", pick("a", "b"), "rack", pick("r1", "r2"))
		n.NetworkUnavailable = maybe(0.12)
		n.OutOfService = maybe(0.08)
		if maybe(0.12) {
			n.Labels[LabelExcludeFromLB] = ""
		}
		in.Nodes = append(in.Nodes, n)
	}
	in.Node = in.Nodes[r.IntN(len(in.Nodes))].Name
	if maybe(0.04) {
		in.Node = "ghost"
	}
	in.IgnoreExcludeLB = maybe(0.2)

	var peers []*config.BGPPeer
	for i := range r.IntN(5) {
		p := bgpPeer(fmt.Sprintf("p%d", i), 64500, 64500, fmt.Sprintf("192.0.2.%d", i+1))
		switch r.IntN(4) {
		case 0:
			p.PeerASN = 64501
		case 1:
			p.PeerASN, p.DynamicASN = 0, pick("internal", "external")
		}
		if maybe(0.3) {
			p.NodeSelectors = []model.Selector{nodeSels[r.IntN(len(nodeSels))]}
		}
		peers = append(peers, p)
	}
	var ads []*config.BGPAdvertisement
	comms := []string{"65000:1", "65000:2", "64999:9", "large:1:2:3", "large:1:1:1"}
	for i := range 1 + r.IntN(4) {
		var pools []string
		for _, p := range bgpRandPools {
			if maybe(0.6) {
				pools = append(pools, p.Name)
			}
		}
		a := bgpAd(fmt.Sprintf("ad%d", i), pools...)
		a.Pools = pools // may be empty: an ad for no pool
		a.AggregationLength = []int{32, 32, 31, 25, 24}[r.IntN(5)]
		a.AggregationLengthV6 = []int{128, 128, 124, 120, 64}[r.IntN(5)]
		a.LocalPref = []uint32{0, 0, 100, 100, 200}[r.IntN(5)]
		for _, c := range comms {
			if maybe(0.25) {
				a.Communities = append(a.Communities, comm(c))
			}
		}
		slices.SortFunc(a.Communities, compareCommunity)
		if maybe(0.4) {
			for _, name := range []string{"p0", "p1", "p2", "p3", "nowhere"} {
				if maybe(0.4) {
					a.Peers = append(a.Peers, name)
				}
			}
		}
		if maybe(0.3) {
			a.NodeSelectors = []model.Selector{nodeSels[r.IntN(len(nodeSels))]}
		}
		if maybe(0.3) {
			a.ServiceSelectors = []model.Selector{sel("app", pick("web", "db"))}
		}
		ads = append(ads, a)
	}
	in.Config = bgpCfg(bgpRandPools, peers, ads...)
	if maybe(0.02) {
		in.Config = nil
	}

	singles := []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.129", "203.0.113.130", "2001:db8:1::1", "2001:db8:1::2"}
	duals := [][2]string{{"198.51.100.1", "2001:db8:2::1"}, {"198.51.100.2", "2001:db8:2::2"}}
	bools := []*bool{nil, bptr(true), bptr(false)}
	for i := range 1 + r.IntN(10) {
		s := labeled(svc(fmt.Sprintf("ns/s%02d", i)), "app", pick("web", "db"))
		switch x := r.Float64(); {
		case x < 0.03:
			s.Type = "ClusterIP"
		case x < 0.05:
		case x < 0.07:
			s.IPs = []netip.Addr{mustAddr("192.0.2.200")}
		case x < 0.09:
			s.IPs = []netip.Addr{mustAddr("203.0.113.1"), {}}
		case x < 0.3:
			d := duals[r.IntN(len(duals))]
			s.IPs = []netip.Addr{mustAddr(d[0]), mustAddr(d[1])}
		case x < 0.4:
			s.IPs = []netip.Addr{mustAddr(pick(singles[:5]...)), mustAddr(pick(singles[5:]...))}
		default:
			s.IPs = []netip.Addr{mustAddr(pick(singles...))}
		}
		if maybe(0.5) {
			s.ExternalTrafficPolicy = TrafficPolicyLocal
		}
		s.Endpoints = nil
		for range r.IntN(4) {
			n := pick("", "ghost")
			if maybe(0.8) {
				n = in.Nodes[r.IntN(len(in.Nodes))].Name
			}
			s.Endpoints = append(s.Endpoints, Endpoint{Node: n, Ready: bools[r.IntN(3)], Serving: bools[r.IntN(3)], NoAddresses: maybe(0.2)})
		}
		in.Services = append(in.Services, s)
	}
	return in
}

// refRoute is what the reference advertises for one (peer, prefix).
type refRoute struct {
	LocalPref   uint32
	Communities []string     // sorted strings, each once
	SourceIPs   []netip.Addr // the announced IPs contributing to it
}

// refBGP is the reference reading of the rules, written plainly from the
// documentation at the top of bgp.go: loops and string keys, no indexes.
func refBGP(in Input) (map[string]map[netip.Prefix]refRoute, map[string]BGPDecision) {
	routes := map[string]map[netip.Prefix]refRoute{}
	decisions := map[string]BGPDecision{}
	var svcs []Service
	for _, s := range in.Services {
		if !slices.ContainsFunc(svcs, func(o Service) bool { return o.Key == s.Key }) {
			svcs = append(svcs, s)
		}
	}
	c := in.Config
	if c == nil {
		for _, s := range svcs {
			decisions[s.Key] = BGPDecision{Reason: ReasonNoConfig}
		}
		return routes, decisions
	}
	var me *Node
	for i := range in.Nodes {
		if in.Node != "" && in.Nodes[i].Name == in.Node {
			me = &in.Nodes[i]
			break
		}
	}
	var sessions []*config.BGPPeer
	if me != nil {
		for _, p := range c.BGPPeers {
			if len(p.NodeSelectors) == 0 || model.MatchesAny(p.NodeSelectors, me.Labels) {
				sessions = append(sessions, p)
			}
		}
	}
	poolOf := func(ip netip.Addr) string {
		for name, p := range c.Pools {
			for _, cidr := range p.CIDRs {
				if cidr.Contains(ip) {
					return name
				}
			}
		}
		return ""
	}

	type contrib struct {
		svc    string
		ip     netip.Addr
		peer   string
		prefix netip.Prefix
		lp     uint32
		ad     *config.BGPAdvertisement
	}
	var contribs []contrib
	type pendingIP struct {
		svc string
		j   int
	}
	var pending []pendingIP
	for _, s := range svcs {
		d := BGPDecision{}
		var ips []netip.Addr
		switch {
		case s.Type != TypeLoadBalancer:
			d.Reason = ReasonNotLoadBalancer
		case len(s.IPs) == 0:
			d.Reason = ReasonNoIPAllocated
		case slices.ContainsFunc(s.IPs, func(a netip.Addr) bool { return !a.IsValid() }):
			d.Reason = ReasonInvalidIP
		default:
			for _, a := range s.IPs {
				if a = a.Unmap(); !slices.Contains(ips, a) {
					ips = append(ips, a)
				}
			}
			if slices.ContainsFunc(ips, func(a netip.Addr) bool { return poolOf(a) == "" }) {
				d.Reason = ReasonIPNotAllowed
			} else if me == nil {
				d.Reason = ReasonNodeUnknown
			}
		}
		if d.Reason != "" {
			decisions[s.Key] = d
			continue
		}
		for j, ip := range ips {
			d.IPs = append(d.IPs, BGPIPDecision{IP: ip})
			var forMe, applying []*config.BGPAdvertisement
			for _, a := range c.BGPAdvertisements {
				if slices.Contains(a.Pools, poolOf(ip)) && (len(a.NodeSelectors) == 0 || model.MatchesAny(a.NodeSelectors, me.Labels)) {
					forMe = append(forMe, a)
					if len(a.ServiceSelectors) == 0 || model.MatchesAny(a.ServiceSelectors, s.Labels) {
						applying = append(applying, a)
					}
				}
			}
			switch {
			case len(forMe) == 0:
				d.IPs[j].Reason = ReasonNotOwner
			case len(applying) == 0:
				d.IPs[j].Reason = ReasonNoMatchingAdvertisement
			default:
				pending = append(pending, pendingIP{s.Key, j})
				for _, a := range applying {
					bits := a.AggregationLength
					if ip.Is6() {
						bits = a.AggregationLengthV6
					}
					prefix := netip.PrefixFrom(ip, bits).Masked()
					for _, p := range sessions {
						if len(a.Peers) > 0 && !slices.Contains(a.Peers, p.Name) {
							continue
						}
						var lp uint32
						if p.DynamicASN == "internal" || p.PeerASN == p.MyASN {
							lp = a.LocalPref
						}
						contribs = append(contribs, contrib{s.Key, ip, p.Name, prefix, lp, a})
					}
				}
			}
		}
		decisions[s.Key] = d
	}

	conflicting := func(x contrib) bool {
		for _, y := range contribs {
			if y.peer == x.peer && y.prefix == x.prefix && y.lp != x.lp {
				return true
			}
		}
		return false
	}
	for _, p := range pending {
		d := decisions[p.svc]
		ip := d.IPs[p.j].IP
		var s Service
		for _, o := range svcs {
			if o.Key == p.svc {
				s = o
			}
		}
		var own []contrib
		for _, x := range contribs {
			if x.svc == p.svc && x.ip == ip {
				own = append(own, x)
			}
		}
		localOK, anyOK := false, false
		for _, e := range s.Endpoints {
			if !e.NoAddresses && (e.Ready == nil || *e.Ready || e.Serving != nil && *e.Serving) {
				anyOK = true
				if e.Node == in.Node {
					localOK = true
				}
			}
		}
		_, excluded := me.Labels[LabelExcludeFromLB]
		reason := ""
		switch {
		case slices.ContainsFunc(own, conflicting):
			reason = ReasonConflictingAdvertisements
		case me.NetworkUnavailable:
			reason = ReasonNodeNetworkUnavailable
		case me.OutOfService:
			reason = ReasonNodeOutOfService
		case excluded && !in.IgnoreExcludeLB:
			reason = ReasonNodeLabeledExcludeBalancers
		case s.ExternalTrafficPolicy == TrafficPolicyLocal && !localOK:
			reason = ReasonNoLocalEndpoints
		case s.ExternalTrafficPolicy != TrafficPolicyLocal && !anyOK:
			reason = ReasonNoEndpoints
		}
		d.IPs[p.j].Reason = reason
		d.IPs[p.j].Announce = reason == ""
		if reason == "" {
			for _, x := range own {
				if routes[x.peer] == nil {
					routes[x.peer] = map[netip.Prefix]refRoute{}
				}
				rt := routes[x.peer][x.prefix]
				rt.LocalPref = x.lp
				if !slices.Contains(rt.SourceIPs, x.ip) {
					rt.SourceIPs = append(rt.SourceIPs, x.ip)
				}
				for _, cm := range x.ad.Communities {
					if !slices.Contains(rt.Communities, cm.String()) {
						rt.Communities = append(rt.Communities, cm.String())
					}
				}
				routes[x.peer][x.prefix] = rt
				if !slices.Contains(d.Peers, x.peer) {
					d.Peers = append(d.Peers, x.peer)
				}
			}
		}
		slices.Sort(d.Peers)
		decisions[p.svc] = d
	}
	for _, byPrefix := range routes {
		for p, rt := range byPrefix {
			slices.Sort(rt.Communities)
			byPrefix[p] = rt
		}
	}
	return routes, decisions
}

// The advertisements and decisions of DesiredBGP equal those of the plain
// reference on random inputs, in any order of the input slices, and every
// list comes out sorted without duplicates.
func TestPropertyBGPMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	reasons := map[string]int{}
	announcedIPs, aggregated, merged, iterations := 0, 0, 0, 3000
	for iter := range iterations {
		in := randomBGPInput(r)
		got := DesiredBGP(in)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("iteration %d: %s\ninput: %+v", iter, fmt.Sprintf(format, args...), in)
		}

		if again := DesiredBGP(shuffled(r, in)); !cmp.Equal(got, again, cmpBGP) {
			fail("depends on input order (-first +shuffled):\n%s", cmp.Diff(got, again, cmpBGP))
		}

		wantRoutes, wantDecisions := refBGP(in)
		gotRoutes := map[string]map[netip.Prefix]refRoute{}
		for peer, list := range got.Advertisements {
			if len(list) == 0 {
				fail("peer %s has an empty advertisement list", peer)
			}
			if !slices.ContainsFunc(got.Sessions, func(p *config.BGPPeer) bool { return p.Name == peer }) {
				fail("advertisements to %s, which is not a session", peer)
			}
			gotRoutes[peer] = map[netip.Prefix]refRoute{}
			for i, a := range list {
				if i > 0 && comparePrefix(list[i-1].Prefix, a.Prefix) >= 0 {
					fail("peer %s: prefixes not sorted or repeated: %v", peer, list)
				}
				if a.Prefix != a.Prefix.Masked() {
					fail("peer %s: prefix %s not masked", peer, a.Prefix)
				}
				if !slices.IsSortedFunc(a.Communities, compareCommunity) || len(slices.Compact(slices.Clone(a.Communities))) != len(a.Communities) {
					fail("peer %s, %s: communities not sorted or repeated: %v", peer, a.Prefix, a.Communities)
				}
				rt := refRoute{LocalPref: a.LocalPref}
				for _, cm := range a.Communities {
					rt.Communities = append(rt.Communities, cm.String())
				}
				slices.Sort(rt.Communities)
				rt.SourceIPs = wantRoutes[peer][a.Prefix].SourceIPs // not in the result
				gotRoutes[peer][a.Prefix] = rt
			}
		}
		if diff := cmp.Diff(wantRoutes, gotRoutes, cmpBGP); diff != "" {
			fail("advertisements (-reference +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantDecisions, got.Services, cmpBGP); diff != "" {
			fail("decisions (-reference +got):\n%s", diff)
		}

		for _, d := range got.Services {
			if d.Reason != "" {
				reasons[d.Reason]++
			}
			for _, ip := range d.IPs {
				if ip.Announce {
					announcedIPs++
				} else {
					reasons[ip.Reason]++
				}
			}
		}
		for _, byPrefix := range wantRoutes {
			for _, rt := range byPrefix {
				if len(rt.SourceIPs) > 1 {
					aggregated++
				}
			}
		}
		for _, list := range got.Advertisements {
			for _, a := range list {
				if len(a.Communities) > 1 {
					merged++
				}
			}
		}
	}
	// The generator must reach every rule and the merging paths.
	for _, reason := range []string{
		ReasonNoConfig, ReasonNotLoadBalancer, ReasonNoIPAllocated, ReasonInvalidIP, ReasonIPNotAllowed, ReasonNodeUnknown,
		ReasonNotOwner, ReasonNoMatchingAdvertisement, ReasonConflictingAdvertisements, ReasonNodeNetworkUnavailable, ReasonNodeOutOfService,
		ReasonNodeLabeledExcludeBalancers, ReasonNoLocalEndpoints, ReasonNoEndpoints,
	} {
		if reasons[reason] < 20 {
			t.Errorf("weak generator: reason %s seen %d times", reason, reasons[reason])
		}
	}
	if announcedIPs < 1000 || aggregated < 300 || merged < 300 {
		t.Errorf("weak generator: %d announced IPs, %d prefixes rolling up several IPs, %d with several communities", announcedIPs, aggregated, merged)
	}
	t.Logf("%d iterations: %d announced IPs, %d prefixes rolling up several IPs, %d with several communities; reasons %v",
		iterations, announcedIPs, aggregated, merged, reasons)
}

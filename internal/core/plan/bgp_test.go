package plan

import (
	"net/netip"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/google/go-cmp/cmp"
)

type bgpCase struct {
	name          string
	nodes         []Node // default threeNodes()
	me            string // default n1
	ignoreExclude bool
	config        *config.Config // default: sessions r1 (iBGP) and r2 (eBGP), one ad for everything
	noConfig      bool
	svcs          []Service // the first is the subject

	want    BGPDecision                // the subject's decision
	wantAds map[string][]Advertisement // every advertisement of the node
}

func (tc bgpCase) input() Input {
	in := Input{Node: tc.me, Nodes: tc.nodes, IgnoreExcludeLB: tc.ignoreExclude, Config: tc.config, Services: tc.svcs}
	if in.Node == "" {
		in.Node = "n1"
	}
	if in.Nodes == nil {
		in.Nodes = threeNodes()
	}
	if in.Config == nil && !tc.noConfig {
		in.Config = bgpCfg(allPools, twoPeers(), bgpAd("all"))
	}
	return in
}

func runBGPCases(t *testing.T, tests []bgpCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := DesiredBGP(tc.input())
			if diff := cmp.Diff(tc.want, res.Services[tc.svcs[0].Key], cmpBGP); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			want := tc.wantAds
			if want == nil {
				want = advs()
			}
			if diff := cmp.Diff(want, res.Advertisements, cmpBGP); diff != "" {
				t.Errorf("advertisements (-want +got):\n%s", diff)
			}
		})
	}
}

var both = []string{"r1", "r2"}

// One row per rule, each next to a row showing the same setting announced
// once the rule's condition is lifted.
func TestBGPRules(t *testing.T) {
	const ip = "203.0.113.10"
	host := advs("r1", []Advertisement{adv(ip+"/32", 0)}, "r2", []Advertisement{adv(ip+"/32", 0)})
	eps := func(s Service, e ...Endpoint) Service { s.Endpoints = e; return s }
	web := func(s Service) Service { return labeled(s, "app", "web") }
	runBGPCases(t, []bgpCase{
		{
			name:    "baseline: announced to every session, one host prefix each",
			svcs:    []Service{svc("ns/a", ip)},
			want:    announced(both, ip),
			wantAds: host,
		},
		// Whole Service.
		{
			name:     "noConfig",
			noConfig: true,
			svcs:     []Service{svc("ns/a", ip)},
			want:     BGPDecision{Reason: ReasonNoConfig},
		},
		{
			name: "notLoadBalancer",
			svcs: []Service{func() Service { s := svc("ns/a", ip); s.Type = "NodePort"; return s }()},
			want: BGPDecision{Reason: ReasonNotLoadBalancer},
		},
		{
			name: "noIPAllocated",
			svcs: []Service{svc("ns/a")},
			want: BGPDecision{Reason: ReasonNoIPAllocated},
		},
		{
			name: "invalidIP",
			svcs: []Service{func() Service { s := svc("ns/a", ip); s.IPs = append(s.IPs, netip.Addr{}); return s }()},
			want: BGPDecision{Reason: ReasonInvalidIP},
		},
		{
			name: "ipNotAllowed: one IP outside every pool rejects the Service",
			svcs: []Service{svc("ns/a", ip, "2001:db8:ff::1")},
			want: BGPDecision{Reason: ReasonIPNotAllowed},
		},
		{
			name: "nodeUnknown: this node has no Node object",
			me:   "ghost",
			svcs: []Service{svc("ns/a", ip)},
			want: BGPDecision{Reason: ReasonNodeUnknown},
		},
		// a. The pool must have an advertisement selecting this node.
		{
			name: "notOwner: the pool's advertisements select other nodes",
			config: bgpCfg(allPools, twoPeers(),
				bgpNodes(bgpAd("zone-b", "v4"), sel("zone", "b")),
				bgpAd("others", "v6", "dual")),
			svcs: []Service{svc("ns/a", ip)},
			want: refused(ReasonNotOwner, ip),
		},
		{
			name:    "an advertisement selecting this node's zone",
			config:  bgpCfg(allPools, twoPeers(), bgpNodes(bgpAd("zone-a", "v4"), sel("zone", "a"))),
			svcs:    []Service{svc("ns/a", ip)},
			want:    announced(both, ip),
			wantAds: host,
		},
		{
			name:   "notOwner: no advertisement for the pool",
			config: bgpCfg(allPools, twoPeers(), bgpAd("others", "v6", "dual")),
			svcs:   []Service{svc("ns/a", ip)},
			want:   refused(ReasonNotOwner, ip),
		},
		{
			name:   "notOwner comes before the service selectors",
			config: bgpCfg(allPools, twoPeers(), bgpServices(bgpNodes(bgpAd("zone-b", "v4"), sel("zone", "b")), sel("app", "web"))),
			svcs:   []Service{labeled(svc("ns/a", ip), "app", "db")},
			want:   refused(ReasonNotOwner, ip),
		},
		// b. An advertisement must select the Service.
		{
			name:   "noMatchingAdvertisement: service selectors do not match",
			config: bgpCfg(allPools, twoPeers(), bgpServices(bgpAd("web"), sel("app", "web"))),
			svcs:   []Service{labeled(svc("ns/a", ip), "app", "db")},
			want:   refused(ReasonNoMatchingAdvertisement, ip),
		},
		{
			name:    "service selectors match",
			config:  bgpCfg(allPools, twoPeers(), bgpServices(bgpAd("web"), sel("app", "web"))),
			svcs:    []Service{web(svc("ns/a", ip))},
			want:    announced(both, ip),
			wantAds: host,
		},
		{
			name: "noMatchingAdvertisement: the one selecting the Service is for other nodes",
			config: bgpCfg(allPools, twoPeers(),
				bgpAd("here", "v4"),
				bgpServices(bgpAd("web"), sel("app", "web")),
				bgpServices(bgpNodes(bgpAd("db-elsewhere"), sel("zone", "b")), sel("app", "db"))),
			svcs: []Service{labeled(svc("ns/a", "198.51.100.3"), "app", "db")},
			want: refused(ReasonNoMatchingAdvertisement, "198.51.100.3"),
		},
		// c. Conflicting LOCAL_PREF.
		{
			name: "conflictingAdvertisements: two applying ads, one prefix, different localPref to an iBGP peer",
			config: bgpCfg(allPools, twoPeers(),
				localPref(bgpServices(bgpAd("web-100"), sel("app", "web")), 100),
				localPref(bgpServices(bgpAd("web-200"), sel("app", "web")), 200)),
			svcs: []Service{web(svc("ns/a", ip))},
			want: refused(ReasonConflictingAdvertisements, ip),
		},
		{
			name: "same localPref: no conflict",
			config: bgpCfg(allPools, twoPeers(),
				localPref(bgpServices(bgpAd("web-a"), sel("app", "web")), 100),
				localPref(bgpServices(bgpAd("web-b"), sel("app", "web")), 100)),
			svcs:    []Service{web(svc("ns/a", ip))},
			want:    announced(both, ip),
			wantAds: advs("r1", []Advertisement{adv(ip+"/32", 100)}, "r2", []Advertisement{adv(ip+"/32", 0)}),
		},
		{
			name: "different localPref toward an eBGP peer only: no conflict, no LOCAL_PREF",
			config: bgpCfg(allPools, twoPeers(),
				toPeers(localPref(bgpServices(bgpAd("web-100"), sel("app", "web")), 100), "r2"),
				toPeers(localPref(bgpServices(bgpAd("web-200"), sel("app", "web")), 200), "r2")),
			svcs:    []Service{web(svc("ns/a", ip))},
			want:    announced([]string{"r2"}, ip),
			wantAds: advs("r2", []Advertisement{adv(ip+"/32", 0)}),
		},
		{
			name: "different localPref to different iBGP peers: no conflict",
			config: bgpCfg(allPools, append(twoPeers(), bgpPeer("r3", 64500, 64500, "192.0.2.3")),
				toPeers(localPref(bgpServices(bgpAd("web-100"), sel("app", "web")), 100), "r1"),
				toPeers(localPref(bgpServices(bgpAd("web-200"), sel("app", "web")), 200), "r3")),
			svcs:    []Service{web(svc("ns/a", ip))},
			want:    announced([]string{"r1", "r3"}, ip),
			wantAds: advs("r1", []Advertisement{adv(ip+"/32", 100)}, "r3", []Advertisement{adv(ip+"/32", 200)}),
		},
		{
			name: "different localPref for different prefixes: no conflict",
			config: bgpCfg(allPools, twoPeers(),
				localPref(bgpAd("host", "v4"), 100),
				localPref(aggLen(bgpAd("agg", "v4"), 24, 128), 200)),
			svcs: []Service{svc("ns/a", ip)},
			want: announced(both, ip),
			wantAds: advs(
				"r1", []Advertisement{adv("203.0.113.0/24", 200), adv(ip+"/32", 100)},
				"r2", []Advertisement{adv("203.0.113.0/24", 0), adv(ip+"/32", 0)}),
		},
		{
			name:  "conflict comes before the node's network",
			nodes: []Node{{Name: "n1", NetworkUnavailable: true}},
			config: bgpCfg(allPools, twoPeers(),
				localPref(bgpServices(bgpAd("web-100"), sel("app", "web")), 100),
				localPref(bgpServices(bgpAd("web-200"), sel("app", "web")), 200)),
			svcs: []Service{web(eps(svc("ns/a", ip)))},
			want: refused(ReasonConflictingAdvertisements, ip),
		},
		// d. Network.
		{
			name:  "nodeNetworkUnavailable",
			nodes: []Node{{Name: "n1", NetworkUnavailable: true}, node("n2")},
			svcs:  []Service{svc("ns/a", ip)},
			want:  refused(ReasonNodeNetworkUnavailable, ip),
		},
		{
			name:  "nodeOutOfService",
			nodes: []Node{{Name: "n1", OutOfService: true, Labels: labels(LabelExcludeFromLB, "")}, node("n2")},
			svcs:  []Service{svc("ns/a", ip)},
			want:  refused(ReasonNodeOutOfService, ip),
		},
		{
			name:    "another node's NetworkUnavailable does not matter",
			nodes:   []Node{node("n1"), {Name: "n2", NetworkUnavailable: true}},
			svcs:    []Service{svc("ns/a", ip)},
			want:    announced(both, ip),
			wantAds: host,
		},
		{
			name:  "nodeNetworkUnavailable comes before the exclusion label and endpoints",
			nodes: []Node{{Name: "n1", NetworkUnavailable: true, Labels: labels(LabelExcludeFromLB, "")}},
			svcs:  []Service{eps(svc("ns/a", ip))},
			want:  refused(ReasonNodeNetworkUnavailable, ip),
		},
		// e. Exclusion label.
		{
			name:  "nodeLabeledExcludeBalancers",
			nodes: []Node{node("n1", LabelExcludeFromLB, ""), node("n2")},
			svcs:  []Service{svc("ns/a", ip)},
			want:  refused(ReasonNodeLabeledExcludeBalancers, ip),
		},
		{
			name:          "exclusion label ignored with IgnoreExcludeLB",
			nodes:         []Node{node("n1", LabelExcludeFromLB, "true"), node("n2")},
			ignoreExclude: true,
			svcs:          []Service{svc("ns/a", ip)},
			want:          announced(both, ip),
			wantAds:       host,
		},
		{
			name:  "nodeLabeledExcludeBalancers comes before endpoints",
			nodes: []Node{node("n1", LabelExcludeFromLB, "")},
			svcs:  []Service{eps(svc("ns/a", ip))},
			want:  refused(ReasonNodeLabeledExcludeBalancers, ip),
		},
		// f. Local traffic policy.
		{
			name: "noLocalEndpoints: endpoint on another node only",
			svcs: []Service{local(svc("ns/a", ip), "n2", "n3")},
			want: refused(ReasonNoLocalEndpoints, ip),
		},
		{
			name:    "Local: endpoint on this node",
			svcs:    []Service{local(svc("ns/a", ip), "n3", "n1")},
			want:    announced(both, ip),
			wantAds: host,
		},
		{
			name: "noLocalEndpoints: the local endpoint has no address",
			svcs: []Service{eps(local(svc("ns/a", ip)), Endpoint{Node: "n1", NoAddresses: true}, Endpoint{Node: "n2"})},
			want: refused(ReasonNoLocalEndpoints, ip),
		},
		{
			name: "noLocalEndpoints: the local endpoint cannot serve",
			svcs: []Service{eps(local(svc("ns/a", ip)), Endpoint{Node: "n1", Ready: bptr(false)}, Endpoint{Node: "n2"})},
			want: refused(ReasonNoLocalEndpoints, ip),
		},
		{
			name:    "Local: serving=true counts though not ready",
			svcs:    []Service{eps(local(svc("ns/a", ip)), Endpoint{Node: "n1", Ready: bptr(false), Serving: bptr(true)})},
			want:    announced(both, ip),
			wantAds: host,
		},
		// g. Cluster traffic policy.
		{
			name: "noEndpoints: none at all",
			svcs: []Service{eps(svc("ns/a", ip))},
			want: refused(ReasonNoEndpoints, ip),
		},
		{
			name: "noEndpoints: only endpoints without addresses",
			svcs: []Service{noAddr(eps(svc("ns/a", ip), Endpoint{Node: "n1"}, Endpoint{Node: "n2"}))},
			want: refused(ReasonNoEndpoints, ip),
		},
		{
			name: "noEndpoints: only endpoints that cannot serve",
			svcs: []Service{eps(svc("ns/a", ip), Endpoint{Node: "n1", Ready: bptr(false)}, Endpoint{Node: "n2", Ready: bptr(false), Serving: bptr(false)})},
			want: refused(ReasonNoEndpoints, ip),
		},
		{
			name:    "Cluster: an endpoint on another node, or on none, suffices",
			svcs:    []Service{eps(svc("ns/a", ip), Endpoint{Node: ""}, Endpoint{Node: "n3", NoAddresses: true})},
			want:    announced(both, ip),
			wantAds: host,
		},
		// Peers.
		{
			name:    "the advertisement's peers choose the sessions",
			config:  bgpCfg(allPools, twoPeers(), toPeers(bgpAd("to-r2"), "r2")),
			svcs:    []Service{svc("ns/a", ip)},
			want:    announced([]string{"r2"}, ip),
			wantAds: advs("r2", []Advertisement{adv(ip+"/32", 0)}),
		},
		{
			name: "peers of several applying ads add up",
			config: bgpCfg(allPools, append(twoPeers(), bgpPeer("r3", 64500, 64502, "192.0.2.3")),
				toPeers(bgpAd("to-r1"), "r1"), toPeers(bgpAd("to-r3"), "r3", "nowhere")),
			svcs:    []Service{svc("ns/a", ip)},
			want:    announced([]string{"r1", "r3"}, ip),
			wantAds: advs("r1", []Advertisement{adv(ip+"/32", 0)}, "r3", []Advertisement{adv(ip+"/32", 0)}),
		},
		{
			name: "a peer's node selectors leave it out of this node",
			config: bgpCfg(allPools, []*config.BGPPeer{
				bgpPeer("r1", 64500, 64500, "192.0.2.1"),
				peerNodes(bgpPeer("r2", 64500, 64501, "192.0.2.2"), sel("zone", "b")),
			}, bgpAd("all")),
			svcs:    []Service{svc("ns/a", ip)},
			want:    announced([]string{"r1"}, ip),
			wantAds: advs("r1", []Advertisement{adv(ip+"/32", 0)}),
		},
		{
			name: "the ad's only peer is not a session here: announced to no peer",
			config: bgpCfg(allPools, []*config.BGPPeer{
				bgpPeer("r1", 64500, 64500, "192.0.2.1"),
				peerNodes(bgpPeer("r2", 64500, 64501, "192.0.2.2"), sel("zone", "b")),
			}, toPeers(bgpAd("to-r2"), "r2")),
			svcs: []Service{svc("ns/a", ip)},
			want: announced(nil, ip),
		},
		{
			name:   "no BGPPeer at all: announced to no peer",
			config: bgpCfg(allPools, nil, bgpAd("all")),
			svcs:   []Service{svc("ns/a", ip)},
			want:   announced(nil, ip),
		},
		// LOCAL_PREF only for iBGP.
		{
			name: "localPref kept for iBGP (same ASN, dynamicASN internal), dropped for eBGP",
			config: bgpCfg(allPools, []*config.BGPPeer{
				bgpPeer("ibgp", 64500, 64500, "192.0.2.1"),
				bgpPeer("ebgp", 64500, 64501, "192.0.2.2"),
				func() *config.BGPPeer {
					p := bgpPeer("dyn-int", 64500, 0, "192.0.2.3")
					p.DynamicASN = "internal"
					return p
				}(),
				func() *config.BGPPeer {
					p := bgpPeer("dyn-ext", 64500, 0, "192.0.2.4")
					p.DynamicASN = "external"
					return p
				}(),
			}, localPref(bgpAd("all"), 150)),
			svcs: []Service{svc("ns/a", ip)},
			want: announced([]string{"dyn-ext", "dyn-int", "ebgp", "ibgp"}, ip),
			wantAds: advs(
				"ibgp", []Advertisement{adv(ip+"/32", 150)},
				"dyn-int", []Advertisement{adv(ip+"/32", 150)},
				"ebgp", []Advertisement{adv(ip+"/32", 0)},
				"dyn-ext", []Advertisement{adv(ip+"/32", 0)}),
		},
		// Families.
		{
			name:    "IPv6 with aggregationLengthV6",
			config:  bgpCfg(allPools, twoPeers(), aggLen(bgpAd("v6", "v6"), 32, 64)),
			svcs:    []Service{svc("ns/a", "2001:db8:1::5")},
			want:    announced(both, "2001:db8:1::5"),
			wantAds: advs("r1", []Advertisement{adv("2001:db8:1::/64", 0)}, "r2", []Advertisement{adv("2001:db8:1::/64", 0)}),
		},
		{
			name:   "IPv6, default length: host prefix",
			config: bgpCfg(allPools, twoPeers(), bgpAd("v6", "v6")),
			svcs:   []Service{svc("ns/a", "2001:db8:1::5")},
			want:   announced(both, "2001:db8:1::5"),
			wantAds: advs("r1", []Advertisement{adv("2001:db8:1::5/128", 0)},
				"r2", []Advertisement{adv("2001:db8:1::5/128", 0)}),
		},
		{
			name:   "dual-stack: each IP with its own family's length, IPv4 first",
			config: bgpCfg(allPools, twoPeers(), aggLen(bgpAd("dual", "dual"), 24, 64)),
			svcs:   []Service{svc("ns/a", "2001:db8:2::7", "198.51.100.7")},
			want:   announced(both, "2001:db8:2::7", "198.51.100.7"),
			wantAds: advs(
				"r1", []Advertisement{adv("198.51.100.0/24", 0), adv("2001:db8:2::/64", 0)},
				"r2", []Advertisement{adv("198.51.100.0/24", 0), adv("2001:db8:2::/64", 0)}),
		},
		{
			name:   "dual-stack across pools: each IP decided on its own",
			config: bgpCfg(allPools, twoPeers(), bgpAd("v4", "v4")),
			svcs:   []Service{svc("ns/a", ip, "2001:db8:1::5")},
			want: BGPDecision{Peers: both, IPs: []BGPIPDecision{
				{IP: mustAddr(ip), Announce: true},
				{IP: mustAddr("2001:db8:1::5"), Reason: ReasonNotOwner},
			}},
			wantAds: host,
		},
		{
			name:    "IPv4-mapped status IP is advertised as IPv4",
			svcs:    []Service{svc("ns/a", "::ffff:"+ip)},
			want:    announced(both, ip),
			wantAds: host,
		},
	})
}

// Sessions: the peers whose node selectors match this node, by name; kept
// while the node may not announce; none for an unknown node.
func TestBGPSessions(t *testing.T) {
	peers := []*config.BGPPeer{
		peerNodes(bgpPeer("zz-zone-a", 64500, 64501, "192.0.2.1"), sel("zone", "a")),
		bgpPeer("mm-everywhere", 64500, 64501, "192.0.2.2"),
		peerNodes(bgpPeer("aa-zone-b", 64500, 64501, "192.0.2.3"), sel("zone", "b")),
		peerNodes(bgpPeer("bb-zone-a-or-rack", 64500, 64501, "192.0.2.4"), sel("zone", "a"), sel("rack", "r1")),
	}
	c := &config.Config{Pools: map[string]*model.Pool{}, BGPPeers: peers} // deliberately unsorted
	tests := []struct {
		name  string
		nodes []Node
		me    string
		want  []string
	}{
		{"zone a", []Node{node("n1", "zone", "a")}, "n1", []string{"bb-zone-a-or-rack", "mm-everywhere", "zz-zone-a"}},
		{"zone b", []Node{node("n1", "zone", "b")}, "n1", []string{"aa-zone-b", "mm-everywhere"}},
		{"zone b, rack r1", []Node{node("n1", "zone", "b", "rack", "r1")}, "n1", []string{"aa-zone-b", "bb-zone-a-or-rack", "mm-everywhere"}},
		{"no labels", []Node{node("n1")}, "n1", []string{"mm-everywhere"}},
		{"first of duplicate Node objects", []Node{node("n1", "zone", "b"), node("n1", "zone", "a")}, "n1", []string{"aa-zone-b", "mm-everywhere"}},
		{"network unavailable: still peered", []Node{{Name: "n1", NetworkUnavailable: true, Labels: labels("zone", "b")}}, "n1", []string{"aa-zone-b", "mm-everywhere"}},
		{"excluded: still peered", []Node{node("n1", "zone", "b", LabelExcludeFromLB, "")}, "n1", []string{"aa-zone-b", "mm-everywhere"}},
		{"unknown node: no session", []Node{node("n2", "zone", "a")}, "n1", nil},
		{"empty node name: no session", []Node{node("", "zone", "a")}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sessionNames(DesiredBGP(Input{Node: tc.me, Nodes: tc.nodes, Config: c}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("sessions (-want +got):\n%s", diff)
			}
		})
	}
	if got := DesiredBGP(Input{Node: "n1", Nodes: []Node{node("n1")}}).Sessions; got != nil {
		t.Errorf("no config: sessions %v, want none", got)
	}
}

// One aggregated prefix fed by several Services stays while one of them
// is announceable and goes with the last; the Services' decisions follow
// their own endpoints.
func TestBGPAggregationRollUp(t *testing.T) {
	c := bgpCfg(allPools, twoPeers(), withComms(aggLen(bgpAd("agg", "v4"), 24, 128), "65000:24"))
	svcs := []Service{svc("ns/a", "203.0.113.1"), svc("ns/b", "203.0.113.2"), svc("ns/c", "203.0.113.200")}
	agg := []Advertisement{adv("203.0.113.0/24", 0, "65000:24")}
	up := advs("r1", agg, "r2", agg)
	steps := []struct {
		name    string
		drop    string // Service losing its endpoints
		want    map[string][]Advertisement
		holders []string // Services announced
	}{
		{"all three Services roll up into one /24", "", up, []string{"ns/a", "ns/b", "ns/c"}},
		{"ns/b loses its endpoints: still advertised", "ns/b", up, []string{"ns/a", "ns/c"}},
		{"ns/a too", "ns/a", up, []string{"ns/c"}},
		{"the last one: withdrawn", "ns/c", advs(), nil},
	}
	for _, st := range steps {
		for i := range svcs {
			if svcs[i].Key == st.drop {
				svcs[i].Endpoints = nil
			}
		}
		res := DesiredBGP(Input{Node: "n1", Nodes: threeNodes(), Config: c, Services: svcs})
		if diff := cmp.Diff(st.want, res.Advertisements, cmpBGP); diff != "" {
			t.Errorf("%s: advertisements (-want +got):\n%s", st.name, diff)
		}
		for _, s := range svcs {
			want := refused(ReasonNoEndpoints, s.IPs[0].String())
			for _, h := range st.holders {
				if h == s.Key {
					want = announced(both, s.IPs[0].String())
				}
			}
			if diff := cmp.Diff(want, res.Services[s.Key], cmpBGP); diff != "" {
				t.Errorf("%s: %s (-want +got):\n%s", st.name, s.Key, diff)
			}
		}
	}
}

// Two pools side by side roll up into one prefix; advertisements with
// different lengths make distinct prefixes.
func TestBGPAggregationAcrossPools(t *testing.T) {
	pools := []*model.Pool{pool("lo", "203.0.113.0/25"), pool("hi", "203.0.113.128/25")}
	c := bgpCfg(pools, twoPeers(),
		withComms(aggLen(bgpAd("lo24", "lo"), 24, 128), "65000:1"),
		withComms(aggLen(bgpAd("hi24", "hi"), 24, 128), "65000:2"),
		withComms(aggLen(bgpAd("hi25", "hi"), 25, 128), "65000:3"),
	)
	in := Input{Node: "n1", Nodes: threeNodes(), Config: c, Services: []Service{
		svc("ns/lo", "203.0.113.5"), svc("ns/hi", "203.0.113.130"),
	}}
	list := []Advertisement{
		adv("203.0.113.0/24", 0, "65000:1", "65000:2"),
		adv("203.0.113.128/25", 0, "65000:3"),
	}
	if diff := cmp.Diff(advs("r1", list, "r2", list), DesiredBGP(in).Advertisements, cmpBGP); diff != "" {
		t.Errorf("advertisements (-want +got):\n%s", diff)
	}
	in.Services[1].Endpoints = nil // ns/hi goes: its /25 and its community on the /24 go too
	lo := []Advertisement{adv("203.0.113.0/24", 0, "65000:1")}
	if diff := cmp.Diff(advs("r1", lo, "r2", lo), DesiredBGP(in).Advertisements, cmpBGP); diff != "" {
		t.Errorf("without ns/hi, advertisements (-want +got):\n%s", diff)
	}
}

// Communities of the contributions to one (peer, prefix) are merged:
// union, legacy before large, each once; only where the ads apply.
func TestBGPCommunityMerge(t *testing.T) {
	const ip = "203.0.113.10"
	web := func(s Service) Service { return labeled(s, "app", "web") }
	runBGPCases(t, []bgpCase{
		{
			name: "two ads on one Service: union, sorted, once each",
			config: bgpCfg(allPools, twoPeers(),
				withComms(bgpAd("all"), "65000:2", "large:1:2:3", "65000:1"),
				withComms(bgpServices(bgpAd("web"), sel("app", "web")), "65000:1", "large:1:1:9", "64999:7")),
			svcs: []Service{web(svc("ns/a", ip))},
			want: announced(both, ip),
			wantAds: advs(
				"r1", []Advertisement{adv(ip+"/32", 0, "64999:7", "65000:1", "65000:2", "large:1:1:9", "large:1:2:3")},
				"r2", []Advertisement{adv(ip+"/32", 0, "64999:7", "65000:1", "65000:2", "large:1:1:9", "large:1:2:3")}),
		},
		{
			name: "the ad that does not select the Service adds nothing",
			config: bgpCfg(allPools, twoPeers(),
				withComms(bgpAd("all"), "65000:1"),
				withComms(bgpServices(bgpAd("web"), sel("app", "web")), "65000:99")),
			svcs: []Service{labeled(svc("ns/a", ip), "app", "db")},
			want: announced(both, ip),
			wantAds: advs(
				"r1", []Advertisement{adv(ip+"/32", 0, "65000:1")},
				"r2", []Advertisement{adv(ip+"/32", 0, "65000:1")}),
		},
		{
			name: "per peer: an ad limited to r2 adds its communities toward r2 only",
			config: bgpCfg(allPools, twoPeers(),
				withComms(bgpAd("all"), "65000:1"),
				toPeers(withComms(bgpAd("r2-only"), "65000:2"), "r2")),
			svcs: []Service{svc("ns/a", ip)},
			want: announced(both, ip),
			wantAds: advs(
				"r1", []Advertisement{adv(ip+"/32", 0, "65000:1")},
				"r2", []Advertisement{adv(ip+"/32", 0, "65000:1", "65000:2")}),
		},
		{
			name: "per node: an ad for other nodes adds nothing",
			config: bgpCfg(allPools, twoPeers(),
				withComms(bgpAd("all"), "65000:1"),
				bgpNodes(withComms(bgpAd("zone-b"), "65000:2"), sel("zone", "b"))),
			svcs: []Service{svc("ns/a", ip)},
			want: announced(both, ip),
			wantAds: advs(
				"r1", []Advertisement{adv(ip+"/32", 0, "65000:1")},
				"r2", []Advertisement{adv(ip+"/32", 0, "65000:1")}),
		},
		{
			name: "two Services sharing an IP, different ads: merged",
			config: bgpCfg(allPools, twoPeers(),
				withComms(bgpServices(bgpAd("web"), sel("app", "web")), "65000:1"),
				withComms(bgpServices(bgpAd("db"), sel("app", "db")), "65000:2")),
			svcs: []Service{web(shared(svc("ns/a", ip), "k")), labeled(shared(svc("ns/b", ip), "k"), "app", "db")},
			want: announced(both, ip),
			wantAds: advs(
				"r1", []Advertisement{adv(ip+"/32", 0, "65000:1", "65000:2")},
				"r2", []Advertisement{adv(ip+"/32", 0, "65000:1", "65000:2")}),
		},
		{
			name: "shared IP: a Service without endpoints takes its communities away",
			config: bgpCfg(allPools, twoPeers(),
				withComms(bgpServices(bgpAd("web"), sel("app", "web")), "65000:1"),
				withComms(bgpServices(bgpAd("db"), sel("app", "db")), "65000:2")),
			svcs: []Service{web(shared(svc("ns/a", ip), "k")), noAddr(labeled(shared(svc("ns/b", ip), "k"), "app", "db"))},
			want: announced(both, ip),
			wantAds: advs(
				"r1", []Advertisement{adv(ip+"/32", 0, "65000:1")},
				"r2", []Advertisement{adv(ip+"/32", 0, "65000:1")}),
		},
	})
}

// LOCAL_PREF conflicts: reported on every Service involved, decided from
// the configuration only, and the conflicting prefix is not advertised.
func TestBGPLocalPrefConflict(t *testing.T) {
	pools := []*model.Pool{pool("lo", "203.0.113.0/25"), pool("hi", "203.0.113.128/25"), poolV6}
	// lo and hi both aggregate into 203.0.113.0/24, with different
	// LOCAL_PREFs toward iBGP r1.
	conflicting := func(peers ...string) *config.Config {
		return bgpCfg(pools, twoPeers(),
			toPeers(localPref(aggLen(bgpAd("lo", "lo"), 24, 128), 100), peers...),
			toPeers(localPref(aggLen(bgpAd("hi", "hi"), 24, 128), 200), peers...),
			bgpAd("v6", "v6"))
	}
	loSvc := func() Service { return svc("ns/lo", "203.0.113.5") }
	hiSvc := func() Service { return svc("ns/hi", "203.0.113.130") }
	v6Svc := svc("ns/v6", "2001:db8:1::1")
	v6Ads := []Advertisement{adv("2001:db8:1::1/128", 0)}
	tests := []struct {
		name string
		cfg  *config.Config
		svcs []Service
		want map[string]BGPDecision
		ads  map[string][]Advertisement
	}{
		{
			name: "aggregates of two pools disagree toward r1: both Services refused, everywhere",
			cfg:  conflicting(),
			svcs: []Service{loSvc(), hiSvc(), v6Svc},
			want: map[string]BGPDecision{
				"ns/lo": refused(ReasonConflictingAdvertisements, "203.0.113.5"),
				"ns/hi": refused(ReasonConflictingAdvertisements, "203.0.113.130"),
				"ns/v6": announced(both, "2001:db8:1::1"),
			},
			ads: advs("r1", v6Ads, "r2", v6Ads),
		},
		{
			name: "the conflict stands while one side has no endpoints",
			cfg:  conflicting(),
			svcs: []Service{loSvc(), noAddr(hiSvc()), v6Svc},
			want: map[string]BGPDecision{
				"ns/lo": refused(ReasonConflictingAdvertisements, "203.0.113.5"),
				"ns/hi": refused(ReasonConflictingAdvertisements, "203.0.113.130"),
				"ns/v6": announced(both, "2001:db8:1::1"),
			},
			ads: advs("r1", v6Ads, "r2", v6Ads),
		},
		{
			name: "without the other Service there is no conflict",
			cfg:  conflicting(),
			svcs: []Service{loSvc(), v6Svc},
			want: map[string]BGPDecision{
				"ns/lo": announced(both, "203.0.113.5"),
				"ns/v6": announced(both, "2001:db8:1::1"),
			},
			ads: advs(
				"r1", []Advertisement{adv("203.0.113.0/24", 100), adv("2001:db8:1::1/128", 0)},
				"r2", []Advertisement{adv("203.0.113.0/24", 0), adv("2001:db8:1::1/128", 0)}),
		},
		{
			name: "toward the eBGP peer only: no conflict",
			cfg:  conflicting("r2"),
			svcs: []Service{loSvc(), hiSvc(), v6Svc},
			want: map[string]BGPDecision{
				"ns/lo": announced([]string{"r2"}, "203.0.113.5"),
				"ns/hi": announced([]string{"r2"}, "203.0.113.130"),
				"ns/v6": announced(both, "2001:db8:1::1"),
			},
			ads: advs("r1", v6Ads, "r2", []Advertisement{adv("203.0.113.0/24", 0), adv("2001:db8:1::1/128", 0)}),
		},
		{
			name: "a Service refused before the conflict check does not take part",
			cfg:  conflicting(),
			svcs: []Service{loSvc(), labeled(svc("ns/other-ip", "203.0.113.130", "192.0.2.99"), "x", "y"), v6Svc},
			want: map[string]BGPDecision{
				"ns/lo": announced(both, "203.0.113.5"),
			},
			ads: advs(
				"r1", []Advertisement{adv("203.0.113.0/24", 100), adv("2001:db8:1::1/128", 0)},
				"r2", []Advertisement{adv("203.0.113.0/24", 0), adv("2001:db8:1::1/128", 0)}),
		},
		{
			name: "ads sharing a pool but no (peer, prefix) with the other side do not conflict",
			cfg: bgpCfg([]*model.Pool{pool("lo", "203.0.113.0/25"), pool("hi", "203.0.113.128/25"), poolDual}, twoPeers(),
				localPref(aggLen(bgpAd("lo", "lo", "dual"), 24, 128), 100),
				localPref(aggLen(bgpAd("hi", "hi"), 24, 128), 200)),
			svcs: []Service{svc("ns/dual", "198.51.100.9", "2001:db8:2::9"), hiSvc(), svc("ns/hi2", "203.0.113.131")},
			want: map[string]BGPDecision{
				"ns/dual": announced(both, "198.51.100.9", "2001:db8:2::9"),
				"ns/hi":   announced(both, "203.0.113.130"),
			},
			ads: advs(
				"r1", []Advertisement{adv("198.51.100.0/24", 100), adv("203.0.113.0/24", 200), adv("2001:db8:2::9/128", 100)},
				"r2", []Advertisement{adv("198.51.100.0/24", 0), adv("203.0.113.0/24", 0), adv("2001:db8:2::9/128", 0)}),
		},
		{
			name: "dual-stack Service whose IPv4 aggregate conflicts",
			cfg: bgpCfg([]*model.Pool{pool("lo", "203.0.113.0/25"), pool("hi", "203.0.113.128/25"), poolV6}, twoPeers(),
				localPref(aggLen(bgpAd("lo", "lo", "v6"), 24, 128), 100),
				localPref(aggLen(bgpAd("hi", "hi"), 24, 128), 200)),
			svcs: []Service{svc("ns/mixed", "203.0.113.5", "2001:db8:1::9"), hiSvc()},
			want: map[string]BGPDecision{
				"ns/mixed": {Peers: both, IPs: []BGPIPDecision{
					{IP: mustAddr("203.0.113.5"), Reason: ReasonConflictingAdvertisements},
					{IP: mustAddr("2001:db8:1::9"), Announce: true},
				}},
				"ns/hi": refused(ReasonConflictingAdvertisements, "203.0.113.130"),
			},
			ads: advs("r1", []Advertisement{adv("2001:db8:1::9/128", 100)}, "r2", []Advertisement{adv("2001:db8:1::9/128", 0)}),
		},
		{
			name: "a conflict toward r1 withdraws the IP toward r2 too; other Services unaffected",
			cfg: bgpCfg(allPools, twoPeers(),
				localPref(bgpAd("all"), 100),
				toPeers(localPref(bgpServices(bgpAd("web"), sel("app", "web")), 200), "r1")),
			svcs: []Service{labeled(svc("ns/web", "203.0.113.9"), "app", "web"), svc("ns/plain", "203.0.113.8")},
			want: map[string]BGPDecision{
				"ns/web":   refused(ReasonConflictingAdvertisements, "203.0.113.9"),
				"ns/plain": announced(both, "203.0.113.8"),
			},
			ads: advs("r1", []Advertisement{adv("203.0.113.8/32", 100)}, "r2", []Advertisement{adv("203.0.113.8/32", 0)}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := DesiredBGP(Input{Node: "n1", Nodes: threeNodes(), Config: tc.cfg, Services: tc.svcs})
			for key, want := range tc.want {
				if diff := cmp.Diff(want, res.Services[key], cmpBGP); diff != "" {
					t.Errorf("%s (-want +got):\n%s", key, diff)
				}
			}
			if diff := cmp.Diff(tc.ads, res.Advertisements, cmpBGP); diff != "" {
				t.Errorf("advertisements (-want +got):\n%s", diff)
			}
		})
	}
}

// With the Local traffic policy the announcing nodes follow the endpoints:
// every node hosting one announces (ECMP), the others withdraw.
func TestBGPLocalPolicyFollowsEndpoints(t *testing.T) {
	const ip = "203.0.113.10"
	c := bgpCfg(allPools, twoPeers(), bgpAd("all"))
	steps := []struct {
		endpoints []string
		want      []string // announcing nodes
	}{
		{[]string{"n1"}, []string{"n1"}},
		{[]string{"n1", "n3"}, []string{"n1", "n3"}},
		{[]string{"n3"}, []string{"n3"}},
		{[]string{"n2", "n2"}, []string{"n2"}},
		{nil, nil},
	}
	for _, st := range steps {
		in := Input{Nodes: threeNodes(), Config: c, Services: []Service{local(svc("ns/a", ip), st.endpoints...)}}
		var got []string
		for _, n := range in.Nodes {
			in.Node = n.Name
			res := DesiredBGP(in)
			d := res.Services["ns/a"]
			_, advertised := res.Advertisements["r1"]
			if d.Announced() != advertised {
				t.Errorf("endpoints %v, on %s: announced %v but advertisements %v", st.endpoints, n.Name, d.Announced(), res.Advertisements)
			}
			if d.Announced() {
				got = append(got, n.Name)
			} else if d.IPs[0].Reason != ReasonNoLocalEndpoints {
				t.Errorf("endpoints %v, on %s: reason %q, want %q", st.endpoints, n.Name, d.IPs[0].Reason, ReasonNoLocalEndpoints)
			}
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("endpoints %v: announcing nodes (-want +got):\n%s", st.endpoints, diff)
		}
	}
}

// The node's own conditions apply to it alone: every other node keeps
// announcing (no election, no hand-over).
func TestBGPEveryEligibleNodeAnnounces(t *testing.T) {
	nodes := []Node{node("n1"), {Name: "n2", NetworkUnavailable: true}, node("n3", LabelExcludeFromLB, ""), node("n4")}
	in := Input{Nodes: nodes, Config: bgpCfg(allPools, twoPeers(), bgpAd("all")), Services: []Service{svc("ns/a", "203.0.113.10")}}
	want := map[string]string{"n1": "", "n2": ReasonNodeNetworkUnavailable, "n3": ReasonNodeLabeledExcludeBalancers, "n4": ""}
	for _, n := range nodes {
		in.Node = n.Name
		d := DesiredBGP(in).Services["ns/a"]
		if d.IPs[0].Reason != want[n.Name] || d.IPs[0].Announce != (want[n.Name] == "") {
			t.Errorf("on %s: %+v, want reason %q", n.Name, d.IPs[0], want[n.Name])
		}
	}
}

func TestBGPDuplicateServiceKeys(t *testing.T) {
	first := svc("ns/a", "203.0.113.1")
	second := svc("ns/a", "203.0.113.2")
	res := DesiredBGP(Input{Node: "n1", Nodes: threeNodes(), Config: bgpCfg(allPools, twoPeers(), bgpAd("all")),
		Services: []Service{first, second}})
	want := advs("r1", []Advertisement{adv("203.0.113.1/32", 0)}, "r2", []Advertisement{adv("203.0.113.1/32", 0)})
	if diff := cmp.Diff(want, res.Advertisements, cmpBGP); diff != "" {
		t.Errorf("advertisements (-want +got):\n%s", diff)
	}
}

func TestBGPAggregateOutOfRange(t *testing.T) {
	// Compile never produces these lengths; the plan falls back to the
	// host prefix rather than advertising something wider.
	c := bgpCfg(allPools, twoPeers(), aggLen(bgpAd("bad"), 33, 129))
	res := DesiredBGP(Input{Node: "n1", Nodes: threeNodes(), Config: c, Services: []Service{svc("ns/a", "203.0.113.1", "2001:db8:1::1")}})
	list := []Advertisement{adv("203.0.113.1/32", 0), adv("2001:db8:1::1/128", 0)}
	if diff := cmp.Diff(advs("r1", list, "r2", list), res.Advertisements, cmpBGP); diff != "" {
		t.Errorf("advertisements (-want +got):\n%s", diff)
	}
}

func TestAdvertisementEqual(t *testing.T) {
	base := adv("203.0.113.0/24", 100, "65000:1")
	for _, tc := range []struct {
		other Advertisement
		want  bool
	}{
		{adv("203.0.113.0/24", 100, "65000:1"), true},
		{adv("203.0.113.0/25", 100, "65000:1"), false},
		{adv("203.0.113.0/24", 0, "65000:1"), false},
		{adv("203.0.113.0/24", 100, "65000:2"), false},
		{adv("203.0.113.0/24", 100), false},
		{adv("203.0.113.0/24", 100, "65000:1", "large:1:2:3"), false},
	} {
		if got := base.Equal(tc.other); got != tc.want {
			t.Errorf("%+v.Equal(%+v) = %v, want %v", base, tc.other, got, tc.want)
		}
	}
}

// The result shares no community array with the configuration: a backend
// may modify what it is given.
func TestBGPResultDoesNotAliasConfig(t *testing.T) {
	one := withComms(bgpAd("one", "v4"), "65000:2", "65000:1")
	two := withComms(bgpServices(bgpAd("two", "v4"), sel("app", "web")), "65000:3", "65000:1")
	c := bgpCfg(allPools, twoPeers(), one, two)
	in := Input{Node: "n1", Nodes: threeNodes(), Config: c, Services: []Service{
		svc("ns/plain", "203.0.113.1"), labeled(svc("ns/web", "203.0.113.2"), "app", "web"),
	}}
	res := DesiredBGP(in)
	for _, list := range res.Advertisements {
		for _, a := range list {
			for i := range a.Communities {
				a.Communities[i] = comm("1:1")
			}
		}
	}
	want := []config.Community{comm("65000:1"), comm("65000:2")}
	if diff := cmp.Diff(want, one.Communities); diff != "" {
		t.Errorf("config communities changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]config.Community{comm("65000:1"), comm("65000:3")}, two.Communities); diff != "" {
		t.Errorf("config communities changed (-want +got):\n%s", diff)
	}
	got := DesiredBGP(in).Advertisements["r1"]
	wantAds := []Advertisement{adv("203.0.113.1/32", 0, "65000:1", "65000:2"), adv("203.0.113.2/32", 0, "65000:1", "65000:2", "65000:3")}
	if diff := cmp.Diff(wantAds, got, cmpBGP); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
}

// Two prefixes that both start from one advertisement's communities and
// add different ones must not share storage, even when the configuration's
// slice has spare capacity.
func TestBGPCommunitiesSpareCapacity(t *testing.T) {
	x := bgpAd("a-x", "v4")
	x.Communities = make([]config.Community, 0, 4)
	x.Communities = append(x.Communities, comm("65000:1"), comm("65000:2"), comm("65000:3"))
	y := withComms(bgpServices(bgpAd("b-y", "v4"), sel("app", "web")), "65000:10")
	z := withComms(bgpServices(bgpAd("c-z", "v4"), sel("app", "db")), "65000:20")
	c := bgpCfg(allPools, twoPeers()[:1], x, y, z)
	res := DesiredBGP(Input{Node: "n1", Nodes: threeNodes(), Config: c, Services: []Service{
		labeled(svc("ns/web", "203.0.113.1"), "app", "web"), labeled(svc("ns/db", "203.0.113.2"), "app", "db"),
	}})
	want := advs("r1", []Advertisement{
		adv("203.0.113.1/32", 0, "65000:1", "65000:2", "65000:3", "65000:10"),
		adv("203.0.113.2/32", 0, "65000:1", "65000:2", "65000:3", "65000:20"),
	})
	if diff := cmp.Diff(want, res.Advertisements, cmpBGP); diff != "" {
		t.Errorf("advertisements (-want +got):\n%s", diff)
	}
}

func TestSessionASNAndIBGP(t *testing.T) {
	for _, c := range []struct {
		name string
		p    config.BGPPeer
		asn  uint32
		ibgp bool
	}{
		{"ebgp", config.BGPPeer{MyASN: 64500, PeerASN: 64501}, 64500, false},
		{"ibgp", config.BGPPeer{MyASN: 64500, PeerASN: 64500}, 64500, true},
		{"localASN replaces myASN", config.BGPPeer{MyASN: 64500, LocalASN: 64600, PeerASN: 64501}, 64600, false},
		{"localASN equal to the peer's: iBGP", config.BGPPeer{MyASN: 64500, LocalASN: 64600, PeerASN: 64600}, 64600, true},
		{"myASN equal to the peer's but replaced", config.BGPPeer{MyASN: 64500, LocalASN: 64600, PeerASN: 64500}, 64600, false},
		{"dynamic internal", config.BGPPeer{MyASN: 64500, DynamicASN: "internal"}, 64500, true},
		{"dynamic external", config.BGPPeer{MyASN: 64500, DynamicASN: "external"}, 64500, false},
	} {
		if got := SessionASN(&c.p); got != c.asn {
			t.Errorf("%s: SessionASN %d, want %d", c.name, got, c.asn)
		}
		if got := IsIBGP(&c.p); got != c.ibgp {
			t.Errorf("%s: IsIBGP %v, want %v", c.name, got, c.ibgp)
		}
	}
}

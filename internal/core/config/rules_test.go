package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// TestRules has one row per validation rule (COMPAT §5 and the rules of
// our own implementation), asserting the exact errors, and rows for the
// exceptions that must not be reported.
func TestRules(t *testing.T) {
	const (
		P   = KindPool
		L2  = KindL2Advertisement
		BA  = KindBGPAdvertisement
		BP  = KindBGPPeer
		BFD = KindBFDProfile
		CM  = KindCommunity
	)
	v4 := pool("v4", "192.0.2.0/24")
	basicAuth := SecretSpec{Name: "s", Type: SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("pw")}}

	tests := []struct {
		name string
		s    Snapshot
		want Errors
	}{
		// IPAddressPool.
		{
			name: "pool without addresses",
			s:    Snapshot{Pools: []PoolSpec{pool("a")}},
			want: Errors{perr(P, "a", "spec.addresses", "no addresses defined")},
		},
		{
			name: "invalid CIDR",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.0/24", "192.0.3.0/33")}},
			want: Errors{perr(P, "a", "spec.addresses[1]", `invalid CIDR "192.0.3.0/33"`)},
		},
		{
			name: "range that starts after it ends",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.9-192.0.2.1")}},
			want: Errors{perr(P, "a", "spec.addresses[0]", `range "192.0.2.9-192.0.2.1" starts after it ends`)},
		},
		{
			name: "range mixing families",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.1-2001:db8::1")}},
			want: Errors{perr(P, "a", "spec.addresses[0]", `range "192.0.2.1-2001:db8::1" mixes IPv4 and IPv6 addresses`)},
		},
		{
			name: "bare address",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.1")}},
			want: Errors{perr(P, "a", "spec.addresses[0]", `"192.0.2.1" is neither a CIDR nor a start-end range`)},
		},
		{
			name: "CIDRs overlapping across pools are reported on both",
			s:    Snapshot{Pools: []PoolSpec{pool("b", "192.0.2.0/24"), pool("a", "198.51.100.0/24", "192.0.2.0/25")}},
			want: Errors{
				perr(P, "a", "spec.addresses[1]", `CIDR "192.0.2.0/25" overlaps with CIDR "192.0.2.0/24" of IPAddressPool "b"`),
				perr(P, "b", "spec.addresses[0]", `CIDR "192.0.2.0/24" overlaps with CIDR "192.0.2.0/25" of IPAddressPool "a"`),
			},
		},
		{
			name: "range overlapping a CIDR of another pool",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "2001:db8::/120"), pool("b", "2001:db8::f0-2001:db8::1ff")}},
			want: Errors{
				perr(P, "a", "spec.addresses[0]", `CIDR "2001:db8::/120" overlaps with range "2001:db8::f0-2001:db8::1ff" of IPAddressPool "b"`),
				perr(P, "b", "spec.addresses[0]", `range "2001:db8::f0-2001:db8::1ff" overlaps with CIDR "2001:db8::/120" of IPAddressPool "a"`),
			},
		},
		{
			name: "entries overlapping within a pool",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.0/24", "198.51.100.0/24", "192.0.2.7/32")}},
			want: Errors{perr(P, "a", "spec.addresses[2]", `CIDR "192.0.2.7/32" overlaps with CIDR "192.0.2.0/24" (spec.addresses[0]) of the same pool`)},
		},
		{
			name: "same CIDR twice, once with host bits",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.0/24", "192.0.2.9/24")}},
			want: Errors{perr(P, "a", "spec.addresses[1]", `CIDR "192.0.2.9/24" overlaps with CIDR "192.0.2.0/24" (spec.addresses[0]) of the same pool`)},
		},
		{
			name: "adjacent pools and families do not overlap",
			s: Snapshot{Pools: []PoolSpec{
				pool("a", "192.0.2.0/25", "::ffff:c000:280/121"), pool("b", "2001:db8::/32"), pool("c", "8000::/1", "192.0.3.0-192.0.3.255"),
			}},
		},
		{
			name: "duplicate pool name",
			s:    Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.0/24"), pool("a", "198.51.100.0/24")}},
			want: Errors{perr(P, "a", "metadata.name", "duplicate definition: 2 objects of kind IPAddressPool have this name")},
		},
		{
			name: "duplicate namespaces",
			s: Snapshot{Pools: []PoolSpec{{Meta: Meta{Name: "a"}, Addresses: []string{"192.0.2.0/24"},
				Allocation: &ServiceAllocationSpec{Namespaces: []string{"x", "y", "x"}}}}},
			want: Errors{perr(P, "a", "spec.serviceAllocation.namespaces[2]", `duplicate namespace "x" (same as spec.serviceAllocation.namespaces[0])`)},
		},
		{
			name: "duplicate namespaceSelectors compared canonically",
			s: Snapshot{Pools: []PoolSpec{{Meta: Meta{Name: "a"}, Addresses: []string{"192.0.2.0/24"},
				Allocation: &ServiceAllocationSpec{NamespaceSelectors: []model.Selector{in("team", "x", "y"), in("team", "y", "x")}}}}},
			want: Errors{perr(P, "a", "spec.serviceAllocation.namespaceSelectors[1]", "duplicate selector {team In (x,y)} (same as spec.serviceAllocation.namespaceSelectors[0])")},
		},
		{
			name: "duplicate serviceSelectors",
			s: Snapshot{Pools: []PoolSpec{{Meta: Meta{Name: "a"}, Addresses: []string{"192.0.2.0/24"},
				Allocation: &ServiceAllocationSpec{ServiceSelectors: []model.Selector{sel("app", "web"), sel("app", "web")}}}}},
			want: Errors{perr(P, "a", "spec.serviceAllocation.serviceSelectors[1]", "duplicate selector {app=web} (same as spec.serviceAllocation.serviceSelectors[0])")},
		},
		{
			name: "duplicate match expressions in a serviceAllocation selector",
			s: Snapshot{Pools: []PoolSpec{{Meta: Meta{Name: "a"}, Addresses: []string{"192.0.2.0/24"},
				Allocation: &ServiceAllocationSpec{ServiceSelectors: []model.Selector{{MatchExpressions: []model.Requirement{
					{Key: "app", Operator: model.OpExists}, {Key: "app", Operator: model.OpExists},
				}}}}}}},
			want: Errors{perr(P, "a", "spec.serviceAllocation.serviceSelectors[0]", "invalid selector: duplicate match expression {app Exists ()}")},
		},
		{
			name: "duplicate values in a serviceAllocation selector",
			s: Snapshot{Pools: []PoolSpec{{Meta: Meta{Name: "a"}, Addresses: []string{"192.0.2.0/24"},
				Allocation: &ServiceAllocationSpec{NamespaceSelectors: []model.Selector{in("team", "x", "x")}}}}},
			want: Errors{perr(P, "a", "spec.serviceAllocation.namespaceSelectors[0]", `invalid selector: duplicate value "x" in match expression for key "team"`)},
		},
		{
			name: "invalid selector operator",
			s: Snapshot{Pools: []PoolSpec{{Meta: Meta{Name: "a"}, Addresses: []string{"192.0.2.0/24"},
				Allocation: &ServiceAllocationSpec{ServiceSelectors: []model.Selector{{MatchExpressions: []model.Requirement{{Key: "app", Operator: "Near"}}}}}}}},
			want: Errors{perr(P, "a", "spec.serviceAllocation.serviceSelectors[0]", `invalid selector: unknown operator "Near" for key "app"`)},
		},
		{
			name: "invalid label key",
			s: Snapshot{Pools: []PoolSpec{{Meta: Meta{Name: "a"}, Addresses: []string{"192.0.2.0/24"},
				Allocation: &ServiceAllocationSpec{ServiceSelectors: []model.Selector{sel("bad key", "v")}}}}},
			want: Errors{perr(P, "a", "spec.serviceAllocation.serviceSelectors[0]", `invalid selector: label key "bad key" is invalid (name part: at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)`)},
		},
		{
			name: "invalid label key prefix and value",
			s: Snapshot{L2Advertisements: []L2AdvertisementSpec{
				{Meta: Meta{Name: "l"}, NodeSelectors: []model.Selector{sel("Example.com/zone", "a")}},
				{Meta: Meta{Name: "m"}, NodeSelectors: []model.Selector{sel("example.com/zone", "-a")}},
			}},
			want: Errors{
				perr(L2, "l", "spec.nodeSelectors[0]", `invalid selector: label key "Example.com/zone" has an invalid prefix (must be a lowercase DNS subdomain)`),
				perr(L2, "m", "spec.nodeSelectors[0]", `invalid selector: label value "-a" is invalid (at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)`),
			},
		},

		// L2Advertisement.
		{
			name: "L2: duplicate ipAddressPools",
			s:    Snapshot{L2Advertisements: []L2AdvertisementSpec{{Meta: Meta{Name: "l"}, IPAddressPools: []string{"a", "b", "a"}}}},
			want: Errors{perr(L2, "l", "spec.ipAddressPools[2]", `duplicate pool "a" (same as spec.ipAddressPools[0])`)},
		},
		{
			name: "L2: duplicate selectors of each list",
			s: Snapshot{L2Advertisements: []L2AdvertisementSpec{{Meta: Meta{Name: "l"},
				IPAddressPoolSelectors: []model.Selector{sel("a", "1", "b", "2"), sel("b", "2", "a", "1")},
				NodeSelectors:          []model.Selector{in("zone", "x", "y"), in("zone", "y", "x")},
				ServiceSelectors:       []model.Selector{sel("app", "web"), sel("app", "web")},
			}}},
			want: Errors{
				perr(L2, "l", "spec.ipAddressPoolSelectors[1]", "duplicate selector {a=1, b=2} (same as spec.ipAddressPoolSelectors[0])"),
				perr(L2, "l", "spec.nodeSelectors[1]", "duplicate selector {zone In (x,y)} (same as spec.nodeSelectors[0])"),
				perr(L2, "l", "spec.serviceSelectors[1]", "duplicate selector {app=web} (same as spec.serviceSelectors[0])"),
			},
		},
		{
			name: "L2: invalid preferred node selectors",
			s: Snapshot{L2Advertisements: []L2AdvertisementSpec{{Meta: Meta{Name: "l"}, PreferredNodeSelectors: []PreferredNodeSelector{
				{Weight: 0, Preference: sel("zone", "a")},
				{Weight: 101},
				{Weight: 50, Preference: model.Selector{MatchExpressions: []model.Requirement{{Key: "zone", Operator: model.OpIn}}}},
			}}}},
			want: Errors{
				perr(L2, "l", "spec.preferredNodeSelectors[0].weight", "weight 0 is out of range 1..100"),
				perr(L2, "l", "spec.preferredNodeSelectors[1].weight", "weight 101 is out of range 1..100"),
				perr(L2, "l", "spec.preferredNodeSelectors[2].preference", `invalid selector: operator In for key "zone" needs at least one value`),
			},
		},

		// BGPAdvertisement.
		{
			name: "BGP: aggregation lengths out of range",
			s: Snapshot{BGPAdvertisements: []BGPAdvertisementSpec{
				{Meta: Meta{Name: "x"}, AggregationLength: ptr[int32](33), AggregationLengthV6: ptr[int32](129)},
				{Meta: Meta{Name: "y"}, AggregationLength: ptr[int32](0)},
			}},
			want: Errors{
				perr(BA, "x", "spec.aggregationLength", "aggregation length 33 is out of range 1..32"),
				perr(BA, "x", "spec.aggregationLengthV6", "aggregation length 129 is out of range 0..128"),
				perr(BA, "y", "spec.aggregationLength", "aggregation length 0 is out of range 1..32"),
			},
		},
		{
			name: "BGP: serviceSelectors with a non-default aggregation length",
			s: Snapshot{BGPAdvertisements: []BGPAdvertisementSpec{
				{Meta: Meta{Name: "x"}, AggregationLengthV6: ptr[int32](64), ServiceSelectors: []model.Selector{sel("app", "web")}},
				{Meta: Meta{Name: "y"}, AggregationLength: ptr[int32](32), AggregationLengthV6: ptr[int32](128), ServiceSelectors: []model.Selector{sel("app", "web")}},
			}},
			want: Errors{perr(BA, "x", "spec.serviceSelectors", "serviceSelectors can only be used with the default aggregationLength (32) and aggregationLengthV6 (128), not 32 and 64")},
		},
		{
			name: "BGP: pool prefix more specific than the aggregation length",
			s: Snapshot{
				Pools: []PoolSpec{pool("a", "192.0.2.0/24", "198.51.100.0/26"), pool("b", "2001:db8::/64", "2001:db8:1::-2001:db8:1::80")},
				BGPAdvertisements: []BGPAdvertisementSpec{
					{Meta: Meta{Name: "x"}, AggregationLength: ptr[int32](24), AggregationLengthV6: ptr[int32](64)},
					{Meta: Meta{Name: "y"}, AggregationLength: ptr[int32](26), AggregationLengthV6: ptr[int32](121), IPAddressPools: []string{"a", "b"}},
				},
			},
			want: Errors{
				perr(BA, "x", "spec.aggregationLength", `invalid aggregation length 24: CIDR "198.51.100.0/26" of IPAddressPool "a" is more specific than the aggregation length (shortest prefix /26)`),
				perr(BA, "x", "spec.aggregationLengthV6", `invalid aggregation length 64: range "2001:db8:1::-2001:db8:1::80" of IPAddressPool "b" is more specific than the aggregation length (shortest prefix /121)`),
			},
		},
		{
			name: "BGP: invalid community values",
			s: Snapshot{BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "x"},
				Communities: []string{"65000:70000", "large:1:2:x", "larg:1:2:3", "1:2:3", "65000:100"}}}},
			want: Errors{
				perr(BA, "x", "spec.communities[0]", `invalid community "65000:70000": a legacy community is two numbers 0..65535 written AS:value`),
				perr(BA, "x", "spec.communities[1]", `invalid community "large:1:2:x": the parts of a large community are numbers 0..4294967295`),
				perr(BA, "x", "spec.communities[2]", `invalid community "larg:1:2:3": a large community is written large:global:local1:local2`),
				perr(BA, "x", "spec.communities[3]", `invalid community "1:2:3": expected AS:value or large:global:local1:local2`),
			},
		},
		{
			name: "BGP: duplicate communities, pools and peers",
			s: Snapshot{BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "x"},
				Communities: []string{"65000:100", "65000:100"}, IPAddressPools: []string{"a", "a"}, Peers: []string{"p", "q", "p"}}}},
			want: Errors{
				perr(BA, "x", "spec.communities[1]", `duplicate community "65000:100" (same as spec.communities[0])`),
				perr(BA, "x", "spec.ipAddressPools[1]", `duplicate pool "a" (same as spec.ipAddressPools[0])`),
				perr(BA, "x", "spec.peers[2]", `duplicate peer "p" (same as spec.peers[0])`),
			},
		},
		{
			name: "BGP: duplicate selectors",
			s: Snapshot{BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "x"},
				NodeSelectors: []model.Selector{sel("a", "1"), sel("a", "1")}}}},
			want: Errors{perr(BA, "x", "spec.nodeSelectors[1]", "duplicate selector {a=1} (same as spec.nodeSelectors[0])")},
		},
		{
			name: "BGP: unknown community alias is transient",
			s:    Snapshot{BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "x"}, Communities: []string{"no-such-alias"}}}},
			want: Errors{transient(BA, "x", "spec.communities[0]", `unknown community alias "no-such-alias" (no valid Community object defines it)`)},
		},
		{
			name: "BGP: alias of an invalid Community object is unknown",
			s: Snapshot{
				Communities:       []CommunitySpec{{Meta: Meta{Name: "c"}, Communities: []CommunityAlias{{Name: "good", Value: "1:1"}, {Name: "bad", Value: "x"}}}},
				BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "x"}, Communities: []string{"good"}}},
			},
			want: Errors{
				perr(CM, "c", "spec.communities[1].value", `invalid community "x": expected AS:value or large:global:local1:local2`),
				transient(BA, "x", "spec.communities[0]", `unknown community alias "good" (no valid Community object defines it)`),
			},
		},
		{
			name: "BGP: conflicting LOCAL_PREF is reported on both advertisements",
			s: Snapshot{
				Pools: []PoolSpec{v4},
				BGPAdvertisements: []BGPAdvertisementSpec{
					{Meta: Meta{Name: "x"}, LocalPref: 100},
					{Meta: Meta{Name: "y"}, LocalPref: 200, IPAddressPools: []string{"v4"}},
				},
			},
			want: Errors{
				perr(BA, "x", "spec.localPref", `local preference 100 conflicts with local preference 200 of BGPAdvertisement "y" for IPAddressPool "v4": both would advertise the same prefixes to a common peer from a common node`),
				perr(BA, "y", "spec.localPref", `local preference 200 conflicts with local preference 100 of BGPAdvertisement "x" for IPAddressPool "v4": both would advertise the same prefixes to a common peer from a common node`),
			},
		},
		{
			name: "BGP: LOCAL_PREF conflict through common peer and node",
			s: Snapshot{
				Pools: []PoolSpec{v4},
				Nodes: []Node{node("n1", "zone", "a"), node("n2", "zone", "b")},
				BGPAdvertisements: []BGPAdvertisementSpec{
					{Meta: Meta{Name: "x"}, LocalPref: 100, Peers: []string{"p", "q"}, NodeSelectors: []model.Selector{in("zone", "a", "b")}},
					{Meta: Meta{Name: "y"}, LocalPref: 200, Peers: []string{"q"}, NodeSelectors: []model.Selector{sel("zone", "b")}},
				},
			},
			want: Errors{
				perr(BA, "x", "spec.localPref", `local preference 100 conflicts with local preference 200 of BGPAdvertisement "y" for IPAddressPool "v4": both would advertise the same prefixes to a common peer from a common node`),
				perr(BA, "y", "spec.localPref", `local preference 200 conflicts with local preference 100 of BGPAdvertisement "x" for IPAddressPool "v4": both would advertise the same prefixes to a common peer from a common node`),
			},
		},
		{
			name: "BGP: different LOCAL_PREF allowed with different aggregation, disjoint peers, disjoint nodes or serviceSelectors",
			s: Snapshot{
				Pools: []PoolSpec{pool("v4", "192.0.2.0/24"), pool("dual", "198.51.100.0/24", "2001:db8::/64")},
				Nodes: []Node{node("n1", "zone", "a"), node("n2", "zone", "b")},
				BGPAdvertisements: []BGPAdvertisementSpec{
					{Meta: Meta{Name: "agg"}, LocalPref: 100, AggregationLength: ptr[int32](24), AggregationLengthV6: ptr[int32](64)},
					{Meta: Meta{Name: "base"}, LocalPref: 200, Peers: []string{"p"}, NodeSelectors: []model.Selector{sel("zone", "a")}},
					{Meta: Meta{Name: "other-peer"}, LocalPref: 300, Peers: []string{"q"}},
					{Meta: Meta{Name: "other-node"}, LocalPref: 400, Peers: []string{"p"}, NodeSelectors: []model.Selector{sel("zone", "b")}},
					{Meta: Meta{Name: "svc"}, LocalPref: 500, ServiceSelectors: []model.Selector{sel("app", "web")}},
				},
			},
		},
		{
			name: "BGP: LOCAL_PREF conflict when one family shares the aggregation length",
			s: Snapshot{
				Pools: []PoolSpec{pool("dual", "198.51.100.0/24", "2001:db8::/64")},
				BGPAdvertisements: []BGPAdvertisementSpec{
					{Meta: Meta{Name: "x"}, LocalPref: 100, AggregationLength: ptr[int32](24)},
					{Meta: Meta{Name: "y"}, LocalPref: 200},
				},
			},
			want: Errors{
				perr(BA, "x", "spec.localPref", `local preference 100 conflicts with local preference 200 of BGPAdvertisement "y" for IPAddressPool "dual": both would advertise the same prefixes to a common peer from a common node`),
				perr(BA, "y", "spec.localPref", `local preference 200 conflicts with local preference 100 of BGPAdvertisement "x" for IPAddressPool "dual": both would advertise the same prefixes to a common peer from a common node`),
			},
		},

		// Community.
		{
			name: "Community: invalid value and empty or duplicate alias",
			s: Snapshot{Communities: []CommunitySpec{{Meta: Meta{Name: "c"}, Communities: []CommunityAlias{
				{Name: "a", Value: "large:1:2"}, {Name: "", Value: "1:1"}, {Name: "b", Value: "1:1"}, {Name: "b", Value: "1:2"},
			}}}},
			want: Errors{
				perr(CM, "c", "spec.communities[0].value", `invalid community "large:1:2": expected AS:value or large:global:local1:local2`),
				perr(CM, "c", "spec.communities[1].name", "alias name must not be empty"),
				perr(CM, "c", "spec.communities[3].name", `duplicate alias "b" (same as spec.communities[2])`),
			},
		},
		{
			name: "Community: alias defined by two objects",
			s: Snapshot{Communities: []CommunitySpec{
				{Meta: Meta{Name: "c2"}, Communities: []CommunityAlias{{Name: "x", Value: "1:1"}, {Name: "gold", Value: "1:2"}}},
				{Meta: Meta{Name: "c1"}, Communities: []CommunityAlias{{Name: "gold", Value: "large:1:2:3"}}},
			}},
			want: Errors{
				perr(CM, "c1", "spec.communities[0].name", `alias "gold" is also defined by Community "c2"; aliases must be unique across Community objects`),
				perr(CM, "c2", "spec.communities[1].name", `alias "gold" is also defined by Community "c1"; aliases must be unique across Community objects`),
			},
		},

		// BGPPeer on its own.
		{
			name: "peer: missing ASNs and address",
			s:    Snapshot{BGPPeers: []BGPPeerSpec{{Meta: Meta{Name: "p"}}}},
			want: Errors{
				perr(BP, "p", "spec.myASN", "missing local ASN (myASN)"),
				perr(BP, "p", "spec.peerASN", "missing peer ASN: set peerASN or dynamicASN"),
				perr(BP, "p", "spec.peerAddress", "missing peer address: set peerAddress or interface"),
			},
		},
		{
			name: "peer: peerASN and dynamicASN together, invalid dynamicASN",
			s: Snapshot{BGPPeers: []BGPPeerSpec{
				{Meta: Meta{Name: "p"}, MyASN: 64500, PeerASN: 64501, DynamicASN: "external", PeerAddress: "192.0.2.1"},
				{Meta: Meta{Name: "q"}, MyASN: 64500, DynamicASN: "sideways", PeerAddress: "192.0.2.2"},
			}},
			want: Errors{
				perr(BP, "p", "spec.dynamicASN", "peerASN and dynamicASN are mutually exclusive"),
				perr(BP, "q", "spec.dynamicASN", `invalid dynamicASN "sideways": must be "internal" or "external"`),
			},
		},
		{
			name: "peer: localASN equal to myASN",
			s:    Snapshot{BGPPeers: []BGPPeerSpec{with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) { p.LocalASN = 64500 })}},
			want: Errors{perr(BP, "p", "spec.localASN", "localASN 64500 must differ from myASN")},
		},
		{
			name: "peer: ebgpMultiHop on iBGP",
			s: Snapshot{BGPPeers: []BGPPeerSpec{
				{Meta: Meta{Name: "p"}, MyASN: 64500, PeerASN: 64500, PeerAddress: "192.0.2.1", EBGPMultiHop: true},
				{Meta: Meta{Name: "q"}, MyASN: 64500, DynamicASN: "internal", PeerAddress: "192.0.2.2", EBGPMultiHop: true},
				{Meta: Meta{Name: "r"}, MyASN: 64500, DynamicASN: "external", PeerAddress: "192.0.2.3", EBGPMultiHop: true},
			}},
			want: Errors{
				perr(BP, "p", "spec.ebgpMultiHop", "ebgpMultiHop applies to eBGP sessions only, and this session is iBGP (peer ASN equals myASN)"),
				perr(BP, "q", "spec.ebgpMultiHop", "ebgpMultiHop applies to eBGP sessions only, and this session is iBGP (peer ASN equals myASN)"),
			},
		},
		{
			name: "peer: address and interface together, invalid interface",
			s: Snapshot{BGPPeers: []BGPPeerSpec{
				with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) { p.Interface = "eth0" }),
				with(peer("q", ""), func(p *BGPPeerSpec) { p.Interface = "a/b" }),
				with(peer("r", ""), func(p *BGPPeerSpec) { p.Interface = "much-too-long-name0" }),
			}},
			want: Errors{
				perr(BP, "p", "spec.interface", "peerAddress and interface are mutually exclusive"),
				perr(BP, "q", "spec.interface", `interface name "a/b" contains '/', ':' or white space`),
				perr(BP, "r", "spec.interface", `interface name "much-too-long-name0" is longer than 15 bytes`),
			},
		},
		{
			name: "peer: invalid addresses, router IDs and VRF",
			s: Snapshot{BGPPeers: []BGPPeerSpec{
				with(peer("p", "192.0.2.300"), func(p *BGPPeerSpec) {
					p.SourceAddress, p.RouterID, p.VRF = "nope", "10.0.0.x", "bad vrf"
				}),
				with(peer("q", "2001:db8::1"), func(p *BGPPeerSpec) { p.RouterID = "2001:db8::1" }),
			}},
			want: Errors{
				perr(BP, "p", "spec.peerAddress", `invalid peer address "192.0.2.300"`),
				perr(BP, "p", "spec.sourceAddress", `invalid source address "nope"`),
				perr(BP, "p", "spec.routerID", `invalid router ID "10.0.0.x": not an IP address`),
				perr(BP, "p", "spec.vrf", `invalid VRF: interface name "bad vrf" contains '/', ':' or white space`),
				perr(BP, "q", "spec.routerID", `invalid router ID "2001:db8::1": a BGP router ID is a 32-bit value written as an IPv4 address`),
			},
		},
		{
			name: "peer: hold time too short, keepalive above hold, derived hold too short, negative",
			s: Snapshot{BGPPeers: []BGPPeerSpec{
				with(peer("a", "192.0.2.1"), func(p *BGPPeerSpec) { p.HoldTime = dur(2400 * time.Millisecond) }),
				with(peer("b", "192.0.2.2"), func(p *BGPPeerSpec) { p.HoldTime = dur(2 * time.Second) }),
				with(peer("c", "192.0.2.3"), func(p *BGPPeerSpec) {
					p.HoldTime, p.KeepaliveTime = dur(9*time.Second), dur(10*time.Second)
				}),
				with(peer("d", "192.0.2.4"), func(p *BGPPeerSpec) {
					p.KeepaliveTime = dur(500 * time.Millisecond)
				}),
				with(peer("e", "192.0.2.5"), func(p *BGPPeerSpec) { p.HoldTime = dur(-time.Second) }),
				with(peer("f", "192.0.2.6"), func(p *BGPPeerSpec) {
					p.HoldTime, p.KeepaliveTime = dur(0), dur(time.Second)
				}),
			}},
			want: Errors{
				perr(BP, "a", "spec.holdTime", "hold time 2.4s (rounded to 2s) must be 0 or at least 3s"),
				perr(BP, "b", "spec.holdTime", "hold time 2s must be 0 or at least 3s"),
				perr(BP, "c", "spec.keepaliveTime", "keepalive time 10s must not exceed the hold time 9s"),
				perr(BP, "d", "spec.keepaliveTime", "keepalive time 500ms gives a hold time of 2s, which must be 0 or at least 3s"),
				perr(BP, "e", "spec.holdTime", "hold time -1s must not be negative"),
				perr(BP, "f", "spec.keepaliveTime", "keepalive time 1s must not exceed the hold time 0s"),
			},
		},
		{
			name: "peer: connect time not whole seconds or out of range",
			s: Snapshot{BGPPeers: []BGPPeerSpec{
				with(peer("a", "192.0.2.1"), func(p *BGPPeerSpec) {
					p.ConnectTime = dur(1500 * time.Millisecond)
				}),
				with(peer("b", "192.0.2.2"), func(p *BGPPeerSpec) { p.ConnectTime = dur(65536 * time.Second) }),
				with(peer("c", "192.0.2.3"), func(p *BGPPeerSpec) { p.ConnectTime = dur(0) }),
			}},
			want: Errors{
				perr(BP, "a", "spec.connectTime", "connect time 1.5s must be whole seconds between 1s and 65535s"),
				perr(BP, "b", "spec.connectTime", "connect time 18h12m16s must be whole seconds between 1s and 65535s"),
				perr(BP, "c", "spec.connectTime", "connect time 0s must be whole seconds between 1s and 65535s"),
			},
		},
		{
			name: "peer: duplicate nodeSelectors",
			s: Snapshot{BGPPeers: []BGPPeerSpec{with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) {
				p.NodeSelectors = []model.Selector{in("zone", "a", "b"), in("zone", "b", "a")}
			})}},
			want: Errors{perr(BP, "p", "spec.nodeSelectors[1]", "duplicate selector {zone In (a,b)} (same as spec.nodeSelectors[0])")},
		},
		{
			name: "peer: password and passwordSecret together",
			s: Snapshot{Secrets: []SecretSpec{basicAuth}, BGPPeers: []BGPPeerSpec{with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) {
				p.Password, p.PasswordSecret = "x", "s"
			})}},
			want: Errors{perr(BP, "p", "spec.password", "password and passwordSecret are mutually exclusive")},
		},
		{
			name: "peer: password Secret missing (transient), of the wrong type, without password key",
			s: Snapshot{
				Secrets: []SecretSpec{
					{Name: "opaque", Type: "Opaque", Data: map[string][]byte{"password": []byte("pw")}},
					{Name: "nokey", Type: SecretTypeBasicAuth, Data: map[string][]byte{"username": []byte("u")}},
				},
				BGPPeers: []BGPPeerSpec{
					with(peer("a", "192.0.2.1"), func(p *BGPPeerSpec) { p.PasswordSecret = "missing" }),
					with(peer("b", "192.0.2.2"), func(p *BGPPeerSpec) { p.PasswordSecret = "opaque" }),
					with(peer("c", "192.0.2.3"), func(p *BGPPeerSpec) { p.PasswordSecret = "nokey" }),
				},
			},
			want: Errors{
				transient(BP, "a", "spec.passwordSecret", `Secret "missing" not found`),
				perr(BP, "b", "spec.passwordSecret", `Secret "opaque" has type "Opaque", want "kubernetes.io/basic-auth"`),
				perr(BP, "c", "spec.passwordSecret", `Secret "nokey" has no "password" key`),
			},
		},
		{
			name: "peer: missing BFD profile is transient",
			s:    Snapshot{BGPPeers: []BGPPeerSpec{with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) { p.BFDProfile = "fast" })}},
			want: Errors{transient(BP, "p", "spec.bfdProfile", `BFDProfile "fast" not found (or invalid)`)},
		},
		{
			name: "peer: BFD echo on a peer advertising IPv6",
			s: Snapshot{
				Pools:       []PoolSpec{v4, pool("v6", "2001:db8::/120")},
				BFDProfiles: []BFDProfileSpec{{Meta: Meta{Name: "echo"}, EchoMode: ptr(true)}},
				BGPPeers: []BGPPeerSpec{
					with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) { p.BFDProfile = "echo" }),
					with(peer("q", "192.0.2.2"), func(p *BGPPeerSpec) { p.BFDProfile = "echo" }),
				},
				BGPAdvertisements: []BGPAdvertisementSpec{
					{Meta: Meta{Name: "to-p"}, IPAddressPools: []string{"v4", "v6"}, Peers: []string{"p"}},
					{Meta: Meta{Name: "to-all-v4"}, IPAddressPools: []string{"v4"}},
				},
			},
			want: Errors{perr(BP, "p", "spec.bfdProfile", `BFDProfile "echo" has echo mode enabled, which is not possible on a peer that advertises IPv6 addresses (IPAddressPool "v6" via BGPAdvertisement "to-p")`)},
		},

		// BGPPeers sharing a node.
		{
			name: "peers sharing a node: router IDs differ",
			s: Snapshot{
				Nodes: []Node{node("n1", "zone", "a"), node("n2", "zone", "b")},
				BGPPeers: []BGPPeerSpec{
					with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) { p.RouterID = "10.0.0.1" }),
					with(peer("q", "192.0.2.2"), func(p *BGPPeerSpec) {
						p.RouterID, p.NodeSelectors = "10.0.0.2", []model.Selector{sel("zone", "b")}
					}),
					// Disjoint nodes: no conflict with q.
					with(peer("r", "192.0.2.3"), func(p *BGPPeerSpec) {
						p.RouterID, p.NodeSelectors = "10.0.0.1", []model.Selector{sel("zone", "a")}
					}),
				},
			},
			want: Errors{
				perr(BP, "p", "spec.routerID", `router ID 10.0.0.1 differs from router ID 10.0.0.2 of BGPPeer "q" on node "n2"; peers sharing a node must use the same router ID`),
				perr(BP, "q", "spec.routerID", `router ID 10.0.0.2 differs from router ID 10.0.0.1 of BGPPeer "p" on node "n2"; peers sharing a node must use the same router ID`),
			},
		},
		{
			name: "peers sharing a node: same session twice in one VRF",
			s: Snapshot{BGPPeers: []BGPPeerSpec{
				peer("p", "192.0.2.1"),
				with(peer("q", "::ffff:192.0.2.1"), func(p *BGPPeerSpec) { p.PeerPort = 1179 }),
				with(peer("r", "192.0.2.1"), func(p *BGPPeerSpec) { p.VRF = "red" }),
				with(peer("s", ""), func(p *BGPPeerSpec) { p.Interface = "eth1" }),
				with(peer("t", ""), func(p *BGPPeerSpec) { p.Interface = "eth1" }),
			}},
			want: Errors{
				perr(BP, "p", "spec.peerAddress", `session to 192.0.2.1 in the default VRF is also defined by BGPPeer "q"`),
				perr(BP, "q", "spec.peerAddress", `session to 192.0.2.1 in the default VRF is also defined by BGPPeer "p"`),
				perr(BP, "s", "spec.interface", `session on interface "eth1" in the default VRF is also defined by BGPPeer "t"`),
				perr(BP, "t", "spec.interface", `session on interface "eth1" in the default VRF is also defined by BGPPeer "s"`),
			},
		},
		{
			name: "peers sharing a node: myASN differs within a VRF",
			s: Snapshot{
				Nodes: []Node{node("n1")},
				BGPPeers: []BGPPeerSpec{
					peer("p", "192.0.2.1"),
					with(peer("q", "192.0.2.2"), func(p *BGPPeerSpec) { p.MyASN = 64510 }),
					with(peer("r", "192.0.2.3"), func(p *BGPPeerSpec) { p.MyASN, p.VRF = 64520, "red" }),
				},
			},
			want: Errors{
				perr(BP, "p", "spec.myASN", `myASN 64500 differs from myASN 64510 of BGPPeer "q" in the default VRF on node "n1"; peers sharing a node and a VRF must use the same myASN`),
				perr(BP, "q", "spec.myASN", `myASN 64510 differs from myASN 64500 of BGPPeer "p" in the default VRF on node "n1"; peers sharing a node and a VRF must use the same myASN`),
			},
		},
		{
			name: "peers on disjoint nodes may differ",
			s: Snapshot{
				Nodes: []Node{node("n1", "zone", "a"), node("n2", "zone", "b")},
				BGPPeers: []BGPPeerSpec{
					with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) {
						p.RouterID, p.NodeSelectors = "10.0.0.1", []model.Selector{sel("zone", "a")}
					}),
					with(peer("q", "192.0.2.1"), func(p *BGPPeerSpec) {
						p.MyASN, p.RouterID, p.NodeSelectors = 64510, "10.0.0.2", []model.Selector{sel("zone", "b")}
					}),
				},
			},
		},
		{
			name: "peers using what MetalLB native rejects are valid here",
			s: Snapshot{
				Pools:             []PoolSpec{pool("v6", "2001:db8::/120")},
				BFDProfiles:       []BFDProfileSpec{{Meta: Meta{Name: "fast"}}},
				Communities:       []CommunitySpec{{Meta: Meta{Name: "c"}, Communities: []CommunityAlias{{Name: "big", Value: "large:64500:1:2"}}}},
				BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "x"}, Communities: []string{"big", "large:1:2:3"}}},
				BGPPeers: []BGPPeerSpec{{
					Meta: Meta{Name: "p"}, MyASN: 64500, DynamicASN: "external", LocalASN: 64600, Interface: "eth1",
					KeepaliveTime: dur(time.Second), ConnectTime: dur(5 * time.Second), BFDProfile: "fast",
					EnableGracefulRestart: true, EBGPMultiHop: true, VRF: "red", DisableMP: true, DualStackAddressFamily: true,
				}},
			},
		},

		// BFDProfile.
		{
			name: "BFD: values out of range",
			s: Snapshot{BFDProfiles: []BFDProfileSpec{{Meta: Meta{Name: "b"},
				ReceiveInterval: ptr[uint32](9), TransmitInterval: ptr[uint32](60001), DetectMultiplier: ptr[uint32](1),
				EchoInterval: ptr[uint32](0), MinimumTTL: ptr[uint32](255)}}},
			want: Errors{
				perr(BFD, "b", "spec.receiveInterval", "9 is out of range 10..60000"),
				perr(BFD, "b", "spec.transmitInterval", "60001 is out of range 10..60000"),
				perr(BFD, "b", "spec.detectMultiplier", "1 is out of range 2..255"),
				perr(BFD, "b", "spec.echoInterval", "0 is out of range 10..60000"),
				perr(BFD, "b", "spec.minimumTtl", "255 is out of range 1..254"),
			},
		},
		{
			name: "BFD: duplicate names",
			s:    Snapshot{BFDProfiles: []BFDProfileSpec{{Meta: Meta{Name: "b"}}, {Meta: Meta{Name: "b"}}}},
			want: Errors{perr(BFD, "b", "metadata.name", "duplicate definition: 2 objects of kind BFDProfile have this name")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, errs := Compile(tc.s)
			// As plain slices, so cmp shows fields rather than Error().
			if diff := cmp.Diff([]Error(tc.want), []Error(errs)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			// Objects at fault never reach the Config.
			for _, r := range errs.Objects() {
				if cfg.has(r) {
					t.Errorf("%s has errors but is in the Config", r)
				}
			}
		})
	}
}

// has reports whether the Config holds the object r.
func (c *Config) has(r ObjectRef) bool {
	switch r.Kind {
	case KindPool:
		return c.Pools[r.Name] != nil
	case KindBFDProfile:
		return c.BFDProfiles[r.Name] != nil
	case KindL2Advertisement:
		for _, a := range c.L2Advertisements {
			if a.Name == r.Name {
				return true
			}
		}
	case KindBGPAdvertisement:
		for _, a := range c.BGPAdvertisements {
			if a.Name == r.Name {
				return true
			}
		}
	case KindBGPPeer:
		for _, p := range c.BGPPeers {
			if p.Name == r.Name {
				return true
			}
		}
	}
	return false
}

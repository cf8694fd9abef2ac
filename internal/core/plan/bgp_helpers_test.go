package plan

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/google/go-cmp/cmp"
)

// bgpAd returns a BGPAdvertisement of the given pools (all pools when
// none) with the default aggregation lengths, for every node, Service and
// peer.
func bgpAd(name string, pools ...string) *config.BGPAdvertisement {
	if len(pools) == 0 {
		pools = []string{"dual", "v4", "v6"}
	}
	return &config.BGPAdvertisement{
		Name:                name,
		Pools:               pools,
		AggregationLength:   config.DefaultAggregationLength,
		AggregationLengthV6: config.DefaultAggregationLengthV6,
	}
}

func aggLen(a *config.BGPAdvertisement, v4, v6 int) *config.BGPAdvertisement {
	a.AggregationLength, a.AggregationLengthV6 = v4, v6
	return a
}

func localPref(a *config.BGPAdvertisement, lp uint32) *config.BGPAdvertisement {
	a.LocalPref = lp
	return a
}

// withComms sets the communities, sorted as Compile leaves them.
func withComms(a *config.BGPAdvertisement, cs ...string) *config.BGPAdvertisement {
	a.Communities = nil
	for _, c := range cs {
		a.Communities = append(a.Communities, comm(c))
	}
	slices.SortFunc(a.Communities, compareCommunity)
	return a
}

func toPeers(a *config.BGPAdvertisement, names ...string) *config.BGPAdvertisement {
	a.Peers = names
	return a
}

func bgpNodes(a *config.BGPAdvertisement, sels ...model.Selector) *config.BGPAdvertisement {
	a.NodeSelectors = sels
	return a
}

func bgpServices(a *config.BGPAdvertisement, sels ...model.Selector) *config.BGPAdvertisement {
	a.ServiceSelectors = sels
	return a
}

// bgpPeer returns a BGPPeer on every node.
func bgpPeer(name string, myASN, peerASN uint32, addr string) *config.BGPPeer {
	return &config.BGPPeer{
		Name: name, MyASN: myASN, PeerASN: peerASN,
		Address: netip.MustParseAddr(addr), Port: config.DefaultPeerPort,
		HoldTime: config.DefaultHoldTime, KeepaliveTime: config.DefaultKeepaliveTime,
	}
}

func peerNodes(p *config.BGPPeer, sels ...model.Selector) *config.BGPPeer {
	p.NodeSelectors = sels
	return p
}

// The two sessions of most tests: r1 is iBGP, r2 eBGP.
func twoPeers() []*config.BGPPeer {
	return []*config.BGPPeer{
		bgpPeer("r1", 64500, 64500, "192.0.2.1"),
		bgpPeer("r2", 64500, 64501, "192.0.2.2"),
	}
}

// bgpCfg builds a compiled configuration by hand (peers and ads sorted by
// name, as Compile leaves them).
func bgpCfg(pools []*model.Pool, peers []*config.BGPPeer, ads ...*config.BGPAdvertisement) *config.Config {
	c := cfg(pools)
	c.BGPPeers = slices.Clone(peers)
	slices.SortFunc(c.BGPPeers, func(a, b *config.BGPPeer) int { return strings.Compare(a.Name, b.Name) })
	c.BGPAdvertisements = slices.Clone(ads)
	slices.SortFunc(c.BGPAdvertisements, func(a, b *config.BGPAdvertisement) int { return strings.Compare(a.Name, b.Name) })
	return c
}

func comm(s string) config.Community {
	c, err := config.ParseCommunity(s)
	if err != nil {
		panic(err)
	}
	return c
}

// adv is an expected Advertisement; communities given in the expected
// (sorted) order.
func adv(prefix string, lp uint32, comms ...string) Advertisement {
	a := Advertisement{Prefix: netip.MustParsePrefix(prefix), LocalPref: lp}
	for _, c := range comms {
		a.Communities = append(a.Communities, comm(c))
	}
	return a
}

// advs builds an expected advertisement map: peer name, then its list.
func advs(kv ...any) map[string][]Advertisement {
	m := map[string][]Advertisement{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].([]Advertisement)
	}
	return m
}

// announced is the decision of a Service whose IPs are all announced.
func announced(peers []string, ips ...string) BGPDecision {
	d := BGPDecision{Peers: peers}
	for _, ip := range ips {
		d.IPs = append(d.IPs, BGPIPDecision{IP: mustAddr(ip), Announce: true})
	}
	return d
}

// refused is the decision of a Service none of whose IPs is announced,
// all for the same reason.
func refused(reason string, ips ...string) BGPDecision {
	var d BGPDecision
	for _, ip := range ips {
		d.IPs = append(d.IPs, BGPIPDecision{IP: mustAddr(ip), Reason: reason})
	}
	return d
}

// noAddr makes every endpoint of s list no address.
func noAddr(s Service) Service {
	s.Endpoints = slices.Clone(s.Endpoints)
	for i := range s.Endpoints {
		s.Endpoints[i].NoAddresses = true
	}
	return s
}

// cmpBGP lets go-cmp compare netip values.
var cmpBGP = cmp.Options{cmpAddr, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })}

// sessionNames lists the names of a result's sessions.
func sessionNames(r BGPResult) []string {
	var out []string
	for _, p := range r.Sessions {
		out = append(out, p.Name)
	}
	return out
}

package plan

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
)

// bgpBenchInput: nSvc Services with one IP each from 198.18.0.0/15, half
// with traffic policy Local, three endpoints each, on 10 nodes; peers
// sessions (one iBGP, the others eBGP); three advertisements: host routes
// with communities to every peer, /24 aggregates with LOCAL_PREF to the
// first peer, and one with service selectors adding a community.
func bgpBenchInput(nSvc, nPeers int) Input {
	in := Input{Node: "n1"}
	for i := range 10 {
		in.Nodes = append(in.Nodes, node(fmt.Sprintf("n%d", i), "zone", fmt.Sprint("z", i%3)))
	}
	var peers []*config.BGPPeer
	for i := range nPeers {
		asn := uint32(64501 + i)
		if i == 0 {
			asn = 64500
		}
		peers = append(peers, bgpPeer(fmt.Sprintf("r%d", i), 64500, asn, fmt.Sprintf("192.0.2.%d", i+1)))
	}
	in.Config = bgpCfg([]*model.Pool{pool("big", "198.18.0.0/15")}, peers,
		withComms(bgpAd("host", "big"), "65000:1", "large:65000:1:1"),
		toPeers(localPref(aggLen(bgpAd("agg", "big"), 24, 128), 200), "r0"),
		withComms(bgpServices(bgpAd("web", "big"), sel("app", "web")), "65000:80"),
	)
	ip := netip.MustParseAddr("198.18.0.1")
	for i := range nSvc {
		s := labeled(svc(fmt.Sprintf("ns/svc-%05d", i), ip.String()), "app", []string{"web", "db"}[i%2])
		ip = ip.Next()
		s.Endpoints = nil
		for e := range 3 {
			s.Endpoints = append(s.Endpoints, Endpoint{Node: fmt.Sprintf("n%d", (i+e)%10), Ready: bptr(true)})
		}
		if i%2 == 0 {
			s.ExternalTrafficPolicy = TrafficPolicyLocal
		}
		in.Services = append(in.Services, s)
	}
	return in
}

func BenchmarkDesiredBGP(b *testing.B) {
	for _, c := range []struct{ svcs, peers int }{{1000, 3}, {10000, 3}} {
		b.Run(fmt.Sprintf("%dsvc-%dpeers", c.svcs, c.peers), func(b *testing.B) {
			in := bgpBenchInput(c.svcs, c.peers)
			if res := DesiredBGP(in); len(res.Advertisements) != c.peers {
				b.Fatalf("benchmark input advertises to %d peers, want %d", len(res.Advertisements), c.peers)
			}
			b.ReportAllocs()
			for b.Loop() {
				DesiredBGP(in)
			}
		})
	}
}

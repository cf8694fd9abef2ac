package plan

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
)

// benchInput: nSvc Services on nNodes nodes, one IP each from
// 198.18.0.0/15 (every tenth pair of Services shares an IP), half with
// traffic policy Local, three endpoints each; two advertisements, one with
// a node selector and a preferred node.
func benchInput(nSvc, nNodes int) Input {
	in := Input{Node: "n1"}
	for i := range nNodes {
		in.Nodes = append(in.Nodes, node(fmt.Sprintf("n%d", i), "zone", fmt.Sprint("z", i%3)))
	}
	big := pool("big", "198.18.0.0/15")
	in.Config = cfg([]*model.Pool{big},
		withPref(withNodes(&config.L2Advertisement{Name: "a", Pools: []string{"big"}}, sel("zone", "z0"), sel("zone", "z1")), 10, sel("zone", "z1")),
		withIfaces(&config.L2Advertisement{Name: "b", Pools: []string{"big"}}, "eth0"),
	)
	ip := netip.MustParseAddr("198.18.0.1")
	for i := range nSvc {
		s := svc(fmt.Sprintf("ns/svc-%05d", i), ip.String())
		if i%20 != 0 { // every 20th Service takes the previous one's IP
			ip = ip.Next()
		} else {
			s = shared(s, "k")
		}
		s.Endpoints = nil
		for e := range 3 {
			s.Endpoints = append(s.Endpoints, Endpoint{Node: fmt.Sprintf("n%d", (i+e)%nNodes), Ready: bptr(true)})
		}
		if i%2 == 0 {
			s.ExternalTrafficPolicy = TrafficPolicyLocal
		}
		in.Services = append(in.Services, s)
	}
	return in
}

func BenchmarkDesired(b *testing.B) {
	for _, c := range []struct{ svcs, nodes int }{{1000, 3}, {10000, 100}} {
		b.Run(fmt.Sprintf("%dsvc-%dnodes", c.svcs, c.nodes), func(b *testing.B) {
			in := benchInput(c.svcs, c.nodes)
			if res := Desired(in); len(res.Announcements) == 0 {
				b.Fatal("benchmark input announces nothing")
			}
			b.ReportAllocs()
			for b.Loop() {
				Desired(in)
			}
		})
	}
}

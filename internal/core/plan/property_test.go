package plan

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
)

// randomInput builds a small random cluster in which IPs are often shared
// and every rule has a fair chance to matter.
func randomInput(r *rand.Rand) Input {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	maybe := func(p float64) bool { return r.Float64() < p }
	var in Input

	nNodes := 1 + r.IntN(6)
	for i := range nNodes {
		n := node(fmt.Sprintf("n%d", i), "zone", pick("a", "b"), "rack", pick("r1", "r2"))
		n.NetworkUnavailable = maybe(0.15)
		if maybe(0.15) {
			n.Labels[LabelExcludeFromLB] = ""
		}
		in.Nodes = append(in.Nodes, n)
	}
	if !maybe(0.3) {
		in.Speakers = map[string]bool{}
		for _, n := range in.Nodes {
			in.Speakers[n.Name] = maybe(0.8)
		}
		in.Speakers["ghost"] = true
	}
	in.IgnoreExcludeLB = maybe(0.2)

	nodeSels := []model.Selector{sel("zone", "a"), sel("zone", "b"), sel("rack", "r1")}
	svcSels := []model.Selector{sel("app", "web"), sel("app", "db")}
	var ads []*config.L2Advertisement
	for i := range 1 + r.IntN(4) {
		var pools []string
		for _, p := range []string{"dual", "v4", "v6"} {
			if maybe(0.7) {
				pools = append(pools, p)
			}
		}
		a := &config.L2Advertisement{Name: fmt.Sprintf("ad%d", i), Pools: pools}
		if maybe(0.5) {
			a.NodeSelectors = []model.Selector{nodeSels[r.IntN(len(nodeSels))]}
			if maybe(0.3) {
				a.NodeSelectors = append(a.NodeSelectors, nodeSels[r.IntN(len(nodeSels))])
			}
		}
		if maybe(0.3) {
			a.ServiceSelectors = []model.Selector{svcSels[r.IntN(len(svcSels))]}
		}
		if maybe(0.5) {
			a.Interfaces = []string{pick("eth0", "eth1")}
		}
		for range r.IntN(3) {
			a.PreferredNodeSelectors = append(a.PreferredNodeSelectors, config.PreferredNodeSelector{
				Weight: int32(1 + r.IntN(100)), Preference: nodeSels[r.IntN(len(nodeSels))],
			})
		}
		ads = append(ads, a)
	}
	in.Config = cfg(allPools, ads...)

	v4s := []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "2001:db8:1::1", "2001:db8:1::2"}
	duals := [][2]string{{"198.51.100.1", "2001:db8:2::1"}, {"198.51.100.2", "2001:db8:2::2"}}
	for i := range 1 + r.IntN(12) {
		s := labeled(svc(fmt.Sprintf("ns/s%02d", i)), "app", pick("web", "db"))
		switch x := r.Float64(); {
		case x < 0.03:
			s.Type = "ClusterIP"
		case x < 0.06:
		case x < 0.08:
			s.IPs = []netip.Addr{mustAddr("192.0.2.1")} // in no pool
		case x < 0.3:
			d := duals[r.IntN(len(duals))]
			s.IPs = []netip.Addr{mustAddr(d[0]), mustAddr(d[1])}
			if maybe(0.3) {
				s.IPs = s.IPs[:1]
			}
		default:
			s.IPs = []netip.Addr{mustAddr(v4s[r.IntN(len(v4s))])}
		}
		switch r.IntN(4) {
		case 0:
			s.Annotations[AnnotationAllowSharedIP] = "k"
		case 1:
			s.Annotations[DeprecatedAnnotationAllowSharedIP] = "k"
		}
		if maybe(0.5) {
			s.ExternalTrafficPolicy = TrafficPolicyLocal
		}
		s.Endpoints = nil
		bools := []*bool{nil, bptr(true), bptr(false)}
		for range r.IntN(4) {
			n := pick("", "ghost")
			if maybe(0.8) {
				n = in.Nodes[r.IntN(len(in.Nodes))].Name
			}
			s.Endpoints = append(s.Endpoints, Endpoint{Node: n, Ready: bools[r.IntN(3)], Serving: bools[r.IntN(3)]})
		}
		in.Services = append(in.Services, s)
	}
	return in
}

// refEligible is the reference reading of the rules, written plainly: can
// Service s have its IP ip announced at all (valid), and by which nodes.
func refEligible(in Input, s Service, ip netip.Addr) (valid bool, eligible map[string]bool) {
	if s.Type != TypeLoadBalancer || len(s.IPs) == 0 {
		return false, nil
	}
	poolOf := func(a netip.Addr) string {
		for name, p := range in.Config.Pools {
			if p.Contains(a) {
				return name
			}
		}
		return ""
	}
	for _, a := range s.IPs {
		if !a.IsValid() || poolOf(a) == "" {
			return false, nil
		}
	}
	if !slices.ContainsFunc(s.Endpoints, Endpoint.CanServe) {
		return false, nil
	}
	var applying []*config.L2Advertisement
	for _, a := range in.Config.L2Advertisements {
		if slices.Contains(a.Pools, poolOf(ip)) && (len(a.ServiceSelectors) == 0 || model.MatchesAny(a.ServiceSelectors, s.Labels)) {
			applying = append(applying, a)
		}
	}
	key, ok := s.Annotations[AnnotationAllowSharedIP]
	if !ok {
		key = s.Annotations[DeprecatedAnnotationAllowSharedIP]
	}
	if len(applying) == 0 || key != "" && slices.ContainsFunc(applying, func(a *config.L2Advertisement) bool { return len(a.ServiceSelectors) > 0 }) {
		return false, nil
	}
	eligible = map[string]bool{}
	for _, n := range in.Nodes {
		if in.Speakers != nil && !in.Speakers[n.Name] || n.NetworkUnavailable {
			continue
		}
		if _, ex := n.Labels[LabelExcludeFromLB]; ex && !in.IgnoreExcludeLB {
			continue
		}
		if !slices.ContainsFunc(applying, func(a *config.L2Advertisement) bool { return a.SelectsNode(n.Labels) }) {
			continue
		}
		if s.ExternalTrafficPolicy == TrafficPolicyLocal &&
			!slices.ContainsFunc(s.Endpoints, func(e Endpoint) bool { return e.CanServe() && e.Node == n.Name }) {
			continue
		}
		eligible[n.Name] = true
	}
	return true, eligible
}

// shuffled returns a copy of in with Nodes and Services in random order.
func shuffled(r *rand.Rand, in Input) Input {
	in.Nodes = slices.Clone(in.Nodes)
	in.Services = slices.Clone(in.Services)
	r.Shuffle(len(in.Nodes), func(i, j int) { in.Nodes[i], in.Nodes[j] = in.Nodes[j], in.Nodes[i] })
	r.Shuffle(len(in.Services), func(i, j int) { in.Services[i], in.Services[j] = in.Services[j], in.Services[i] })
	return in
}

// Every node evaluates the same snapshot (each in its own slice order):
// each IP that some node may announce is announced by exactly one node,
// the others by none; that node serves every Service of the IP it is
// eligible for, and no node is eligible for more of them; every node
// reports the same owners.
func TestPropertyOneAnnouncerPerIP(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	announced, unannounceable, split, disagree := 0, 0, 0, 0
	for iter := range 3000 {
		in := randomInput(r)
		results := map[string]Result{}
		for _, n := range in.Nodes {
			view := shuffled(r, in)
			view.Node = n.Name
			results[n.Name] = Desired(view)
		}

		// Reference: per IP, the valid Services and who is eligible.
		type holder struct {
			key      string
			eligible map[string]bool
		}
		byIP := map[netip.Addr][]holder{}
		for _, s := range in.Services {
			for _, ip := range s.IPs {
				if !ip.IsValid() {
					continue
				}
				if _, ok := byIP[ip]; !ok {
					byIP[ip] = nil
				}
				if valid, el := refEligible(in, s, ip); valid {
					byIP[ip] = append(byIP[ip], holder{s.Key, el})
				}
			}
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("iteration %d: %s\ninput: %+v", iter, fmt.Sprintf(format, args...), in)
		}
		for ip, holders := range byIP {
			cover := map[string]int{}
			for _, h := range holders {
				for n := range h.eligible {
					cover[n]++
				}
			}
			var announcers []string
			for n, res := range results {
				if _, ok := res.Announcements[ip]; ok {
					announcers = append(announcers, n)
				}
			}
			if len(cover) == 0 {
				unannounceable++
				if len(announcers) != 0 {
					fail("%s: nobody is eligible but %v announce it", ip, announcers)
				}
				continue
			}
			if len(announcers) != 1 {
				fail("%s: announced by %v, want exactly one of %v", ip, announcers, cover)
			}
			announced++
			for _, h := range holders[1:] {
				if !maps.Equal(h.eligible, holders[0].eligible) {
					disagree++
					break
				}
			}
			owner := announcers[0]
			for _, c := range cover {
				if c > cover[owner] {
					fail("%s: owner %s serves %d Services, another node %d (%v)", ip, owner, cover[owner], c, cover)
				}
			}
			var want []string
			for _, h := range holders {
				if h.eligible[owner] {
					want = append(want, h.key)
				}
			}
			slices.Sort(want)
			if got := results[owner].Announcements[ip].Services; !slices.Equal(got, want) {
				fail("%s: %s announces for %v, want %v", ip, owner, got, want)
			}
		}

		// Decisions: same owners everywhere, Announce only on the owner.
		for _, s := range in.Services {
			var ref Decision
			for i, n := range in.Nodes {
				d := results[n.Name].Services[s.Key]
				if i == 0 {
					ref = d
				}
				if d.Reason != ref.Reason || len(d.IPs) != len(ref.IPs) {
					fail("%s: %s decides %+v, %s decides %+v", s.Key, n.Name, d, in.Nodes[0].Name, ref)
				}
				for j := range d.IPs {
					if d.IPs[j].Owner != ref.IPs[j].Owner {
						fail("%s: %s says owner %q, %s says %q", s.Key, n.Name, d.IPs[j].Owner, in.Nodes[0].Name, ref.IPs[j].Owner)
					}
					if d.IPs[j].Announce != (d.IPs[j].Owner == n.Name) || d.IPs[j].Announce != (d.IPs[j].Reason == "") {
						fail("%s on %s: inconsistent %+v", s.Key, n.Name, d.IPs[j])
					}
				}
			}
			if len(ref.IPs) == 2 && ref.IPs[0].Owner != "" && ref.IPs[1].Owner != "" && ref.IPs[0].Owner != ref.IPs[1].Owner {
				split++
			}
		}
	}
	// The generator must exercise both outcomes, dual-stack Services with
	// IPs owned by different nodes, and shared IPs whose Services have
	// different candidates.
	if announced < 1000 || unannounceable < 300 || split < 20 || disagree < 100 {
		t.Errorf("weak generator: %d announced IPs, %d unannounceable, %d split dual-stack Services, %d IPs whose Services disagree on candidates",
			announced, unannounceable, split, disagree)
	}
	t.Logf("%d announced IPs, %d unannounceable, %d split dual-stack Services, %d IPs whose Services disagree on candidates",
		announced, unannounceable, split, disagree)
}

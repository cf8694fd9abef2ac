package ipam

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// svcOpt adjusts a test Service.
type svcOpt func(*model.Service)

// svc returns an IPv4 single-stack Service "ns/name" with no sharing key.
func svc(key string, opts ...svcOpt) model.Service {
	ns, _, _ := strings.Cut(key, "/")
	s := model.Service{Key: key, Namespace: ns, Families: []model.Family{model.IPv4}, Policy: model.SingleStack}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func v6only(s *model.Service) { s.Families = []model.Family{model.IPv6} }

// dual makes the Service dual-stack with the given policy; primary is the
// first cluster IP family.
func dual(policy model.FamilyPolicy, primary model.Family) svcOpt {
	return func(s *model.Service) {
		s.Policy = policy
		if primary == model.IPv6 {
			s.Families = []model.Family{model.IPv6, model.IPv4}
		} else {
			s.Families = []model.Family{model.IPv4, model.IPv6}
		}
	}
}

func share(k string) svcOpt { return func(s *model.Service) { s.SharingKey = k } }

func backend(k string) svcOpt { return func(s *model.Service) { s.BackendKey = k } }

func labels(kv ...string) svcOpt {
	return func(s *model.Service) {
		s.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Labels[kv[i]] = kv[i+1]
		}
	}
}

// ports takes "TCP/80"-style pairs.
func ports(ps ...string) svcOpt {
	return func(s *model.Service) {
		s.Ports = nil
		for _, p := range ps {
			proto, num, _ := strings.Cut(p, "/")
			n, err := strconv.Atoi(num)
			if err != nil {
				panic(err)
			}
			s.Ports = append(s.Ports, model.Port{Protocol: proto, Port: int32(n)})
		}
	}
}

// poolOpt adjusts a test pool.
type poolOpt func(*model.Pool)

func pool(name string, cidrs []string, opts ...poolOpt) *model.Pool {
	p := &model.Pool{Name: name, AutoAssign: true}
	for _, c := range cidrs {
		p.CIDRs = append(p.CIDRs, netip.MustParsePrefix(c))
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func manual(p *model.Pool) { p.AutoAssign = false }

func avoidBuggy(p *model.Pool) { p.AvoidBuggyIPs = true }

func alloc(p *model.Pool) *model.Allocation {
	if p.Allocation == nil {
		p.Allocation = &model.Allocation{}
	}
	return p.Allocation
}

// priority sets only a priority: the pool is then pinned for every Service.
func priority(n int) poolOpt {
	return func(p *model.Pool) {
		al := alloc(p)
		al.Priority = n
		if !al.NamespaceRestricted && len(al.ServiceSelectors) == 0 {
			al.ServiceSelectors = []model.Selector{{}}
		}
	}
}

func namespaces(ns ...string) poolOpt {
	return func(p *model.Pool) {
		al := alloc(p)
		if len(al.ServiceSelectors) == 1 && al.ServiceSelectors[0].Empty() {
			al.ServiceSelectors = nil
		}
		al.NamespaceRestricted = true
		al.Namespaces = map[string]bool{}
		for _, n := range ns {
			al.Namespaces[n] = true
		}
	}
}

func selector(kv ...string) poolOpt {
	return func(p *model.Pool) {
		al := alloc(p)
		if len(al.ServiceSelectors) == 1 && al.ServiceSelectors[0].Empty() {
			al.ServiceSelectors = nil
		}
		sel := model.Selector{MatchLabels: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			sel.MatchLabels[kv[i]] = kv[i+1]
		}
		al.ServiceSelectors = append(al.ServiceSelectors, sel)
	}
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func addrStrings(ips []netip.Addr) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func newWith(t testing.TB, pools ...*model.Pool) *Allocator {
	t.Helper()
	a := New()
	if inv := a.SetPools(pools); len(inv) != 0 {
		t.Fatalf("SetPools on an empty allocator reported invalid %v", inv)
	}
	return a
}

package plan

import (
	"net/netip"
	"slices"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/google/go-cmp/cmp"
)

func bptr(b bool) *bool { return &b }

func labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func sel(kv ...string) model.Selector { return model.Selector{MatchLabels: labels(kv...)} }

func pool(name string, cidrs ...string) *model.Pool {
	p := &model.Pool{Name: name, AutoAssign: true}
	for _, c := range cidrs {
		p.CIDRs = append(p.CIDRs, netip.MustParsePrefix(c))
	}
	return p
}

// cfg builds a compiled configuration by hand: the pools, and the ads in
// the given order (the compiler sorts them by name; so do the tests).
func cfg(pools []*model.Pool, ads ...*config.L2Advertisement) *config.Config {
	c := &config.Config{Pools: map[string]*model.Pool{}}
	for _, p := range pools {
		c.Pools[p.Name] = p
		c.PoolNames = append(c.PoolNames, p.Name)
	}
	slices.Sort(c.PoolNames)
	c.L2Advertisements = ads
	return c
}

// Pools used by most tests: documentation ranges only.
var (
	poolV4   = pool("v4", "203.0.113.0/24")
	poolV6   = pool("v6", "2001:db8:1::/64")
	poolDual = pool("dual", "198.51.100.0/24", "2001:db8:2::/64")
	allPools = []*model.Pool{poolV4, poolV6, poolDual}
)

// ad returns an advertisement of the given pools (all pools when none).
func ad(name string, pools ...string) *config.L2Advertisement {
	if len(pools) == 0 {
		pools = []string{"dual", "v4", "v6"}
	}
	return &config.L2Advertisement{Name: name, Pools: pools}
}

func withNodes(a *config.L2Advertisement, sels ...model.Selector) *config.L2Advertisement {
	a.NodeSelectors = sels
	return a
}

func withServices(a *config.L2Advertisement, sels ...model.Selector) *config.L2Advertisement {
	a.ServiceSelectors = sels
	return a
}

func withIfaces(a *config.L2Advertisement, ifaces ...string) *config.L2Advertisement {
	a.Interfaces = ifaces
	return a
}

func withPref(a *config.L2Advertisement, weight int32, s model.Selector) *config.L2Advertisement {
	a.PreferredNodeSelectors = append(a.PreferredNodeSelectors, config.PreferredNodeSelector{Weight: weight, Preference: s})
	return a
}

func node(name string, kv ...string) Node { return Node{Name: name, Labels: labels(kv...)} }

// threeNodes: n1 and n2 in zone a, n3 in zone b.
func threeNodes() []Node {
	return []Node{node("n1", "zone", "a"), node("n2", "zone", "a"), node("n3", "zone", "b")}
}

// svc is a LoadBalancer Service with traffic policy Cluster and one ready
// endpoint on n1.
func svc(key string, ips ...string) Service {
	s := Service{Key: key, Type: TypeLoadBalancer, Labels: map[string]string{}, Annotations: map[string]string{}}
	for _, ip := range ips {
		s.IPs = append(s.IPs, netip.MustParseAddr(ip))
	}
	s.Endpoints = []Endpoint{{Node: "n1"}}
	return s
}

// local makes s use traffic policy Local with ready endpoints on nodes.
func local(s Service, nodes ...string) Service {
	s.ExternalTrafficPolicy = TrafficPolicyLocal
	s.Endpoints = nil
	for _, n := range nodes {
		s.Endpoints = append(s.Endpoints, Endpoint{Node: n, Ready: bptr(true)})
	}
	return s
}

func shared(s Service, key string) Service {
	s.Annotations[AnnotationAllowSharedIP] = key
	return s
}

func labeled(s Service, kv ...string) Service {
	s.Labels = labels(kv...)
	return s
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// everyNode runs Desired once per node of in.Nodes, as that node.
func everyNode(in Input) map[string]Result {
	out := map[string]Result{}
	for _, n := range in.Nodes {
		in.Node = n.Name
		out[n.Name] = Desired(in)
	}
	return out
}

// cmpAddr lets go-cmp compare netip.Addr values (unexported fields).
var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Default aggregation lengths of a BGPAdvertisement: one prefix per IP.
const (
	DefaultAggregationLength   = 32
	DefaultAggregationLengthV6 = 128
)

// L2Advertisement is a validated L2Advertisement with its pools resolved.
type L2Advertisement struct {
	Name string
	// Pools are the names of the pools it applies to (sorted): by name, by
	// label selector, or every pool when the object names none.
	Pools []string
	// NodeSelectors: nodes allowed to announce (any matches; empty = all).
	NodeSelectors []model.Selector
	// Interfaces to announce on (sorted, each once); empty = all.
	Interfaces []string
	// ServiceSelectors: Services announced (any matches; empty = all).
	ServiceSelectors       []model.Selector
	PreferredNodeSelectors []PreferredNodeSelector
}

// SelectsNode reports whether a node with these labels may announce.
func (a *L2Advertisement) SelectsNode(labels map[string]string) bool {
	return matchesOrAll(a.NodeSelectors, labels)
}

// SelectsService reports whether a Service with these labels is announced.
func (a *L2Advertisement) SelectsService(labels map[string]string) bool {
	return matchesOrAll(a.ServiceSelectors, labels)
}

// BGPAdvertisement is a validated BGPAdvertisement with defaults applied,
// communities parsed (aliases resolved) and pools resolved.
type BGPAdvertisement struct {
	Name                string
	AggregationLength   int // IPv4, default 32
	AggregationLengthV6 int // default 128
	LocalPref           uint32
	// Communities sorted (legacy first), each once.
	Communities []Community
	// Pools are the names of the pools it applies to (sorted).
	Pools []string
	// NodeSelectors: nodes that announce (any matches; empty = all).
	NodeSelectors []model.Selector
	// Peers are BGPPeer names to advertise to; empty = all peers.
	Peers []string
	// ServiceSelectors: Services advertised (any matches; empty = all).
	ServiceSelectors []model.Selector
}

// SelectsNode reports whether a node with these labels announces.
func (a *BGPAdvertisement) SelectsNode(labels map[string]string) bool {
	return matchesOrAll(a.NodeSelectors, labels)
}

// SelectsService reports whether a Service with these labels is advertised.
func (a *BGPAdvertisement) SelectsService(labels map[string]string) bool {
	return matchesOrAll(a.ServiceSelectors, labels)
}

// SelectsPeer reports whether the advertisement goes to the named BGPPeer.
func (a *BGPAdvertisement) SelectsPeer(name string) bool {
	return len(a.Peers) == 0 || slices.Contains(a.Peers, name)
}

func (c *compiler) l2Advertisements(cfg *Config) []*L2Advertisement {
	specs := byName(&c.errs, KindL2Advertisement, c.s.L2Advertisements, func(a L2AdvertisementSpec) string { return a.Name })
	var out []*L2Advertisement
	for _, s := range specs {
		k, n := KindL2Advertisement, s.Name
		checkDuplicateNames(&c.errs, k, n, "spec.ipAddressPools", "pool", s.IPAddressPools)
		checkSelectors(&c.errs, k, n, "spec.ipAddressPoolSelectors", s.IPAddressPoolSelectors, false)
		checkSelectors(&c.errs, k, n, "spec.nodeSelectors", s.NodeSelectors, false)
		checkSelectors(&c.errs, k, n, "spec.serviceSelectors", s.ServiceSelectors, false)
		for i, p := range s.PreferredNodeSelectors {
			field := fmt.Sprintf("spec.preferredNodeSelectors[%d]", i)
			if p.Weight < 1 || p.Weight > 100 {
				c.errs.add(k, n, field+".weight", "weight %d is out of range 1..100", p.Weight)
			}
			if err := checkSelector(p.Preference, false); err != nil {
				c.errs.add(k, n, field+".preference", "invalid selector: %v", err)
			}
		}
		if c.errs.faulty(k, n) {
			continue
		}
		ifaces := slices.Clone(s.Interfaces)
		slices.Sort(ifaces)
		out = append(out, &L2Advertisement{
			Name:                   n,
			Pools:                  selectedPools(cfg, s.IPAddressPools, s.IPAddressPoolSelectors),
			NodeSelectors:          slices.Clone(s.NodeSelectors),
			Interfaces:             slices.Compact(ifaces),
			ServiceSelectors:       slices.Clone(s.ServiceSelectors),
			PreferredNodeSelectors: slices.Clone(s.PreferredNodeSelectors),
		})
	}
	return out
}

func (c *compiler) bgpAdvertisements(cfg *Config, aliases map[string]Community) []*BGPAdvertisement {
	specs := byName(&c.errs, KindBGPAdvertisement, c.s.BGPAdvertisements, func(a BGPAdvertisementSpec) string { return a.Name })
	ads := make([]*BGPAdvertisement, 0, len(specs))
	for _, s := range specs {
		ads = append(ads, c.bgpAdvertisement(cfg, s, aliases))
	}
	c.checkLocalPref(cfg, ads)
	var out []*BGPAdvertisement
	for _, ad := range ads {
		if !c.errs.faulty(KindBGPAdvertisement, ad.Name) {
			out = append(out, ad)
		}
	}
	return out
}

// bgpAdvertisement checks the rules of one BGPAdvertisement on its own and
// against the valid pools it selects.
func (c *compiler) bgpAdvertisement(cfg *Config, s BGPAdvertisementSpec, aliases map[string]Community) *BGPAdvertisement {
	k, n := KindBGPAdvertisement, s.Name
	ad := &BGPAdvertisement{
		Name:                n,
		AggregationLength:   DefaultAggregationLength,
		AggregationLengthV6: DefaultAggregationLengthV6,
		LocalPref:           s.LocalPref,
		Pools:               selectedPools(cfg, s.IPAddressPools, s.IPAddressPoolSelectors),
		NodeSelectors:       slices.Clone(s.NodeSelectors),
		Peers:               slices.Clone(s.Peers),
		ServiceSelectors:    slices.Clone(s.ServiceSelectors),
	}
	agg4ok, agg6ok := true, true
	if l := s.AggregationLength; l != nil {
		ad.AggregationLength = int(*l)
		if *l < 1 || *l > 32 {
			c.errs.add(k, n, "spec.aggregationLength", "aggregation length %d is out of range 1..32", *l)
			agg4ok = false
		}
	}
	if l := s.AggregationLengthV6; l != nil {
		ad.AggregationLengthV6 = int(*l)
		if *l < 0 || *l > 128 {
			c.errs.add(k, n, "spec.aggregationLengthV6", "aggregation length %d is out of range 0..128", *l)
			agg6ok = false
		}
	}
	if len(s.ServiceSelectors) > 0 && (ad.AggregationLength != DefaultAggregationLength || ad.AggregationLengthV6 != DefaultAggregationLengthV6) {
		c.errs.add(k, n, "spec.serviceSelectors",
			"serviceSelectors can only be used with the default aggregationLength (32) and aggregationLengthV6 (128), not %d and %d",
			ad.AggregationLength, ad.AggregationLengthV6)
	}

	checkDuplicateNames(&c.errs, k, n, "spec.communities", "community", s.Communities)
	for i, v := range s.Communities {
		field := fmt.Sprintf("spec.communities[%d]", i)
		if cm, ok := aliases[v]; ok {
			ad.Communities = append(ad.Communities, cm)
			continue
		}
		if !strings.Contains(v, ":") {
			c.errs.addTransient(k, n, field, "unknown community alias %q (no valid Community object defines it)", v)
			continue
		}
		cm, err := ParseCommunity(v)
		if err != nil {
			c.errs.add(k, n, field, "%v", err)
			continue
		}
		ad.Communities = append(ad.Communities, cm)
	}
	slices.SortFunc(ad.Communities, compareCommunities)
	ad.Communities = slices.Compact(ad.Communities)

	checkDuplicateNames(&c.errs, k, n, "spec.ipAddressPools", "pool", s.IPAddressPools)
	checkSelectors(&c.errs, k, n, "spec.ipAddressPoolSelectors", s.IPAddressPoolSelectors, false)
	checkSelectors(&c.errs, k, n, "spec.nodeSelectors", s.NodeSelectors, false)
	checkDuplicateNames(&c.errs, k, n, "spec.peers", "peer", s.Peers)
	checkSelectors(&c.errs, k, n, "spec.serviceSelectors", s.ServiceSelectors, false)

	for _, pool := range ad.Pools {
		if agg4ok {
			c.checkAggregation(ad, pool, model.IPv4, "spec.aggregationLength", ad.AggregationLength)
		}
		if agg6ok {
			c.checkAggregation(ad, pool, model.IPv6, "spec.aggregationLengthV6", ad.AggregationLengthV6)
		}
	}
	return ad
}

// checkAggregation reports the first entry of a pool, of family fam, whose
// shortest prefix is longer than the aggregation length: aggregating it
// would advertise addresses outside the pool.
func (c *compiler) checkAggregation(ad *BGPAdvertisement, pool string, fam model.Family, field string, length int) {
	for _, e := range c.poolEntries[pool] {
		if len(e.prefixes) == 0 || model.FamilyOf(e.prefixes[0].Addr()) != fam {
			continue
		}
		shortest := e.prefixes[0].Bits()
		for _, p := range e.prefixes[1:] {
			shortest = min(shortest, p.Bits())
		}
		if shortest > length {
			c.errs.add(KindBGPAdvertisement, ad.Name, field,
				"invalid aggregation length %d: %s of IPAddressPool %q is more specific than the aggregation length (shortest prefix /%d)",
				length, e.describe(), pool, shortest)
			return
		}
	}
}

// checkLocalPref applies the LOCAL_PREF rule to the advertisements valid so
// far: two advertisements without serviceSelectors that cover the same pool
// must agree on localPref, unless their aggregation lengths differ for
// every family of the pool, or both name peers and share none, or they
// select disjoint node sets. Both sides of a conflict are reported. The
// cost is quadratic in the advertisements covering one pool only.
func (c *compiler) checkLocalPref(cfg *Config, ads []*BGPAdvertisement) {
	nodes := make([]nodeSet, len(ads))
	byPool := map[string][]int{}
	for i, ad := range ads {
		if len(ad.ServiceSelectors) > 0 || c.errs.faulty(KindBGPAdvertisement, ad.Name) {
			continue
		}
		nodes[i] = c.selectNodes(ad.NodeSelectors)
		for _, p := range ad.Pools {
			byPool[p] = append(byPool[p], i)
		}
	}
	reported := map[[2]int]bool{}
	var conflicts [][3]int // ad, other ad, pool index
	for pi, pool := range cfg.PoolNames {
		idx := byPool[pool]
		p := cfg.Pools[pool]
		for x := 0; x < len(idx); x++ {
			for y := x + 1; y < len(idx); y++ {
				a, b := ads[idx[x]], ads[idx[y]]
				if a.LocalPref == b.LocalPref || reported[[2]int{idx[x], idx[y]}] {
					continue
				}
				if !localPrefClash(p, a, b, nodes[idx[x]], nodes[idx[y]]) {
					continue
				}
				reported[[2]int{idx[x], idx[y]}] = true
				conflicts = append(conflicts, [3]int{idx[x], idx[y], pi}, [3]int{idx[y], idx[x], pi})
			}
		}
	}
	for _, cf := range conflicts {
		a, b := ads[cf[0]], ads[cf[1]]
		c.errs.add(KindBGPAdvertisement, a.Name, "spec.localPref",
			"local preference %d conflicts with local preference %d of BGPAdvertisement %q for IPAddressPool %q: both would advertise the same prefixes to a common peer from a common node",
			a.LocalPref, b.LocalPref, b.Name, cfg.PoolNames[cf[2]])
	}
}

// localPrefClash reports whether two advertisements of one pool would send
// the same prefix to the same peer from the same node: same aggregation
// length for some family of the pool, a common peer (an empty list meaning
// all peers) and a common node.
func localPrefClash(p *model.Pool, a, b *BGPAdvertisement, na, nb nodeSet) bool {
	sameLength := (p.HasFamily(model.IPv4) && a.AggregationLength == b.AggregationLength) ||
		(p.HasFamily(model.IPv6) && a.AggregationLengthV6 == b.AggregationLengthV6)
	commonPeer := len(a.Peers) == 0 || len(b.Peers) == 0 ||
		slices.ContainsFunc(a.Peers, func(s string) bool { return slices.Contains(b.Peers, s) })
	return sameLength && commonPeer && na.overlaps(nb)
}

package config

import (
	"cmp"
	"slices"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Config is a compiled, validated configuration. It holds only objects
// without errors. Slices are sorted by name. Label maps and selectors are
// shared with the Snapshot it came from: treat everything as read-only.
type Config struct {
	// Pools by name, and their names sorted.
	Pools     map[string]*model.Pool
	PoolNames []string

	L2Advertisements  []*L2Advertisement
	BGPAdvertisements []*BGPAdvertisement
	BGPPeers          []*BGPPeer
	// BFDProfiles by name; BGPPeer.BFDProfile points into this map.
	BFDProfiles map[string]*BFDProfile
}

// Compile validates every object of s, applies defaults and resolves
// references (pool selectors, namespace selectors, community aliases,
// password Secrets, BFD profiles). It returns a Config holding only the
// objects without errors, and every error found.
//
// A conflict between two objects of the same kind (overlapping pools,
// incompatible LOCAL_PREF, peers clashing on a node, an alias defined
// twice) is reported on both objects, so both are left out of the Config;
// Resolve decides which version of each to keep.
//
// Cost: O(n log n) in the number of pool CIDRs for the overlap check; the
// advertisement and peer rules are quadratic only in the number of
// advertisements per pool and of peers sharing a node, which are small.
func Compile(s Snapshot) (*Config, Errors) {
	c := &compiler{s: s}
	cfg := &Config{}
	cfg.BFDProfiles = c.bfdProfiles()
	aliases := c.communities()
	cfg.Pools, cfg.PoolNames = c.pools()
	cfg.BGPAdvertisements = c.bgpAdvertisements(cfg, aliases)
	cfg.L2Advertisements = c.l2Advertisements(cfg)
	cfg.BGPPeers = c.bgpPeers(cfg)
	return cfg, c.errs.sorted()
}

// compiler carries the input and the errors found so far through one
// Compile call.
type compiler struct {
	s    Snapshot
	errs errorList
	// poolEntries keeps the parsed address entries of each valid pool, for
	// the aggregation length rule (which reasons per entry, not per CIDR).
	poolEntries map[string][]poolEntry
}

// byName returns items sorted by name (stable, so the first of equal names
// comes first) with each name once, and reports every name used by more
// than one object; such a name is at fault and its objects are left out.
func byName[T any](errs *errorList, kind Kind, items []T, name func(T) string) []T {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b T) int { return cmp.Compare(name(a), name(b)) })
	out := sorted[:0:0]
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && name(sorted[j]) == name(sorted[i]) {
			j++
		}
		if j-i > 1 {
			errs.add(kind, name(sorted[i]), "metadata.name", "duplicate definition: %d objects of kind %s have this name", j-i, kind)
		}
		out = append(out, sorted[i])
		i = j
	}
	return out
}

// selectedPools returns the sorted names of the pools of cfg chosen by a
// list of names and a list of label selectors; both empty means every pool.
// Names of pools that do not exist (or are invalid) are ignored.
func selectedPools(cfg *Config, names []string, sels []model.Selector) []string {
	if len(names) == 0 && len(sels) == 0 {
		return slices.Clone(cfg.PoolNames)
	}
	var out []string
	for _, n := range cfg.PoolNames {
		if slices.Contains(names, n) || model.MatchesAny(sels, cfg.Pools[n].Labels) {
			out = append(out, n)
		}
	}
	return out
}

// nodeSet is the set of nodes selected by node selectors, as indices into
// Snapshot.Nodes. When the snapshot lists no node, nothing is known and
// every set counts as overlapping every other.
type nodeSet struct {
	unknown bool
	nodes   []bool
}

func (c *compiler) selectNodes(sels []model.Selector) nodeSet {
	if len(c.s.Nodes) == 0 {
		return nodeSet{unknown: true}
	}
	ns := nodeSet{nodes: make([]bool, len(c.s.Nodes))}
	for i, n := range c.s.Nodes {
		ns.nodes[i] = matchesOrAll(sels, n.Labels)
	}
	return ns
}

// overlaps reports whether the two sets share a node (always true when the
// node list is unknown).
func (a nodeSet) overlaps(b nodeSet) bool {
	if a.unknown || b.unknown {
		return true
	}
	for i := range a.nodes {
		if a.nodes[i] && b.nodes[i] {
			return true
		}
	}
	return false
}

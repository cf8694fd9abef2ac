package plan

import (
	"math/bits"
	"net/netip"

	"github.com/ferrolb/ferrolb/internal/core/config"
)

// bitset is a set of node indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

// setArena hands out zeroed bitsets of one size, carved from larger
// blocks to save allocations.
type setArena struct {
	words int
	free  []uint64
}

func (a *setArena) new() bitset {
	if a.words == 0 {
		return bitset{}
	}
	if len(a.free) < a.words {
		a.free = make([]uint64, a.words*256)
	}
	b := a.free[:a.words:a.words]
	a.free = a.free[a.words:]
	return b
}

func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return i >= 0 && b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// each calls f for every index in the set, in increasing order.
func (b bitset) each(f func(int)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			f(wi*64 + t)
			w &= w - 1
		}
	}
}

// nodeIndex numbers the Node objects and knows which may announce at all.
type nodeIndex struct {
	names  []string
	labels []map[string]string
	byName map[string]int
	// usable: live speaker, network available, not excluded.
	usable bitset
}

func indexNodes(in *Input) *nodeIndex {
	ni := &nodeIndex{byName: make(map[string]int, len(in.Nodes))}
	var first []*Node
	for k := range in.Nodes {
		n := &in.Nodes[k]
		if _, dup := ni.byName[n.Name]; dup || n.Name == "" {
			continue
		}
		ni.byName[n.Name] = len(ni.names)
		ni.names = append(ni.names, n.Name)
		ni.labels = append(ni.labels, n.Labels)
		first = append(first, n)
	}
	ni.usable = newBitset(len(ni.names))
	for i, n := range first {
		if in.Speakers != nil && !in.Speakers[n.Name] {
			continue
		}
		if n.NetworkUnavailable || n.OutOfService {
			continue
		}
		if _, excluded := n.Labels[LabelExcludeFromLB]; excluded && !in.IgnoreExcludeLB {
			continue
		}
		ni.usable.set(i)
	}
	return ni
}

// adInfo is what the plan needs of one L2Advertisement, precomputed over
// the nodes.
type adInfo struct {
	ad *config.L2Advertisement
	// nodes selected by nodeSelectors (usable or not).
	nodes bitset
	// pref is the summed weight of the matching preferredNodeSelectors,
	// per node index.
	pref []int64
	// selectsMe: the ad's nodeSelectors select this speaker's node.
	selectsMe bool
}

// adIndex holds every advertisement and, per pool, the indices of those
// that apply to it.
type adIndex struct {
	ads    []adInfo
	byPool map[string][]int
}

func indexAds(cfg *config.Config, ni *nodeIndex, me string) *adIndex {
	var myLabels map[string]string
	if i, ok := ni.byName[me]; ok {
		myLabels = ni.labels[i]
	}
	ax := &adIndex{ads: make([]adInfo, len(cfg.L2Advertisements)), byPool: map[string][]int{}}
	for a, ad := range cfg.L2Advertisements {
		info := adInfo{ad: ad, nodes: newBitset(len(ni.names)), selectsMe: ad.SelectsNode(myLabels)}
		if len(ad.PreferredNodeSelectors) > 0 {
			info.pref = make([]int64, len(ni.names))
		}
		for i, labels := range ni.labels {
			if ad.SelectsNode(labels) {
				info.nodes.set(i)
			}
			for _, p := range ad.PreferredNodeSelectors {
				if p.Preference.Matches(labels) {
					info.pref[i] += int64(p.Weight)
				}
			}
		}
		ax.ads[a] = info
		for _, p := range ad.Pools {
			ax.byPool[p] = append(ax.byPool[p], a)
		}
	}
	return ax
}

// poolOf returns the pool containing ip (pools do not overlap).
func poolOf(cfg *config.Config, ip netip.Addr) (string, bool) {
	for _, name := range cfg.PoolNames {
		if cfg.Pools[name].Contains(ip) {
			return name, true
		}
	}
	return "", false
}

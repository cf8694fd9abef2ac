package bgp

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
)

// Normalize turns a list of advertisements into the canonical set a backend
// diffs: prefixes masked, one entry per prefix (duplicates merged: the union
// of their communities and the highest LOCAL_PREF), communities sorted
// (legacy before large) and deduplicated. It rejects an invalid prefix and a
// legacy community whose parts do not fit in 16 bits.
func Normalize(ads []Advertisement) (map[netip.Prefix]Advertisement, error) {
	out := make(map[netip.Prefix]Advertisement, len(ads))
	for _, a := range ads {
		if !a.Prefix.IsValid() || a.Prefix.Addr().Zone() != "" || a.Prefix.Addr().Is4In6() {
			return nil, fmt.Errorf("invalid prefix %v", a.Prefix)
		}
		for _, c := range a.Communities {
			if !c.Large && (c.Global > 0xffff || c.Local1 > 0xffff || c.Local2 != 0) {
				return nil, fmt.Errorf("prefix %v: invalid legacy community %d:%d", a.Prefix, c.Global, c.Local1)
			}
		}
		p := a.Prefix.Masked()
		prev := out[p]
		out[p] = Advertisement{
			Prefix:      p,
			LocalPref:   max(prev.LocalPref, a.LocalPref),
			Communities: append(slices.Clone(prev.Communities), a.Communities...),
		}
	}
	for p, a := range out {
		slices.SortFunc(a.Communities, compareCommunities)
		a.Communities = slices.Compact(a.Communities)
		if len(a.Communities) == 0 {
			a.Communities = nil
		}
		out[p] = a
	}
	return out, nil
}

func compareCommunities(a, b Community) int {
	if a.Large != b.Large {
		if a.Large {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(a.Global, b.Global), cmp.Compare(a.Local1, b.Local1), cmp.Compare(a.Local2, b.Local2))
}

// SetsEqual reports whether two normalized sets hold the same routes with
// the same attributes.
func SetsEqual(a, b map[netip.Prefix]Advertisement) bool {
	return maps.EqualFunc(a, b, Advertisement.Equal)
}

// Equal reports whether a and b announce the same route with the same
// attributes (both normalized).
func (a Advertisement) Equal(b Advertisement) bool {
	return a.Prefix == b.Prefix && a.LocalPref == b.LocalPref && slices.Equal(a.Communities, b.Communities)
}

// Diff compares what a peer has (sent) with what it should have (desired),
// both normalized. announce holds the new and the changed routes (a changed
// route is re-announced, which replaces it at the peer: no withdrawal);
// withdraw the prefixes to remove. Both are sorted by prefix.
func Diff(sent, desired map[netip.Prefix]Advertisement) (announce []Advertisement, withdraw []netip.Prefix) {
	for p, want := range desired {
		if have, ok := sent[p]; !ok || !have.Equal(want) {
			announce = append(announce, want)
		}
	}
	for p := range sent {
		if _, ok := desired[p]; !ok {
			withdraw = append(withdraw, p)
		}
	}
	slices.SortFunc(announce, func(a, b Advertisement) int { return comparePrefixes(a.Prefix, b.Prefix) })
	slices.SortFunc(withdraw, comparePrefixes)
	return announce, withdraw
}

func comparePrefixes(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

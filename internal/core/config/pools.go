package config

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// poolEntry is one parsed entry of spec.addresses.
type poolEntry struct {
	text     string // as written, trimmed
	isRange  bool
	prefixes []netip.Prefix
}

func (e poolEntry) describe() string {
	if e.isRange {
		return fmt.Sprintf("range %q", e.text)
	}
	return fmt.Sprintf("CIDR %q", e.text)
}

// pools compiles the IPAddressPools: addresses, overlaps within and across
// pools, serviceAllocation.
func (c *compiler) pools() (map[string]*model.Pool, []string) {
	specs := byName(&c.errs, KindPool, c.s.Pools, func(p PoolSpec) string { return p.Name })
	entries := make([][]poolEntry, len(specs))
	for i, p := range specs {
		entries[i] = c.poolAddresses(p)
	}
	c.checkOverlaps(specs, entries)

	allocs := make([]*model.Allocation, len(specs))
	for i, p := range specs {
		allocs[i] = c.poolAllocation(p)
	}

	out := map[string]*model.Pool{}
	c.poolEntries = map[string][]poolEntry{}
	var names []string
	for i, p := range specs {
		if c.errs.faulty(KindPool, p.Name) {
			continue
		}
		var cidrs []netip.Prefix
		for _, e := range entries[i] {
			cidrs = append(cidrs, e.prefixes...)
		}
		c.poolEntries[p.Name] = entries[i]
		out[p.Name] = &model.Pool{
			Name:          p.Name,
			Labels:        p.Labels,
			CIDRs:         cidrs,
			AutoAssign:    p.AutoAssign == nil || *p.AutoAssign,
			AvoidBuggyIPs: p.AvoidBuggyIPs,
			Allocation:    allocs[i],
		}
		names = append(names, p.Name)
	}
	return out, names
}

// poolAddresses parses spec.addresses, reporting each bad entry. The
// result holds the good entries only, with their index preserved in
// position (bad entries have no prefixes).
func (c *compiler) poolAddresses(p PoolSpec) []poolEntry {
	if len(p.Addresses) == 0 {
		c.errs.add(KindPool, p.Name, "spec.addresses", "no addresses defined")
		return nil
	}
	entries := make([]poolEntry, len(p.Addresses))
	for i, a := range p.Addresses {
		text := strings.TrimSpace(a)
		prefixes, err := ParseAddress(text)
		if err != nil {
			c.errs.add(KindPool, p.Name, fmt.Sprintf("spec.addresses[%d]", i), "%v", err)
			continue
		}
		entries[i] = poolEntry{text: text, isRange: !strings.Contains(text, "/"), prefixes: prefixes}
	}
	return entries
}

// addrItem is one prefix of one pool entry, for the overlap sweep.
type addrItem struct {
	p     netip.Prefix
	pool  int // index into the name-sorted pools
	entry int // index into spec.addresses
}

// lastAddr returns the last address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	width := p.Addr().BitLen()
	return fromU128(toU128(p.Addr()).addBlock(width-p.Bits()), width)
}

// checkOverlaps finds every prefix that overlaps another one, within a
// pool or across pools, in O(n log n): prefixes are sorted by family, first
// address and then length (shorter first), so a prefix overlaps an earlier
// one exactly when it lies inside the earlier prefix reaching furthest (the
// "cover"); prefixes either nest or are disjoint. Each overlapping prefix is
// reported against its outermost cover, once per pair of entries.
func (c *compiler) checkOverlaps(specs []PoolSpec, entries [][]poolEntry) {
	var items []addrItem
	for i := range entries {
		for j, e := range entries[i] {
			for _, p := range e.prefixes {
				items = append(items, addrItem{p, i, j})
			}
		}
	}
	slices.SortFunc(items, func(a, b addrItem) int {
		if a.p.Addr().Is4() != b.p.Addr().Is4() {
			if a.p.Addr().Is4() {
				return -1
			}
			return 1
		}
		if c := a.p.Addr().Compare(b.p.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.p.Bits(), b.p.Bits()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.pool, b.pool); c != 0 {
			return c
		}
		return cmp.Compare(a.entry, b.entry)
	})

	type pair struct{ pool, entry, otherPool, otherEntry int }
	reported := map[pair]bool{}
	report := func(pool, entry, otherPool, otherEntry int) {
		k := pair{pool, entry, otherPool, otherEntry}
		if reported[k] {
			return
		}
		reported[k] = true
		this, other := entries[pool][entry], entries[otherPool][otherEntry]
		field := fmt.Sprintf("spec.addresses[%d]", entry)
		if pool == otherPool {
			c.errs.add(KindPool, specs[pool].Name, field, "%s overlaps with %s (spec.addresses[%d]) of the same pool",
				this.describe(), other.describe(), otherEntry)
			return
		}
		c.errs.add(KindPool, specs[pool].Name, field, "%s overlaps with %s of IPAddressPool %q",
			this.describe(), other.describe(), specs[otherPool].Name)
	}

	var cover *addrItem
	var coverEnd netip.Addr
	for i := range items {
		it := &items[i]
		if cover == nil || cover.p.Addr().Is4() != it.p.Addr().Is4() || coverEnd.Less(it.p.Addr()) {
			cover, coverEnd = it, lastAddr(it.p)
			continue
		}
		switch {
		case cover.pool != it.pool:
			report(it.pool, it.entry, cover.pool, cover.entry)
			report(cover.pool, cover.entry, it.pool, it.entry)
		case cover.entry < it.entry:
			report(it.pool, it.entry, cover.pool, cover.entry)
		case cover.entry > it.entry:
			report(cover.pool, cover.entry, it.pool, it.entry)
		}
		// Same entry: the prefixes of one summarised range never overlap.
	}
}

// poolAllocation validates spec.serviceAllocation and resolves namespace
// selectors against the snapshot's namespaces.
func (c *compiler) poolAllocation(p PoolSpec) *model.Allocation {
	a := p.Allocation
	if a == nil {
		return nil
	}
	const f = "spec.serviceAllocation"
	checkDuplicateNames(&c.errs, KindPool, p.Name, f+".namespaces", "namespace", a.Namespaces)
	checkSelectors(&c.errs, KindPool, p.Name, f+".namespaceSelectors", a.NamespaceSelectors, true)
	checkSelectors(&c.errs, KindPool, p.Name, f+".serviceSelectors", a.ServiceSelectors, true)

	out := &model.Allocation{
		Priority:         a.Priority,
		ServiceSelectors: slices.Clone(a.ServiceSelectors),
	}
	if len(a.Namespaces) > 0 || len(a.NamespaceSelectors) > 0 {
		out.NamespaceRestricted = true
		out.Namespaces = map[string]bool{}
		for _, n := range a.Namespaces {
			out.Namespaces[n] = true
		}
		for _, ns := range c.s.Namespaces {
			if model.MatchesAny(a.NamespaceSelectors, ns.Labels) {
				out.Namespaces[ns.Name] = true
			}
		}
	}
	if !out.NamespaceRestricted && len(out.ServiceSelectors) == 0 {
		// Only a priority: the pool is pinned for every Service.
		out.ServiceSelectors = []model.Selector{{}}
	}
	return out
}

package ipam

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Allocator records which Service holds which IPs and hands out new ones.
// Create it with New, give it pools with SetPools, seed it with the
// existing assignments (Assign) before allocating anything new.
type Allocator struct {
	pools   []*poolState          // by name
	byName  map[string]*poolState //
	pinned  []*poolState          // autoAssign pools with a restricting serviceAllocation, by priority then name
	general []*poolState          // autoAssign pools without serviceAllocation, by name
	index   [2][]*space           // per family (0: IPv4, 1: IPv6), by (first address, prefix length)

	svcs    map[string]*svcRec
	ips     map[netip.Addr]*ipRec
	invalid map[string]struct{}
}

type poolState struct {
	pool   *model.Pool
	spaces []*space // CIDR list order
	cap    [2]Count // per family
}

func (p *poolState) name() string { return p.pool.Name }

// svcRec is one Service's assignment.
type svcRec struct {
	key   string
	pool  *poolState // nil while the assignment is invalid for the current pools
	ips   [2]netip.Addr
	n     int // 1 or 2; with 2, ips[0] is IPv4 and ips[1] IPv6
	share shareKey
	ports []model.Port
}

func (r *svcRec) ipList() []netip.Addr { return slices.Clone(r.ips[:r.n]) }

// ipRec is one held IP: the Services on it (sorted by key) and their common
// sharing key.
type ipRec struct {
	addr netip.Addr
	key  shareKey
	svcs []*svcRec
	one  [1]*svcRec // backing array for the usual single holder
}

func fi(v4 bool) int {
	if v4 {
		return 0
	}
	return 1
}

// New returns an empty allocator with no pools.
func New() *Allocator {
	return &Allocator{
		byName:  map[string]*poolState{},
		svcs:    map[string]*svcRec{},
		ips:     map[netip.Addr]*ipRec{},
		invalid: map[string]struct{}{},
	}
}

type spaceID struct {
	prefix netip.Prefix
	avoid  bool
}

// SetPools replaces the pool set. Pool names must be unique (a later
// duplicate is ignored) and CIDRs within one pool must not overlap; the
// pools must not be modified afterwards. Assignments stay recorded: one
// whose IPs are still all usable in one pool now belongs to that pool (the
// pool of the same name if possible, else the first by name), so a renamed
// pool carries its Services along; the others become invalid and keep their
// IPs reserved until released. SetPools returns the keys of all invalid
// assignments, sorted. Unchanged CIDRs keep their indexes, so the cost is
// proportional to new CIDRs and assigned Services, never to pool sizes.
func (a *Allocator) SetPools(pools []*model.Pool) []string {
	old := map[spaceID][]*space{}
	for _, p := range a.pools {
		for _, s := range p.spaces {
			id := spaceID{s.prefix, s.avoid}
			old[id] = append(old[id], s)
		}
	}

	sorted := slices.Clone(pools)
	sorted = slices.DeleteFunc(sorted, func(p *model.Pool) bool { return p == nil })
	slices.SortStableFunc(sorted, func(x, y *model.Pool) int { return cmp.Compare(x.Name, y.Name) })

	a.pools = a.pools[:0:0]
	a.byName = make(map[string]*poolState, len(sorted))
	var fresh []*space
	for _, mp := range sorted {
		if _, dup := a.byName[mp.Name]; dup {
			continue
		}
		ps := &poolState{pool: mp}
		for _, c := range mp.CIDRs {
			c, ok := normalizePrefix(c)
			if !ok {
				continue
			}
			avoid := mp.AvoidBuggyIPs && c.Addr().Is4()
			id := spaceID{c, avoid}
			var s *space
			if l := old[id]; len(l) > 0 {
				s, old[id] = l[0], l[1:]
				s.pool = ps
			} else {
				s = newSpace(ps, c, avoid)
				fresh = append(fresh, s)
			}
			ps.spaces = append(ps.spaces, s)
			f := fi(s.v4)
			ps.cap[f] = ps.cap[f].Add(s.cap)
		}
		a.pools = append(a.pools, ps)
		a.byName[mp.Name] = ps
	}
	a.fillSpaces(fresh)
	a.buildIndex()
	a.buildOrders()

	clear(a.invalid)
	for key, r := range a.svcs {
		prefer := ""
		if r.pool != nil {
			prefer = r.pool.name()
		}
		p, err := a.poolFor(r.ips[:r.n], prefer)
		if err != nil {
			r.pool = nil
			a.invalid[key] = struct{}{}
			continue
		}
		r.pool = p
	}
	return a.Invalid()
}

// normalizePrefix returns p masked, with IPv4-mapped prefixes turned into
// IPv4 ones.
func normalizePrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	addr := p.Addr()
	if addr.Zone() != "" {
		return netip.Prefix{}, false
	}
	if addr.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(addr.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// fillSpaces marks the held IPs in new spaces as used and indexes the
// shareable ones.
func (a *Allocator) fillSpaces(fresh []*space) {
	if len(fresh) == 0 {
		return
	}
	var held [2][]*ipRec
	for _, r := range a.ips {
		f := fi(r.addr.Is4())
		held[f] = append(held[f], r)
	}
	keys := [2][]u128{}
	for f := range held {
		slices.SortFunc(held[f], func(x, y *ipRec) int { return x.addr.Compare(y.addr) })
		keys[f] = make([]u128, len(held[f]))
		for i, r := range held[f] {
			keys[f][i] = keyOf(r.addr)
		}
	}
	for _, s := range fresh {
		f := fi(s.v4)
		ks := keys[f]
		i, _ := slices.BinarySearchFunc(ks, s.base, u128.cmp)
		var slots []u128
		for ; i < len(ks) && !s.last.less(ks[i]); i++ {
			slot, ok := s.slotOf(ks[i])
			if !ok {
				continue
			}
			slots = append(slots, slot)
			if r := held[f][i]; r.key.sharing != "" {
				s.addShared(r.key, slot, r)
			}
		}
		s.resetFree(slots)
	}
}

// buildIndex sorts the spaces of each family for address lookups and links
// each to the nearest space containing it (CIDRs are nested or disjoint).
func (a *Allocator) buildIndex() {
	for f := range a.index {
		a.index[f] = a.index[f][:0:0]
	}
	for _, p := range a.pools {
		for _, s := range p.spaces {
			a.index[fi(s.v4)] = append(a.index[fi(s.v4)], s)
		}
	}
	for f := range a.index {
		idx := a.index[f]
		slices.SortStableFunc(idx, func(x, y *space) int {
			if c := x.base.cmp(y.base); c != 0 {
				return c
			}
			return cmp.Compare(x.prefix.Bits(), y.prefix.Bits())
		})
		var stack []*space
		for _, s := range idx {
			for len(stack) > 0 && !stack[len(stack)-1].contains(s.base) {
				stack = stack[:len(stack)-1]
			}
			s.parent = nil
			if len(stack) > 0 {
				s.parent = stack[len(stack)-1]
			}
			stack = append(stack, s)
		}
	}
}

// buildOrders prepares the pool orders used by Allocate.
func (a *Allocator) buildOrders() {
	a.pinned, a.general = nil, nil
	for _, p := range a.pools {
		mp := p.pool
		if !mp.AutoAssign {
			continue
		}
		switch al := mp.Allocation; {
		case al == nil:
			a.general = append(a.general, p)
		case al.NamespaceRestricted || len(al.ServiceSelectors) > 0:
			a.pinned = append(a.pinned, p)
		}
	}
	slices.SortStableFunc(a.pinned, func(x, y *poolState) int {
		px, py := x.pool.Allocation.Priority, y.pool.Allocation.Priority
		switch {
		case px > 0 && py > 0:
			return cmp.Compare(px, py)
		case px > 0:
			return -1
		case py > 0:
			return 1
		}
		return 0 // stable: already by name
	})
}

// deepest returns the innermost space whose prefix contains k; the other
// spaces containing k are its parents.
func (a *Allocator) deepest(v4 bool, k u128) *space {
	idx := a.index[fi(v4)]
	lo, hi := 0, len(idx) // find the last space with base <= k
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if k.less(idx[m].base) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == 0 {
		return nil
	}
	s := idx[lo-1]
	for s != nil && !s.contains(k) {
		s = s.parent
	}
	return s
}

// hold marks a newly held IP as used in every space that numbers it.
func (a *Allocator) hold(r *ipRec) {
	v4, k := r.addr.Is4(), keyOf(r.addr)
	for s := a.deepest(v4, k); s != nil; s = s.parent {
		if slot, ok := s.slotOf(k); ok {
			s.take(slot)
			if r.key.sharing != "" {
				s.addShared(r.key, slot, r)
			}
		}
	}
}

// unhold frees an IP nobody holds any more.
func (a *Allocator) unhold(r *ipRec) {
	v4, k := r.addr.Is4(), keyOf(r.addr)
	for s := a.deepest(v4, k); s != nil; s = s.parent {
		if slot, ok := s.slotOf(k); ok {
			s.give(slot)
			if r.key.sharing != "" {
				s.removeShared(r.key, slot)
			}
		}
	}
}

// rekey changes the sharing key of a held IP (sole holder changing its
// allow-shared-ip).
func (a *Allocator) rekey(r *ipRec, k shareKey) {
	v4, ak := r.addr.Is4(), keyOf(r.addr)
	for s := a.deepest(v4, ak); s != nil; s = s.parent {
		if slot, ok := s.slotOf(ak); ok {
			if r.key.sharing != "" {
				s.removeShared(r.key, slot)
			}
			if k.sharing != "" {
				s.addShared(k, slot, r)
			}
		}
	}
	r.key = k
}

// Release forgets the assignment of the Service key and frees the IPs
// nobody else holds. It reports whether there was an assignment.
func (a *Allocator) Release(key string) bool {
	r := a.svcs[key]
	if r == nil {
		return false
	}
	for _, ip := range r.ips[:r.n] {
		a.dropHolder(ip, r)
	}
	delete(a.svcs, key)
	delete(a.invalid, key)
	return true
}

// dropHolder removes r from the holders of ip.
func (a *Allocator) dropHolder(ip netip.Addr, r *svcRec) {
	ir := a.ips[ip]
	if ir == nil {
		return
	}
	if i := slices.Index(ir.svcs, r); i >= 0 {
		ir.svcs = slices.Delete(ir.svcs, i, i+1)
	}
	if len(ir.svcs) == 0 {
		a.unhold(ir)
		delete(a.ips, ip)
	}
}

// Lookup returns the assignment of the Service key: its pool ("" while the
// assignment is invalid for the current pools) and IPs (IPv4 first).
func (a *Allocator) Lookup(key string) (pool string, ips []netip.Addr, ok bool) {
	r := a.svcs[key]
	if r == nil {
		return "", nil, false
	}
	if r.pool != nil {
		pool = r.pool.name()
	}
	return pool, r.ipList(), true
}

// Invalid returns, sorted, the keys of the assignments whose IPs are not
// all usable addresses of one pool (since the last SetPools).
func (a *Allocator) Invalid() []string {
	out := make([]string, 0, len(a.invalid))
	for k := range a.invalid {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Len returns the number of recorded assignments.
func (a *Allocator) Len() int { return len(a.svcs) }

// PoolStats are the address counts of one pool. Capacities honour
// avoidBuggyIPs; in-use counts distinct held IPs, whichever Service holds
// them.
type PoolStats struct {
	Name       string
	CapacityV4 Count
	CapacityV6 Count
	InUseV4    uint64
	InUseV6    uint64
}

// Capacity returns the number of usable addresses of both families.
func (s PoolStats) Capacity() Count { return s.CapacityV4.Add(s.CapacityV6) }

// InUse returns the number of held addresses of both families.
func (s PoolStats) InUse() uint64 { return s.InUseV4 + s.InUseV6 }

// AvailableV4 returns the IPv4 addresses not in use.
func (s PoolStats) AvailableV4() Count { return s.CapacityV4.SubSat(s.InUseV4) }

// AvailableV6 returns the IPv6 addresses not in use.
func (s PoolStats) AvailableV6() Count { return s.CapacityV6.SubSat(s.InUseV6) }

// PoolStats returns the counts of the named pool.
func (a *Allocator) PoolStats(name string) (PoolStats, bool) {
	p := a.byName[name]
	if p == nil {
		return PoolStats{}, false
	}
	return p.stats(), true
}

// AllPoolStats returns the counts of every pool, by name.
func (a *Allocator) AllPoolStats() []PoolStats {
	out := make([]PoolStats, 0, len(a.pools))
	for _, p := range a.pools {
		out = append(out, p.stats())
	}
	return out
}

func (p *poolState) stats() PoolStats {
	st := PoolStats{Name: p.name(), CapacityV4: p.cap[0], CapacityV6: p.cap[1]}
	for _, s := range p.spaces {
		if s.v4 {
			st.InUseV4 += s.inUse
		} else {
			st.InUseV6 += s.inUse
		}
	}
	return st
}

// PoolNames returns the names of the configured pools, sorted.
func (a *Allocator) PoolNames() []string {
	out := make([]string, len(a.pools))
	for i, p := range a.pools {
		out[i] = p.name()
	}
	return out
}

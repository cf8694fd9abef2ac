package ipam

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// want is what a Service needs from a pool.
type want struct {
	v4, v6    bool
	prefer    bool // PreferDualStack: one family is enough
	primaryV6 bool // with prefer: ipFamilies[0] is IPv6
}

func (w want) dual() bool { return w.v4 && w.v6 }

func wantFor(svc *model.Service) (want, *Error) {
	fams := svc.Families
	if len(fams) == 1 {
		return want{v4: fams[0] == model.IPv4, v6: fams[0] == model.IPv6}, nil
	}
	switch policyOf(svc) {
	case model.RequireDualStack:
		return want{v4: true, v6: true}, nil
	case model.PreferDualStack:
		return want{v4: true, v6: true, prefer: true, primaryV6: fams[0] == model.IPv6}, nil
	}
	return want{}, errorf(FamilyMismatch, "%s has IPv4 and IPv6 cluster IPs but ipFamilyPolicy %s", svc.Key, policyOf(svc))
}

// Allocate gives svc IPs automatically. An existing assignment is confirmed
// (re-checked as by Assign) and returned. Otherwise the pools tried are
// first the autoAssign pools whose serviceAllocation selects the Service
// (by namespace or service selector), by priority (positive values
// ascending, then no priority) and then by name; then the autoAssign pools
// without serviceAllocation, by name. The first pool that can give every
// needed family wins; for PreferDualStack a pool with both families is
// taken as soon as seen, else the first pool with the primary family, else
// the first with the other. Within a pool the IP is the lowest usable one
// (CIDR list order, then address order) that is free or shareable by svc.
// Dual-stack results are [IPv4, IPv6]. A Service with one cluster IP family
// gets one IP of that family whatever its policy. When the existing
// assignment no longer passes (pools changed, see SetPools), the error is
// returned and the assignment kept: the caller releases it and allocates
// again, as MetalLB's convergence does.
//
// Cost: O(pools + log n) plus, for a Service with a sharing key, the IPs of
// its sharing group below the lowest free address that conflict on ports.
func (a *Allocator) Allocate(svc model.Service) (string, []netip.Addr, error) {
	if err := checkService(&svc); err != nil {
		return "", nil, err
	}
	if self := a.svcs[svc.Key]; self != nil {
		pool, err := a.Assign(svc, self.ips[:self.n])
		if err != nil {
			return "", nil, err
		}
		return pool, self.ipList(), nil
	}
	w, err := wantFor(&svc)
	if err != nil {
		return "", nil, err
	}
	p, ips, n := a.findBest(a.pinned, true, &svc, nil, w)
	if p == nil {
		p, ips, n = a.findBest(a.general, false, &svc, nil, w)
	}
	if p == nil {
		return "", nil, a.explainAuto(&svc, w)
	}
	a.commit(&svc, nil, p, ips, n)
	return p.name(), append([]netip.Addr(nil), ips[:n]...), nil
}

// AllocateFromPool gives svc IPs from the named pool (the address-pool
// annotation): autoAssign does not matter, serviceAllocation restrictions
// do. An existing assignment from that pool is confirmed and returned; one
// from another pool is replaced on success.
func (a *Allocator) AllocateFromPool(svc model.Service, pool string) ([]netip.Addr, error) {
	if err := checkService(&svc); err != nil {
		return nil, err
	}
	p := a.byName[pool]
	if p == nil {
		return nil, errorf(UnknownPool, "unknown pool %q", pool)
	}
	self := a.svcs[svc.Key]
	if self != nil && self.pool == p {
		if _, err := a.Assign(svc, self.ips[:self.n]); err != nil {
			return nil, err
		}
		return self.ipList(), nil
	}
	if err := admits(p, &svc); err != nil {
		return nil, err
	}
	w, err := wantFor(&svc)
	if err != nil {
		return nil, err
	}
	_, ips, n := a.findBest([]*poolState{p}, false, &svc, self, w)
	if n == 0 {
		return nil, explain(&svc, w, []*poolState{p}, fmt.Sprintf("pool %s", p.name()))
	}
	a.commit(&svc, self, p, ips, n)
	return append([]netip.Addr(nil), ips[:n]...), nil
}

// AllocateAdditional completes the assignment of a dual-stack
// PreferDualStack Service that holds one IP with an IP of the other family
// from the same pool. It returns the Service's IPs ([IPv4, IPv6]); with two
// IPs already there it returns them unchanged.
func (a *Allocator) AllocateAdditional(svc model.Service) ([]netip.Addr, error) {
	if err := checkService(&svc); err != nil {
		return nil, err
	}
	self := a.svcs[svc.Key]
	if self == nil {
		return nil, errorf(NotAssigned, "%s has no IP yet", svc.Key)
	}
	if self.n == 2 {
		return self.ipList(), nil
	}
	if len(svc.Families) != 2 || policyOf(&svc) != model.PreferDualStack {
		return nil, errorf(FamilyMismatch, "%s is not a dual-stack PreferDualStack service; it gets no additional IP", svc.Key)
	}
	if self.pool == nil {
		return nil, errorf(NotAssigned, "the IP %s of %s is not a usable address of any one pool", self.ips[0], svc.Key)
	}
	have := self.ips[0]
	missing := model.IPv6
	if !have.Is4() {
		missing = model.IPv4
	}
	ip, ok := a.candidate(self.pool, missing == model.IPv4, &svc, self)
	if !ok {
		w := want{v4: missing == model.IPv4, v6: missing == model.IPv6}
		return nil, explain(&svc, w, []*poolState{self.pool}, fmt.Sprintf("pool %s", self.pool.name()))
	}
	if _, err := a.Assign(svc, []netip.Addr{have, ip}); err != nil {
		return nil, err
	}
	return self.ipList(), nil
}

// findBest returns the first pool of list (filtered by admission when
// filter is set) that satisfies w, with the IPs to take.
func (a *Allocator) findBest(list []*poolState, filter bool, svc *model.Service, self *svcRec, w want) (*poolState, [2]netip.Addr, int) {
	var none [2]netip.Addr
	var fb *poolState
	var fbIP netip.Addr
	fbPrimary := false
	for _, p := range list {
		if filter && !p.pool.Admits(svc.Namespace, svc.Labels) {
			continue
		}
		var ip4, ip6 netip.Addr
		var has4, has6 bool
		if w.v4 {
			ip4, has4 = a.candidate(p, true, svc, self)
		}
		if w.v6 {
			ip6, has6 = a.candidate(p, false, svc, self)
		}
		switch {
		case w.dual():
			if has4 && has6 {
				return p, [2]netip.Addr{ip4, ip6}, 2
			}
			if !w.prefer || fbPrimary {
				continue
			}
			prim, primIP, sec, secIP := has4, ip4, has6, ip6
			if w.primaryV6 {
				prim, primIP, sec, secIP = has6, ip6, has4, ip4
			}
			switch {
			case prim:
				fb, fbIP, fbPrimary = p, primIP, true
			case sec && fb == nil:
				fb, fbIP = p, secIP
			}
		case has4:
			return p, [2]netip.Addr{ip4}, 1
		case has6:
			return p, [2]netip.Addr{ip6}, 1
		}
	}
	if fb != nil {
		return fb, [2]netip.Addr{fbIP}, 1
	}
	return nil, none, 0
}

// candidate returns the lowest address of the family in pool p that svc may
// take: CIDRs in list order, in each the lowest free or shareable address.
func (a *Allocator) candidate(p *poolState, v4 bool, svc *model.Service, self *svcRec) (netip.Addr, bool) {
	for _, s := range p.spaces {
		if s.v4 != v4 {
			continue
		}
		if slot, ok := a.lowestIn(s, svc, self); ok {
			return s.addr(slot), true
		}
	}
	return netip.Addr{}, false
}

// lowestIn returns the lowest slot of s that is free, held by Services that
// share with svc, or held by svc itself in a way it may keep.
func (a *Allocator) lowestIn(s *space, svc *model.Service, self *svcRec) (u128, bool) {
	best, ok := s.lowestFree()
	if svc.SharingKey != "" && s.groups != nil {
		if g := s.groups[shareKey{svc.SharingKey, svc.BackendKey}]; g != nil {
			// Only holders below the lowest free slot can matter.
			for n := g.min(); n != nil && (!ok || n.key.less(best)); n = g.after(n.key) {
				if v, _, _ := canShare(svc, self, n.val); v == shareOK {
					best, ok = n.key, true
					break
				}
			}
		}
	}
	if self != nil {
		for _, ip := range self.ips[:self.n] {
			if ip.Is4() != s.v4 {
				continue
			}
			slot, in := s.slotOf(keyOf(ip))
			if !in || (ok && !slot.less(best)) {
				continue
			}
			if v, _, _ := canShare(svc, self, a.ips[ip]); v == shareOK {
				best, ok = slot, true
			}
		}
	}
	return best, ok
}

// explainAuto says why Allocate found nothing.
func (a *Allocator) explainAuto(svc *model.Service, w want) *Error {
	var cands []*poolState
	for _, p := range a.pinned {
		if p.pool.Admits(svc.Namespace, svc.Labels) {
			cands = append(cands, p)
		}
	}
	cands = append(cands, a.general...)
	if len(cands) == 0 {
		return errorf(NoPoolMatches, "no address pool is available for automatic assignment to %s (%s)", svc.Key, a.whyNoPool(svc))
	}
	return explain(svc, w, cands, "pools "+listNames(cands))
}

// whyNoPool describes why no pool is a candidate for automatic assignment.
func (a *Allocator) whyNoPool(svc *model.Service) string {
	if len(a.pools) == 0 {
		return "no pools are configured"
	}
	var off, excluded, onlyExplicit []*poolState
	for _, p := range a.pools {
		mp := p.pool
		switch al := mp.Allocation; {
		case !mp.AutoAssign:
			off = append(off, p)
		case al != nil && (al.NamespaceRestricted || len(al.ServiceSelectors) > 0):
			excluded = append(excluded, p)
		default:
			onlyExplicit = append(onlyExplicit, p)
		}
	}
	var parts []string
	if len(off) > 0 {
		parts = append(parts, "autoAssign is false for "+listNames(off))
	}
	if len(excluded) > 0 {
		parts = append(parts, "serviceAllocation does not select it in "+listNames(excluded))
	}
	if len(onlyExplicit) > 0 {
		parts = append(parts, "serviceAllocation selects nothing in "+listNames(onlyExplicit))
	}
	return strings.Join(parts, "; ")
}

// explain says why none of cands (described by where) could satisfy w.
func explain(svc *model.Service, w want, cands []*poolState, where string) *Error {
	has := func(v4 bool) bool {
		for _, p := range cands {
			if !p.cap[fi(v4)].IsZero() {
				return true
			}
		}
		return false
	}
	hasBoth := false
	for _, p := range cands {
		if !p.cap[0].IsZero() && !p.cap[1].IsZero() {
			hasBoth = true
		}
	}
	switch {
	case w.dual() && !w.prefer:
		if !hasBoth {
			return errorf(DualStackNotPossible, "%s requires dual-stack but no candidate pool has both IPv4 and IPv6 addresses (%s)", svc.Key, where)
		}
		return errorf(PoolExhausted, "no pool has both a free IPv4 and a free IPv6 address for %s (%s)", svc.Key, where)
	case w.dual():
		if !has(true) && !has(false) {
			return errorf(NoPoolMatches, "no IPv4 or IPv6 addresses for %s in %s", svc.Key, where)
		}
		return errorf(PoolExhausted, "no available IPv4 or IPv6 address for %s in %s", svc.Key, where)
	}
	fam := model.IPv4
	if w.v6 {
		fam = model.IPv6
	}
	if !has(w.v4) {
		return errorf(NoPoolMatches, "no %s addresses for %s in %s", fam, svc.Key, where)
	}
	return errorf(PoolExhausted, "no available %s address for %s in %s", fam, svc.Key, where)
}

func listNames(ps []*poolState) string {
	const maxNames = 8
	var b strings.Builder
	for i, p := range ps {
		if i == maxNames {
			fmt.Fprintf(&b, " and %d more", len(ps)-maxNames)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.name())
	}
	return b.String()
}

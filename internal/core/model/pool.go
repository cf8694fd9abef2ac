package model

import "net/netip"

// Pool is a validated address pool.
type Pool struct {
	Name   string
	Labels map[string]string
	// CIDRs in the order the pool lists them; start-end ranges are already
	// summarised into CIDRs. IPv4 prefixes are unmapped 4-byte prefixes.
	CIDRs         []netip.Prefix
	AutoAssign    bool
	AvoidBuggyIPs bool
	// Allocation is nil when the pool has no serviceAllocation.
	Allocation *Allocation
}

// Allocation restricts and prioritises a pool (spec.serviceAllocation).
type Allocation struct {
	// Priority: lower value wins; 0 means "no priority" and sorts last.
	Priority int
	// Namespaces is the union of the listed namespaces and the namespaces
	// selected by namespaceSelectors at compile time. Nil when the pool does
	// not restrict namespaces.
	Namespaces map[string]bool
	// NamespaceRestricted is true when namespaces or namespaceSelectors were
	// given (an empty resolved set then admits no namespace).
	NamespaceRestricted bool
	// ServiceSelectors: any must match the Service labels. When the pool
	// gives neither namespaces nor selectors (only a priority), this holds a
	// single empty selector, so the pool is pinned for every Service.
	ServiceSelectors []Selector
}

// HasFamily reports whether any CIDR of the pool is of family f.
func (p *Pool) HasFamily(f Family) bool {
	for _, c := range p.CIDRs {
		if FamilyOf(c.Addr()) == f {
			return true
		}
	}
	return false
}

// Contains reports whether the pool's CIDRs contain a (ignoring
// avoidBuggyIPs).
func (p *Pool) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, c := range p.CIDRs {
		if c.Contains(a) {
			return true
		}
	}
	return false
}

// IsBuggy reports whether a is an IPv4 address ending in .0 or .255, which
// pools with avoidBuggyIPs never hand out.
func IsBuggy(a netip.Addr) bool {
	a = a.Unmap()
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[3] == 0 || b[3] == 255
}

// Admits reports whether a Service in namespace ns with labels may use the
// pool under its serviceAllocation restrictions.
func (p *Pool) Admits(ns string, labels map[string]string) bool {
	al := p.Allocation
	if al == nil {
		return true
	}
	if al.NamespaceRestricted && !al.Namespaces[ns] {
		return false
	}
	if len(al.ServiceSelectors) > 0 && !MatchesAny(al.ServiceSelectors, labels) {
		return false
	}
	return true
}

package ipam

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Assign records that svc holds ips (one IP, or one IPv4 and one IPv6): an
// existing assignment learnt at start-up, or IPs the Service requests. The
// IPs must be usable addresses of one pool that admits the Service, fit its
// families and policy, and each be free or shareable (same non-empty
// allow-shared-ip, same backend key, no (protocol, port) used by another
// Service on it). A Service that is the only holder of an IP may change its
// sharing key. A previous assignment of svc is replaced only on success. It
// returns the pool's name.
func (a *Allocator) Assign(svc model.Service, ips []netip.Addr) (string, error) {
	if err := checkService(&svc); err != nil {
		return "", err
	}
	set, n, err := checkIPs(&svc, ips)
	if err != nil {
		return "", err
	}
	self := a.svcs[svc.Key]
	prefer := ""
	if self != nil && self.pool != nil {
		prefer = self.pool.name()
	}
	p, err := a.poolFor(set[:n], prefer)
	if err != nil {
		return "", err
	}
	if err := admits(p, &svc); err != nil {
		return "", err
	}
	for _, ip := range set[:n] {
		if err := a.sharingError(&svc, self, ip); err != nil {
			return "", err
		}
	}
	a.commit(&svc, self, p, set, n)
	return p.name(), nil
}

// checkService validates what every operation needs from a Service.
func checkService(svc *model.Service) *Error {
	if svc.Key == "" {
		return errorf(InvalidRequest, "service has no key")
	}
	fams := svc.Families
	switch {
	case len(fams) == 0:
		return errorf(InvalidRequest, "service %s has no cluster IP family", svc.Key)
	case len(fams) > 2:
		return errorf(InvalidRequest, "service %s has %d cluster IP families", svc.Key, len(fams))
	}
	for _, f := range fams {
		if f != model.IPv4 && f != model.IPv6 {
			return errorf(InvalidRequest, "service %s has an unknown IP family %d", svc.Key, f)
		}
	}
	if len(fams) == 2 && fams[0] == fams[1] {
		return errorf(InvalidRequest, "service %s lists family %s twice", svc.Key, fams[0])
	}
	return nil
}

func policyOf(svc *model.Service) model.FamilyPolicy {
	if svc.Policy == "" {
		return model.SingleStack
	}
	return svc.Policy
}

// checkIPs validates the IPs against the Service's families and policy and
// returns them unmapped, IPv4 first.
func checkIPs(svc *model.Service, ips []netip.Addr) ([2]netip.Addr, int, *Error) {
	var set [2]netip.Addr
	switch {
	case len(ips) == 0:
		return set, 0, errorf(InvalidRequest, "no IP given for %s", svc.Key)
	case len(ips) > 2:
		return set, 0, errorf(TooManyIPs, "%s asks for %d IPs; at most two (one IPv4, one IPv6) are possible", svc.Key, len(ips))
	}
	for i, ip := range ips {
		if !ip.IsValid() {
			return set, 0, errorf(InvalidRequest, "invalid IP given for %s", svc.Key)
		}
		if ip.Zone() != "" {
			return set, 0, errorf(InvalidRequest, "IP %s given for %s has a zone", ip, svc.Key)
		}
		set[i] = ip.Unmap()
	}
	n := len(ips)
	if n == 2 {
		if set[0].Is4() == set[1].Is4() {
			return set, 0, errorf(FamilyMismatch, "IPs %s and %s are both %s; two IPs must be one IPv4 and one IPv6",
				set[0], set[1], model.FamilyOf(set[0]))
		}
		if !set[0].Is4() {
			set[0], set[1] = set[1], set[0]
		}
	}
	fams := svc.Families
	if len(fams) == 1 {
		if n == 2 {
			return set, 0, errorf(FamilyMismatch, "%s is single-stack %s; it cannot have both %s and %s", svc.Key, fams[0], set[0], set[1])
		}
		if f := model.FamilyOf(set[0]); f != fams[0] {
			return set, 0, errorf(FamilyMismatch, "IP %s is %s but %s is single-stack %s", set[0], f, svc.Key, fams[0])
		}
		return set, n, nil
	}
	switch policyOf(svc) {
	case model.RequireDualStack:
		if n != 2 {
			return set, 0, errorf(FamilyMismatch, "%s requires dual-stack (RequireDualStack): it needs one IPv4 and one IPv6, got only %s", svc.Key, set[0])
		}
	case model.PreferDualStack:
	default:
		return set, 0, errorf(FamilyMismatch, "%s has IPv4 and IPv6 cluster IPs but ipFamilyPolicy %s", svc.Key, policyOf(svc))
	}
	return set, n, nil
}

// poolFor returns the pool in which every IP is a usable address: the pool
// named prefer if it qualifies, else the first by name.
func (a *Allocator) poolFor(ips []netip.Addr, prefer string) (*poolState, *Error) {
	var bufs [2][4]*poolState
	var lists [2][]*poolState
	for i, ip := range ips {
		lists[i] = a.poolsOf(ip, bufs[i][:0])
		if len(lists[i]) == 0 {
			return nil, a.notInPool(ip)
		}
	}
	var best *poolState
	for _, p := range lists[0] {
		if len(ips) == 2 && !slices.Contains(lists[1], p) {
			continue
		}
		if p.name() == prefer {
			return p, nil
		}
		if best == nil || p.name() < best.name() {
			best = p
		}
	}
	if best == nil {
		return nil, errorf(IPsInDifferentPools, "IPs %s and %s are in different pools (%s and %s); both must come from one pool",
			ips[0], ips[1], poolNames(lists[0]), poolNames(lists[1]))
	}
	return best, nil
}

// poolsOf appends the pools in which ip is a usable address.
func (a *Allocator) poolsOf(ip netip.Addr, buf []*poolState) []*poolState {
	k := keyOf(ip)
	for s := a.deepest(ip.Is4(), k); s != nil; s = s.parent {
		if _, ok := s.slotOf(k); ok && !slices.Contains(buf, s.pool) {
			buf = append(buf, s.pool)
		}
	}
	return buf
}

func (a *Allocator) notInPool(ip netip.Addr) *Error {
	k := keyOf(ip)
	for s := a.deepest(ip.Is4(), k); s != nil; s = s.parent {
		if s.avoid {
			return errorf(IPNotInAnyPool, "IP %s is not usable: pool %s has avoidBuggyIPs and never hands out .0 or .255 addresses", ip, s.pool.name())
		}
	}
	return errorf(IPNotInAnyPool, "IP %s is not in any address pool", ip)
}

func poolNames(ps []*poolState) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name()
	}
	return strings.Join(names, ", ")
}

// admits checks the pool's serviceAllocation restrictions.
func admits(p *poolState, svc *model.Service) *Error {
	mp := p.pool
	if mp.Admits(svc.Namespace, svc.Labels) {
		return nil
	}
	al := mp.Allocation
	if al.NamespaceRestricted && !al.Namespaces[svc.Namespace] {
		return errorf(PoolNotAllowed, "pool %s does not admit %s: namespace %q is not among the pool's serviceAllocation namespaces", mp.Name, svc.Key, svc.Namespace)
	}
	return errorf(PoolNotAllowed, "pool %s does not admit %s: its labels match none of the pool's serviceAllocation serviceSelectors", mp.Name, svc.Key)
}

// shareVerdict says why svc may not use a held IP.
type shareVerdict uint8

const (
	shareOK shareVerdict = iota
	shareNoKeyThere
	shareNoKeyHere
	shareKeyDiffers
	shareBackendDiffers
	sharePortUsed
)

// canShare decides whether svc (whose current record is self, maybe nil)
// may use the held IP r, ignoring self's own presence on it. With
// sharePortUsed it also returns the holder and the port.
func canShare(svc *model.Service, self *svcRec, r *ipRec) (shareVerdict, *svcRec, model.Port) {
	others := 0
	for _, o := range r.svcs {
		if o != self {
			others++
		}
	}
	if others == 0 {
		return shareOK, nil, model.Port{}
	}
	switch {
	case r.key.sharing == "":
		return shareNoKeyThere, nil, model.Port{}
	case svc.SharingKey == "":
		return shareNoKeyHere, nil, model.Port{}
	case svc.SharingKey != r.key.sharing:
		return shareKeyDiffers, nil, model.Port{}
	case svc.BackendKey != r.key.backend:
		return shareBackendDiffers, nil, model.Port{}
	}
	for _, o := range r.svcs {
		if o == self {
			continue
		}
		for _, p := range svc.Ports {
			if slices.Contains(o.ports, p) {
				return sharePortUsed, o, p
			}
		}
	}
	return shareOK, nil, model.Port{}
}

// sharingError explains why svc may not hold ip, or returns nil.
func (a *Allocator) sharingError(svc *model.Service, self *svcRec, ip netip.Addr) *Error {
	r := a.ips[ip]
	if r == nil {
		return nil
	}
	v, holder, port := canShare(svc, self, r)
	var why string
	switch v {
	case shareOK:
		return nil
	case sharePortUsed:
		return errorf(PortConflict, "port %s/%d on IP %s is already used by %s", port.Protocol, port.Port, ip, holder.key)
	case shareNoKeyThere:
		why = "it has no allow-shared-ip key"
	case shareNoKeyHere:
		why = svc.Key + " has no allow-shared-ip key"
	case shareKeyDiffers:
		why = fmt.Sprintf("allow-shared-ip differs: %q here, %q there", svc.SharingKey, r.key.sharing)
	case shareBackendDiffers:
		why = fmt.Sprintf("backends differ: %s here, %s there", describeBackend(svc.BackendKey), describeBackend(r.key.backend))
	}
	var names []string
	for _, o := range r.svcs {
		if o != self {
			names = append(names, o.key)
		}
	}
	verb := "does"
	if len(names) > 1 {
		verb = "do"
	}
	return errorf(IPInUse, "IP %s is used by %s, which %s not share it (%s)", ip, strings.Join(names, ", "), verb, why)
}

func describeBackend(k string) string {
	if k == "" {
		return "externalTrafficPolicy Cluster"
	}
	return fmt.Sprintf("externalTrafficPolicy Local with selector %q", k)
}

// commit makes svc hold exactly ips[:n] from pool p, replacing self's
// previous assignment. All checks have passed.
func (a *Allocator) commit(svc *model.Service, self *svcRec, p *poolState, ips [2]netip.Addr, n int) *svcRec {
	key := shareKey{svc.SharingKey, svc.BackendKey}
	if self == nil {
		self = &svcRec{key: svc.Key}
		a.svcs[svc.Key] = self
	} else {
		for _, old := range self.ips[:self.n] {
			if !slices.Contains(ips[:n], old) {
				a.dropHolder(old, self)
			}
		}
	}
	self.ports = append(self.ports[:0], svc.Ports...)
	self.share = key
	for _, ip := range ips[:n] {
		r := a.ips[ip]
		switch {
		case r == nil:
			r = &ipRec{addr: ip, key: key}
			r.one[0] = self
			r.svcs = r.one[:1:1]
			a.ips[ip] = r
			a.hold(r)
		case slices.Contains(r.svcs, self):
			if r.key != key { // only holder: checks made sure
				a.rekey(r, key)
			}
		default:
			i, _ := slices.BinarySearchFunc(r.svcs, self.key, func(o *svcRec, k string) int { return strings.Compare(o.key, k) })
			r.svcs = slices.Insert(r.svcs, i, self)
		}
	}
	self.ips, self.n, self.pool = ips, n, p
	delete(a.invalid, svc.Key)
	return self
}

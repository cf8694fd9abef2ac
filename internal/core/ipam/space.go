package ipam

import (
	"net/netip"
)

// shareKey is what two Services must have in common to share an IP: the
// allow-shared-ip value and the backend key (pod selector for
// externalTrafficPolicy Local, "" for Cluster).
type shareKey struct{ sharing, backend string }

// space is one CIDR of one pool, numbered as slots 0..maxSlot of usable
// addresses. Without avoidBuggyIPs slot s is the address lo+s. With
// avoidBuggyIPs on an IPv4 CIDR of /24 or larger, each /24 contributes the
// 254 slots .1-.254, so the .0/.255 addresses are never numbered and never
// need skipping; a smaller IPv4 CIDR lies within one /24 and only trims its
// ends.
type space struct {
	pool   *poolState
	prefix netip.Prefix
	v4     bool
	base   u128 // first address of the prefix
	last   u128 // last address of the prefix
	avoid  bool // avoidBuggyIPs applies (IPv4 only)
	per24  bool // avoidBuggyIPs over whole /24 blocks
	lo, hi u128 // first and last usable address (when !per24)
	empty  bool // no usable address at all
	max    u128 // last slot
	cap    Count

	free   treap[u128]                 // free slot intervals: start -> last
	groups map[shareKey]*treap[*ipRec] // held shareable IPs by slot
	inUse  uint64                      // held usable addresses

	parent *space // nearest space whose prefix contains this one
}

func newSpace(pool *poolState, p netip.Prefix, avoidBuggy bool) *space {
	s := &space{pool: pool, prefix: p, v4: p.Addr().Is4()}
	s.avoid = avoidBuggy && s.v4
	width := 128
	if s.v4 {
		width = 32
	}
	host := width - p.Bits()
	s.base = keyOf(p.Addr())
	s.last = s.base.add(ones(host))
	s.lo, s.hi = s.base, s.last
	switch {
	case !avoidBuggy || !s.v4:
		s.max = ones(host)
		s.cap = pow2(host)
	case host >= 8:
		s.per24 = true
		s.cap = CountOf(uint64(1) << uint(host-8) * 254)
		s.max = u128{0, s.cap.v.lo - 1}
	default:
		if s.lo.lo&0xff == 0 {
			s.lo = s.lo.add1()
		}
		if s.hi.lo&0xff == 0xff {
			s.hi = s.hi.sub1()
		}
		if s.hi.less(s.lo) {
			s.empty = true
			break
		}
		s.max = s.hi.sub(s.lo)
		s.cap = CountOf(s.max.lo + 1)
	}
	return s
}

// contains reports whether address k lies in the prefix (usable or not).
func (s *space) contains(k u128) bool { return !k.less(s.base) && !s.last.less(k) }

// slotOf returns the slot of address k, false when k is not a usable
// address of this space.
func (s *space) slotOf(k u128) (u128, bool) {
	if s.empty || !s.contains(k) {
		return u128{}, false
	}
	if s.per24 {
		o := k.lo - s.base.lo
		r := o & 0xff
		if r == 0 || r == 0xff {
			return u128{}, false
		}
		return u128{0, (o>>8)*254 + r - 1}, true
	}
	if k.less(s.lo) || s.hi.less(k) {
		return u128{}, false
	}
	return k.sub(s.lo), true
}

// addrKey returns the address of a slot.
func (s *space) addrKey(slot u128) u128 {
	if s.per24 {
		return u128{0, s.base.lo + (slot.lo/254)<<8 + slot.lo%254 + 1}
	}
	return s.lo.add(slot)
}

func (s *space) addr(slot u128) netip.Addr { return addrOf(s.addrKey(slot), s.v4) }

// resetFree marks every slot free except the given held slots (ascending,
// distinct).
func (s *space) resetFree(held []u128) {
	s.free = treap[u128]{}
	s.inUse = uint64(len(held))
	if s.empty {
		return
	}
	next, open := u128{}, true // next candidate start; open=false once past max
	for _, h := range held {
		if next.less(h) {
			s.free.insert(next, h.sub1())
		}
		if h == s.max {
			open = false
			break
		}
		next = h.add1()
	}
	if open {
		s.free.insert(next, s.max)
	}
}

// lowestFree returns the smallest free slot.
func (s *space) lowestFree() (u128, bool) {
	n := s.free.min()
	if n == nil {
		return u128{}, false
	}
	return n.key, true
}

// take marks a free slot as used.
func (s *space) take(slot u128) {
	n := s.free.floor(slot)
	if n == nil || n.val.less(slot) {
		panic("ipam: taking a slot that is not free")
	}
	s.inUse++
	switch {
	case n.key == slot && n.val == slot:
		s.free.delete(slot)
	case n.key == slot:
		n.key = slot.add1() // order kept: intervals are disjoint, non-adjacent
	case n.val == slot:
		n.val = slot.sub1()
	default:
		end := n.val
		n.val = slot.sub1()
		s.free.insert(slot.add1(), end)
	}
}

// give returns a used slot to the free intervals, merging neighbours.
func (s *space) give(slot u128) {
	s.inUse--
	p := s.free.floor(slot)
	if p != nil && !p.val.less(slot) {
		panic("ipam: giving back a slot that is free")
	}
	n := s.free.after(slot)
	joinL := p != nil && p.val.add1() == slot
	joinR := n != nil && slot.add1() == n.key
	switch {
	case joinL && joinR:
		p.val = n.val
		s.free.delete(n.key)
	case joinL:
		p.val = slot
	case joinR:
		n.key = slot
	default:
		s.free.insert(slot, slot)
	}
}

func (s *space) addShared(k shareKey, slot u128, r *ipRec) {
	if s.groups == nil {
		s.groups = make(map[shareKey]*treap[*ipRec])
	}
	g := s.groups[k]
	if g == nil {
		g = &treap[*ipRec]{}
		s.groups[k] = g
	}
	g.insert(slot, r)
}

func (s *space) removeShared(k shareKey, slot u128) {
	g := s.groups[k]
	if g == nil {
		return
	}
	g.delete(slot)
	if g.len() == 0 {
		delete(s.groups, k)
	}
}

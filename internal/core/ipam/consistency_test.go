package ipam

import (
	"slices"
	"strings"
	"testing"
)

// walk visits a treap in key order and checks its invariants.
func walk[V any](t *testing.T, tr *treap[V], visit func(k u128, v V)) {
	t.Helper()
	count := 0
	var prev *u128
	var rec func(n *tnode[V])
	rec = func(n *tnode[V]) {
		if n == nil {
			return
		}
		for _, c := range []*tnode[V]{n.left, n.right} {
			if c != nil && c.prio > n.prio {
				t.Errorf("treap heap order broken at key %v", n.key)
			}
		}
		rec(n.left)
		if prev != nil && !prev.less(n.key) {
			t.Errorf("treap keys out of order: %v then %v", *prev, n.key)
		}
		k := n.key
		prev = &k
		count++
		visit(n.key, n.val)
		rec(n.right)
	}
	rec(tr.root)
	if count != tr.size {
		t.Errorf("treap size %d, counted %d", tr.size, count)
	}
}

// checkConsistency verifies the internal indexes against the records.
// Costs O(IPs x spaces): tests only.
func checkConsistency(t *testing.T, a *Allocator) {
	t.Helper()
	if len(a.ips) > 5000 {
		return
	}
	for key, r := range a.svcs {
		if r.key != key || r.n < 1 || r.n > 2 {
			t.Fatalf("bad record for %s: %+v", key, r)
		}
		if r.n == 2 && (!r.ips[0].Is4() || r.ips[1].Is4()) {
			t.Errorf("%s: IPs not [IPv4, IPv6]: %v", key, r.ips)
		}
		for _, ip := range r.ips[:r.n] {
			ir := a.ips[ip]
			if ir == nil || !slices.Contains(ir.svcs, r) {
				t.Errorf("%s holds %s but the IP record does not list it", key, ip)
				continue
			}
			if ir.key != r.share {
				t.Errorf("IP %s key %+v differs from holder %s key %+v", ip, ir.key, key, r.share)
			}
		}
		_, inv := a.invalid[key]
		if inv != (r.pool == nil) {
			t.Errorf("%s: invalid=%v but pool=%v", key, inv, r.pool)
		}
	}
	for k := range a.invalid {
		if a.svcs[k] == nil {
			t.Errorf("invalid set lists unknown %s", k)
		}
	}
	for ip, ir := range a.ips {
		if ir.addr != ip || len(ir.svcs) == 0 {
			t.Errorf("bad IP record %s: %+v", ip, ir)
		}
		if !slices.IsSortedFunc(ir.svcs, func(x, y *svcRec) int { return strings.Compare(x.key, y.key) }) {
			t.Errorf("holders of %s not sorted", ip)
		}
		for _, s := range ir.svcs {
			if a.svcs[s.key] != s || !slices.Contains(s.ips[:s.n], ip) {
				t.Errorf("IP %s lists %s which does not hold it", ip, s.key)
			}
		}
	}
	for _, p := range a.pools {
		for _, s := range p.spaces {
			checkSpace(t, a, s)
		}
	}
}

func checkSpace(t *testing.T, a *Allocator, s *space) {
	t.Helper()
	var free Count
	var last *u128
	walk(t, &s.free, func(start, end u128) {
		if end.less(start) || s.max.less(end) || s.empty {
			t.Errorf("%s: bad free interval [%v, %v]", s.prefix, start, end)
		}
		if last != nil && !last.add1().less(start) {
			t.Errorf("%s: free intervals touch or overlap at %v", s.prefix, start)
		}
		e := end
		last = &e
		free = free.Add(Count{v: end.sub(start)}).Add(CountOf(1))
	})
	if got := free.Add(CountOf(s.inUse)); got != s.cap {
		t.Errorf("%s: free %v + in use %d != capacity %v", s.prefix, free, s.inUse, s.cap)
	}
	var held, shared uint64
	for ip, ir := range a.ips {
		if ip.Is4() != s.v4 {
			continue
		}
		slot, ok := s.slotOf(keyOf(ip))
		if !ok {
			continue
		}
		held++
		if n := s.free.floor(slot); n != nil && !n.val.less(slot) {
			t.Errorf("%s: held IP %s is in a free interval", s.prefix, ip)
		}
		if ir.key.sharing != "" {
			shared++
			g := s.groups[ir.key]
			if g == nil || g.get(slot) == nil || g.get(slot).val != ir {
				t.Errorf("%s: shared IP %s missing from its group", s.prefix, ip)
			}
		}
	}
	if held != s.inUse {
		t.Errorf("%s: %d held usable IPs, inUse says %d", s.prefix, held, s.inUse)
	}
	var indexed uint64
	for k, g := range s.groups {
		if g.len() == 0 {
			t.Errorf("%s: empty group %+v kept", s.prefix, k)
		}
		walk(t, g, func(slot u128, ir *ipRec) {
			indexed++
			if ir.key != k || keyOf(ir.addr) != s.addrKey(slot) || a.ips[ir.addr] != ir {
				t.Errorf("%s: group %+v has stale entry %s", s.prefix, k, ir.addr)
			}
		})
	}
	if indexed != shared {
		t.Errorf("%s: %d IPs indexed in groups, %d shared IPs held", s.prefix, indexed, shared)
	}
}

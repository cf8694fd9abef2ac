package ipam

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/google/go-cmp/cmp"
)

// refAlloc is a deliberately naive allocator written straight from the
// rules: it enumerates addresses and derives every fact from the list of
// assignments. The randomized test checks that Allocator agrees with it.
type refAlloc struct {
	pools []*model.Pool
	svcs  map[string]*refSvc
}

type refSvc struct {
	pool             string // "" while invalid
	ips              []netip.Addr
	sharing, backend string
	ports            []model.Port
}

func newRef() *refAlloc { return &refAlloc{svcs: map[string]*refSvc{}} }

func (r *refAlloc) setPools(ps []*model.Pool) []string {
	sorted := slices.Clone(ps)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	r.pools = nil
	for _, p := range sorted {
		if len(r.pools) > 0 && r.pools[len(r.pools)-1].Name == p.Name {
			continue
		}
		r.pools = append(r.pools, p)
	}
	var invalid []string
	for k, s := range r.svcs {
		name, why := r.poolFor(s.ips, s.pool)
		if why != "" {
			name = ""
			invalid = append(invalid, k)
		}
		s.pool = name
	}
	slices.Sort(invalid)
	return invalid
}

func (r *refAlloc) pool(name string) *model.Pool {
	for _, p := range r.pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func usableIn(p *model.Pool, ip netip.Addr) bool {
	if p.AvoidBuggyIPs && model.IsBuggy(ip) {
		return false
	}
	for _, c := range p.CIDRs {
		if c.Contains(ip) {
			return true
		}
	}
	return false
}

func (r *refAlloc) poolFor(ips []netip.Addr, prefer string) (string, Reason) {
	for _, ip := range ips {
		found := false
		for _, p := range r.pools {
			found = found || usableIn(p, ip)
		}
		if !found {
			return "", IPNotInAnyPool
		}
	}
	var cands []string
	for _, p := range r.pools {
		all := true
		for _, ip := range ips {
			all = all && usableIn(p, ip)
		}
		if all {
			cands = append(cands, p.Name)
		}
	}
	switch {
	case len(cands) == 0:
		return "", IPsInDifferentPools
	case slices.Contains(cands, prefer):
		return prefer, ""
	}
	return cands[0], ""
}

// others lists the Services other than key holding ip, sorted.
func (r *refAlloc) others(ip netip.Addr, key string) []string {
	var out []string
	for k, s := range r.svcs {
		if k != key && slices.Contains(s.ips, ip) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (r *refAlloc) canUse(s model.Service, ip netip.Addr) Reason {
	others := r.others(ip, s.Key)
	if len(others) == 0 {
		return ""
	}
	o := r.svcs[others[0]]
	if o.sharing == "" || s.SharingKey == "" || o.sharing != s.SharingKey || o.backend != s.BackendKey {
		return IPInUse
	}
	for _, k := range others {
		for _, p := range s.Ports {
			if slices.Contains(r.svcs[k].ports, p) {
				return PortConflict
			}
		}
	}
	return ""
}

func refCheckService(s model.Service) Reason {
	f := s.Families
	if s.Key == "" || len(f) == 0 || len(f) > 2 || (len(f) == 2 && f[0] == f[1]) {
		return InvalidRequest
	}
	for _, x := range f {
		if x != model.IPv4 && x != model.IPv6 {
			return InvalidRequest
		}
	}
	return ""
}

func dualPolicy(s model.Service) model.FamilyPolicy {
	if s.Policy == model.RequireDualStack || s.Policy == model.PreferDualStack {
		return s.Policy
	}
	return model.SingleStack
}

func refCheckIPs(s model.Service, ips []netip.Addr) ([]netip.Addr, Reason) {
	if len(ips) == 0 {
		return nil, InvalidRequest
	}
	if len(ips) > 2 {
		return nil, TooManyIPs
	}
	var out []netip.Addr
	for _, ip := range ips {
		if !ip.IsValid() || ip.Zone() != "" {
			return nil, InvalidRequest
		}
		out = append(out, ip.Unmap())
	}
	if len(out) == 2 {
		if out[0].Is4() == out[1].Is4() {
			return nil, FamilyMismatch
		}
		if out[1].Is4() {
			out[0], out[1] = out[1], out[0]
		}
	}
	if len(s.Families) == 1 {
		if len(out) != 1 || model.FamilyOf(out[0]) != s.Families[0] {
			return nil, FamilyMismatch
		}
		return out, ""
	}
	switch dualPolicy(s) {
	case model.RequireDualStack:
		if len(out) != 2 {
			return nil, FamilyMismatch
		}
	case model.SingleStack:
		return nil, FamilyMismatch
	}
	return out, ""
}

func (r *refAlloc) record(s model.Service, pool string, ips []netip.Addr) {
	r.svcs[s.Key] = &refSvc{pool: pool, ips: slices.Clone(ips), sharing: s.SharingKey, backend: s.BackendKey, ports: slices.Clone(s.Ports)}
}

func (r *refAlloc) assign(s model.Service, ips []netip.Addr) (string, Reason) {
	if why := refCheckService(s); why != "" {
		return "", why
	}
	ips, why := refCheckIPs(s, ips)
	if why != "" {
		return "", why
	}
	prefer := ""
	if old := r.svcs[s.Key]; old != nil {
		prefer = old.pool
	}
	name, why := r.poolFor(ips, prefer)
	if why != "" {
		return "", why
	}
	if !r.pool(name).Admits(s.Namespace, s.Labels) {
		return "", PoolNotAllowed
	}
	for _, ip := range ips {
		if why := r.canUse(s, ip); why != "" {
			return "", why
		}
	}
	r.record(s, name, ips)
	return name, ""
}

func (r *refAlloc) candidate(p *model.Pool, v4 bool, s model.Service) (netip.Addr, bool) {
	for _, c := range p.CIDRs {
		if c.Addr().Is4() != v4 {
			continue
		}
		for ip := c.Masked().Addr(); ip.IsValid() && c.Contains(ip); ip = ip.Next() {
			if usableIn(p, ip) && r.canUse(s, ip) == "" {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

func (r *refAlloc) findBest(pools []*model.Pool, s model.Service) (*model.Pool, []netip.Addr) {
	var primPool, secPool *model.Pool
	var primIP, secIP netip.Addr
	for _, p := range pools {
		ip4, ok4 := r.candidate(p, true, s)
		ip6, ok6 := r.candidate(p, false, s)
		if len(s.Families) == 1 {
			if s.Families[0] == model.IPv4 && ok4 {
				return p, []netip.Addr{ip4}
			}
			if s.Families[0] == model.IPv6 && ok6 {
				return p, []netip.Addr{ip6}
			}
			continue
		}
		if ok4 && ok6 {
			return p, []netip.Addr{ip4, ip6}
		}
		if dualPolicy(s) != model.PreferDualStack {
			continue
		}
		pIP, pOK, sIP, sOK := ip4, ok4, ip6, ok6
		if s.Families[0] == model.IPv6 {
			pIP, pOK, sIP, sOK = ip6, ok6, ip4, ok4
		}
		if pOK && primPool == nil {
			primPool, primIP = p, pIP
		}
		if sOK && secPool == nil {
			secPool, secIP = p, sIP
		}
	}
	if primPool != nil {
		return primPool, []netip.Addr{primIP}
	}
	if secPool != nil {
		return secPool, []netip.Addr{secIP}
	}
	return nil, nil
}

func capacity(p *model.Pool, v4 bool) uint64 {
	var n uint64
	for _, c := range p.CIDRs {
		if c.Addr().Is4() != v4 {
			continue
		}
		for ip := c.Masked().Addr(); ip.IsValid() && c.Contains(ip); ip = ip.Next() {
			if usableIn(p, ip) {
				n++
			}
		}
	}
	return n
}

func refExplain(s model.Service, fams []model.Family, cands []*model.Pool) Reason {
	if len(cands) == 0 {
		return NoPoolMatches
	}
	var has4, has6, both bool
	for _, p := range cands {
		c4, c6 := capacity(p, true) > 0, capacity(p, false) > 0
		has4, has6, both = has4 || c4, has6 || c6, both || (c4 && c6)
	}
	if len(fams) == 2 {
		if dualPolicy(s) == model.RequireDualStack {
			if !both {
				return DualStackNotPossible
			}
			return PoolExhausted
		}
		if !has4 && !has6 {
			return NoPoolMatches
		}
		return PoolExhausted
	}
	if (fams[0] == model.IPv4 && !has4) || (fams[0] == model.IPv6 && !has6) {
		return NoPoolMatches
	}
	return PoolExhausted
}

func (r *refAlloc) allocate(s model.Service) (string, []netip.Addr, Reason) {
	if why := refCheckService(s); why != "" {
		return "", nil, why
	}
	if old := r.svcs[s.Key]; old != nil {
		ips := slices.Clone(old.ips)
		name, why := r.assign(s, ips)
		if why != "" {
			return "", nil, why
		}
		return name, ips, ""
	}
	if len(s.Families) == 2 && dualPolicy(s) == model.SingleStack {
		return "", nil, FamilyMismatch
	}
	var pinned, general []*model.Pool
	for _, p := range r.pools {
		al := p.Allocation
		switch {
		case !p.AutoAssign:
		case al == nil:
			general = append(general, p)
		case (al.NamespaceRestricted || len(al.ServiceSelectors) > 0) && p.Admits(s.Namespace, s.Labels):
			pinned = append(pinned, p)
		}
	}
	sort.SliceStable(pinned, func(i, j int) bool {
		a, b := pinned[i].Allocation.Priority, pinned[j].Allocation.Priority
		if a > 0 && b > 0 {
			return a < b
		}
		return a > 0 && b <= 0
	})
	p, ips := r.findBest(pinned, s)
	if p == nil {
		p, ips = r.findBest(general, s)
	}
	if p == nil {
		return "", nil, refExplain(s, s.Families, append(pinned, general...))
	}
	r.record(s, p.Name, ips)
	return p.Name, ips, ""
}

func (r *refAlloc) fromPool(s model.Service, name string) ([]netip.Addr, Reason) {
	if why := refCheckService(s); why != "" {
		return nil, why
	}
	p := r.pool(name)
	if p == nil {
		return nil, UnknownPool
	}
	if old := r.svcs[s.Key]; old != nil && old.pool == name {
		ips := slices.Clone(old.ips)
		if _, why := r.assign(s, ips); why != "" {
			return nil, why
		}
		return ips, ""
	}
	if !p.Admits(s.Namespace, s.Labels) {
		return nil, PoolNotAllowed
	}
	if len(s.Families) == 2 && dualPolicy(s) == model.SingleStack {
		return nil, FamilyMismatch
	}
	got, ips := r.findBest([]*model.Pool{p}, s)
	if got == nil {
		return nil, refExplain(s, s.Families, []*model.Pool{p})
	}
	r.record(s, name, ips)
	return ips, ""
}

func (r *refAlloc) additional(s model.Service) ([]netip.Addr, Reason) {
	if why := refCheckService(s); why != "" {
		return nil, why
	}
	old := r.svcs[s.Key]
	switch {
	case old == nil:
		return nil, NotAssigned
	case len(old.ips) == 2:
		return slices.Clone(old.ips), ""
	case len(s.Families) != 2 || s.Policy != model.PreferDualStack:
		return nil, FamilyMismatch
	case old.pool == "":
		return nil, NotAssigned
	}
	p := r.pool(old.pool)
	missing := model.IPv6
	if !old.ips[0].Is4() {
		missing = model.IPv4
	}
	ip, ok := r.candidate(p, missing == model.IPv4, s)
	if !ok {
		return nil, refExplain(s, []model.Family{missing}, []*model.Pool{p})
	}
	if _, why := r.assign(s, []netip.Addr{old.ips[0], ip}); why != "" {
		return nil, why
	}
	return slices.Clone(r.svcs[s.Key].ips), ""
}

func (r *refAlloc) stats() []PoolStats {
	held := map[netip.Addr]bool{}
	for _, s := range r.svcs {
		for _, ip := range s.ips {
			held[ip] = true
		}
	}
	var out []PoolStats
	for _, p := range r.pools {
		st := PoolStats{Name: p.Name, CapacityV4: CountOf(capacity(p, true)), CapacityV6: CountOf(capacity(p, false))}
		for ip := range held {
			if usableIn(p, ip) {
				if ip.Is4() {
					st.InUseV4++
				} else {
					st.InUseV6++
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// The random universe: small CIDRs, some nested across pools, some with
// .0/.255 addresses.
var (
	universe4 = []string{"192.0.2.0/29", "192.0.2.8/30", "192.0.2.12/31", "192.0.2.252/30", "192.0.2.0/28",
		"198.51.100.0/31", "198.51.100.255/32", "203.0.113.0/32"}
	universe6   = []string{"2001:db8::/126", "2001:db8::/125", "2001:db8:1::/127", "2001:db8:2::/128"}
	extraAddrs  = []string{"192.0.2.100", "2001:db8:9::1", "::ffff:192.0.2.1"}
	allUniverse = append(slices.Clone(universe4), universe6...)
)

func randomPools(rng *rand.Rand) []*model.Pool {
	var ps []*model.Pool
	names := []string{"a", "b", "c", "d"}
	for _, name := range names[:1+rng.IntN(4)] {
		if rng.IntN(10) == 0 {
			name = "a" // a duplicate name now and then
		}
		p := &model.Pool{Name: name, AutoAssign: rng.IntN(5) != 0, AvoidBuggyIPs: rng.IntN(3) == 0}
		for _, i := range rng.Perm(len(allUniverse))[:1+rng.IntN(3)] {
			c := netip.MustParsePrefix(allUniverse[i])
			if slices.ContainsFunc(p.CIDRs, c.Overlaps) {
				continue
			}
			p.CIDRs = append(p.CIDRs, c)
		}
		if rng.IntN(3) == 0 {
			al := &model.Allocation{Priority: rng.IntN(4)}
			if rng.IntN(2) == 0 {
				al.NamespaceRestricted = true
				al.Namespaces = map[string]bool{}
				for _, ns := range []string{"x", "y"} {
					if rng.IntN(2) == 0 {
						al.Namespaces[ns] = true
					}
				}
			}
			if rng.IntN(3) == 0 {
				al.ServiceSelectors = []model.Selector{{MatchLabels: map[string]string{"app": "web"}}}
			}
			if !al.NamespaceRestricted && len(al.ServiceSelectors) == 0 {
				al.ServiceSelectors = []model.Selector{{}}
			}
			p.Allocation = al
		}
		ps = append(ps, p)
	}
	return ps
}

// services keeps one profile per Service key so that most operations on a
// key agree with its earlier ones (as a real Service does), with random
// changes now and then.
type services struct {
	rng      *rand.Rand
	profiles map[string]model.Service
}

func (g *services) next() model.Service {
	ns := []string{"x", "y"}[g.rng.IntN(2)]
	key := fmt.Sprintf("%s/s%d", ns, g.rng.IntN(8))
	s, ok := g.profiles[key]
	if !ok || g.rng.IntN(8) == 0 {
		s = randomService(g.rng, key, ns)
		g.profiles[key] = s
	}
	return s
}

func randomService(rng *rand.Rand, key, ns string) model.Service {
	s := model.Service{Key: key, Namespace: ns}
	switch rng.IntN(6) {
	case 0, 1:
		s.Families = []model.Family{model.IPv4}
	case 2:
		s.Families = []model.Family{model.IPv6}
	case 3:
		s.Families = []model.Family{model.IPv4, model.IPv6}
	default:
		s.Families = []model.Family{model.IPv6, model.IPv4}
	}
	s.Policy = []model.FamilyPolicy{model.SingleStack, model.PreferDualStack, model.PreferDualStack, model.RequireDualStack, ""}[rng.IntN(5)]
	if len(s.Families) == 2 && rng.IntN(4) != 0 {
		s.Policy = model.PreferDualStack
	}
	s.SharingKey = []string{"", "k1", "k1", "k2"}[rng.IntN(4)]
	if rng.IntN(4) == 0 {
		s.BackendKey = "app=web"
	}
	for _, p := range []model.Port{{Protocol: "TCP", Port: 80}, {Protocol: "TCP", Port: 443}, {Protocol: "UDP", Port: 80}, {Protocol: "TCP", Port: 8080}} {
		if rng.IntN(3) == 0 {
			s.Ports = append(s.Ports, p)
		}
	}
	if rng.IntN(2) == 0 {
		s.Labels = map[string]string{"app": "web"}
	}
	return s
}

func randomAddr(rng *rand.Rand) netip.Addr {
	if rng.IntN(10) == 0 {
		return netip.MustParseAddr(extraAddrs[rng.IntN(len(extraAddrs))])
	}
	c := netip.MustParsePrefix(allUniverse[rng.IntN(len(allUniverse))])
	a := c.Addr()
	for n := rng.IntN(16); n > 0 && c.Contains(a.Next()); n-- {
		a = a.Next()
	}
	return a
}

func TestAgainstReference(t *testing.T) {
	seeds := 8
	opsPerSeed := 3000
	if testing.Short() {
		seeds = 2
	}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 42))
			a, ref := New(), newRef()
			ps := randomPools(rng)
			a.SetPools(ps)
			ref.setPools(ps)
			counts := map[string]int{}
			gen := &services{rng: rng, profiles: map[string]model.Service{}}
			for i := range opsPerSeed {
				var desc string
				var got, want []any
				switch op := rng.IntN(20); {
				case op < 8:
					s := gen.next()
					desc = fmt.Sprintf("Allocate(%+v)", s)
					p, ips, err := a.Allocate(s)
					rp, rips, rwhy := ref.allocate(s)
					got, want = []any{p, ips, ReasonOf(err)}, []any{rp, rips, rwhy}
					counts["allocate/"+string(rwhy)]++
					for _, ip := range rips {
						if len(ref.others(ip, s.Key)) > 0 {
							counts["allocate/shared"]++
						}
					}
				case op < 10:
					s := gen.next()
					name := []string{"a", "b", "c", "d", "none"}[rng.IntN(5)]
					desc = fmt.Sprintf("AllocateFromPool(%+v, %s)", s, name)
					ips, err := a.AllocateFromPool(s, name)
					rips, rwhy := ref.fromPool(s, name)
					got, want = []any{ips, ReasonOf(err)}, []any{rips, rwhy}
					counts["frompool/"+string(rwhy)]++
				case op < 14:
					s := gen.next()
					ips := []netip.Addr{randomAddr(rng)}
					switch rng.IntN(10) {
					case 0:
						ips = nil
					case 1:
						ips = append(ips, randomAddr(rng), randomAddr(rng))
					case 2, 3, 4:
						ips = append(ips, randomAddr(rng))
					}
					desc = fmt.Sprintf("Assign(%+v, %v)", s, ips)
					p, err := a.Assign(s, ips)
					rp, rwhy := ref.assign(s, ips)
					got, want = []any{p, ReasonOf(err)}, []any{rp, rwhy}
					counts["assign/"+string(rwhy)]++
				case op < 15:
					s := gen.next()
					desc = fmt.Sprintf("AllocateAdditional(%+v)", s)
					ips, err := a.AllocateAdditional(s)
					rips, rwhy := ref.additional(s)
					got, want = []any{ips, ReasonOf(err)}, []any{rips, rwhy}
					counts["additional/"+string(rwhy)]++
				case op < 19:
					key := gen.next().Key
					desc = "Release(" + key + ")"
					a.Release(key)
					delete(ref.svcs, key)
				default:
					ps := randomPools(rng)
					desc = "SetPools"
					got, want = []any{a.SetPools(ps)}, []any{ref.setPools(ps)}
					counts["setpools"]++
				}
				opts := []cmp.Option{cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
					cmp.Comparer(func(x, y []netip.Addr) bool { return slices.Equal(x, y) }),
					cmp.Comparer(func(x, y []string) bool { return slices.Equal(x, y) })}
				if diff := cmp.Diff(want, got, opts...); diff != "" {
					t.Fatalf("op %d %s: result differs from the reference (-ref +got):\n%s", i, desc, diff)
				}
				compareState(t, i, desc, a, ref)
				checkConsistency(t, a)
				if t.Failed() {
					t.FailNow()
				}
			}
			t.Logf("outcomes: %v", counts)
			for _, must := range []string{"allocate/", "allocate/PoolExhausted", "assign/", "assign/IPInUse", "assign/PortConflict",
				"additional/", "frompool/", "assign/IPsInDifferentPools", "assign/PoolNotAllowed", "allocate/shared",
				"allocate/NoPoolMatches", "allocate/DualStackNotPossible", "setpools"} {
				if counts[must] == 0 && seed == 0 {
					t.Errorf("outcome %q never happened: the generator does not exercise it", must)
				}
			}
		})
	}
}

func compareState(t *testing.T, i int, desc string, a *Allocator, ref *refAlloc) {
	t.Helper()
	for key, rs := range ref.svcs {
		p, ips, ok := a.Lookup(key)
		if !ok || p != rs.pool || !slices.Equal(ips, rs.ips) {
			t.Fatalf("op %d %s: Lookup(%s) = %q %v %v, reference %q %v", i, desc, key, p, ips, ok, rs.pool, rs.ips)
		}
	}
	if a.Len() != len(ref.svcs) {
		t.Fatalf("op %d %s: %d assignments, reference %d", i, desc, a.Len(), len(ref.svcs))
	}
	var refInvalid []string
	for k, s := range ref.svcs {
		if s.pool == "" {
			refInvalid = append(refInvalid, k)
		}
	}
	slices.Sort(refInvalid)
	if got := a.Invalid(); !slices.Equal(got, refInvalid) {
		t.Fatalf("op %d %s: Invalid() = %v, reference %v", i, desc, got, refInvalid)
	}
	if diff := cmp.Diff(ref.stats(), a.AllPoolStats(), cmp.Comparer(func(x, y Count) bool { return x == y })); diff != "" {
		t.Fatalf("op %d %s: stats (-ref +got):\n%s", i, desc, diff)
	}
}

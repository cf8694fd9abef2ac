package ipam

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/google/go-cmp/cmp"
)

// The big IPv4 prefixes below are numbers in memory only; nothing is ever
// configured on an interface.

func TestHugePoolCapacities(t *testing.T) {
	a := newWith(t,
		pool("v4-slash8", []string{"10.0.0.0/8"}),
		pool("v4-slash8-avoid", []string{"11.0.0.0/8"}, avoidBuggy),
		pool("v6-slash64", []string{"2001:db8::/64"}),
		pool("v6-slash0", []string{"::/0"}),
		pool("all", []string{"0.0.0.0/0", "::/0"}, manual),
		pool("all-avoid", []string{"0.0.0.0/0"}, avoidBuggy, manual),
	)
	tests := []struct {
		pool       string
		capV4      *big.Int
		capV6      *big.Int
		total      string
		status4    int64
		status6    int64
		metricBoth float64
	}{
		{"v4-slash8", bigPow2(24), big.NewInt(0), "16777216", 1 << 24, 0, 1 << 24},
		{"v4-slash8-avoid", big.NewInt(65536 * 254), big.NewInt(0), "16646144", 65536 * 254, 0, 65536 * 254},
		{"v6-slash64", big.NewInt(0), bigPow2(64), "18446744073709551616", 0, math.MaxInt64, 0x1p64},
		{"v6-slash0", big.NewInt(0), bigPow2(128), "340282366920938463463374607431768211456", 0, math.MaxInt64, 0x1p128},
		{"all", bigPow2(32), bigPow2(128), "340282366920938463463374607436063178752", 1 << 32, math.MaxInt64, 0x1p128},
		{"all-avoid", new(big.Int).Mul(bigPow2(24), big.NewInt(254)), big.NewInt(0), "4261412864", (1 << 24) * 254, 0, (1 << 24) * 254},
	}
	for _, tc := range tests {
		st, ok := a.PoolStats(tc.pool)
		if !ok {
			t.Fatalf("no stats for %s", tc.pool)
		}
		if st.CapacityV4.Big().Cmp(tc.capV4) != 0 || st.CapacityV6.Big().Cmp(tc.capV6) != 0 {
			t.Errorf("%s: capacity %v/%v, want %v/%v", tc.pool, st.CapacityV4, st.CapacityV6, tc.capV4, tc.capV6)
		}
		if got := st.Capacity().String(); got != tc.total {
			t.Errorf("%s: total capacity %s, want %s", tc.pool, got, tc.total)
		}
		if st.AvailableV4().Int64() != tc.status4 || st.AvailableV6().Int64() != tc.status6 {
			t.Errorf("%s: status available %d/%d, want %d/%d", tc.pool, st.AvailableV4().Int64(), st.AvailableV6().Int64(), tc.status4, tc.status6)
		}
		if got := st.Capacity().Float64(); got != tc.metricBoth {
			t.Errorf("%s: metric capacity %g, want %g", tc.pool, got, tc.metricBoth)
		}
	}
	if got := a.AllPoolStats(); len(got) != 6 || got[0].Name != "all" {
		t.Errorf("AllPoolStats() = %v", got)
	}
}

func TestHugePoolEdges(t *testing.T) {
	a := newWith(t, pool("v6-all", []string{"::/0"}), pool("v4-all", []string{"0.0.0.0/0"}, manual))
	last6 := "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
	runScript(t, a, []step{
		allocate("first address of ::/0", svc("ns/a", v6only)).gets("v6-all", "::"),
		assign("last address of ::/0", svc("ns/z", v6only), last6).gets("v6-all", last6),
		allocate("next", svc("ns/b", v6only)).gets("v6-all", "::1"),
		assign("just below the last", svc("ns/y", v6only), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe").gets("v6-all", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"),
		check("available is 2^128 - 4", func(t *testing.T, a *Allocator) {
			st, _ := a.PoolStats("v6-all")
			want := new(big.Int).Sub(bigPow2(128), big.NewInt(4))
			if got := st.AvailableV6().Big(); got.Cmp(want) != 0 || st.InUseV6 != 4 {
				t.Errorf("available %s in use %d, want %s and 4", got, st.InUseV6, want)
			}
		}),
		release("free the last", "ns/z"),
		release("free the one below", "ns/y"),
		assign("the top of the space merges back", svc("ns/z", v6only), last6).gets("v6-all", last6),
		release("again", "ns/z"),
		fromPool("0.0.0.0 in a /0", svc("ns/v4"), "v4-all").gets("v4-all", "0.0.0.0"),
		assign("255.255.255.255 in a /0", svc("ns/v4b"), "255.255.255.255").gets("v4-all", "255.255.255.255"),
		check("the /0 spaces hold one free interval each, inner ones", func(t *testing.T, a *Allocator) {
			for _, p := range a.pools {
				for _, s := range p.spaces {
					if s.free.len() != 1 {
						t.Errorf("%s: %d free intervals", s.prefix, s.free.len())
					}
				}
			}
		}),
	})
}

// TestHugePoolsManyServices places many Services in a /8 and a /64,
// releases a random half and places them again: the lowest free addresses
// are reused, and SetPools does not depend on pool sizes.
func TestHugePoolsManyServices(t *testing.T) {
	if testing.Short() {
		t.Skip("places 40,000 Services")
	}
	for _, tc := range []struct {
		name  string
		cidr  string
		fam   svcOpt
		first netip.Addr
	}{
		{"v4-slash8", "10.0.0.0/8", func(*model.Service) {}, netip.MustParseAddr("10.0.0.0")},
		{"v6-slash64", "2001:db8::/64", v6only, netip.MustParseAddr("2001:db8::")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 20000
			a := newWith(t, pool("big", []string{tc.cidr}))
			keys := make([]string, n)
			want := make([]netip.Addr, n)
			ip := tc.first
			for i := range keys {
				keys[i] = "ns/s" + strconv.Itoa(i)
				_, got, err := a.Allocate(svc(keys[i], tc.fam))
				if err != nil || len(got) != 1 || got[0] != ip {
					t.Fatalf("service %d: %v %v, want %s", i, got, err, ip)
				}
				want[i] = ip
				ip = ip.Next()
			}
			rng := rand.New(rand.NewPCG(5, 6))
			var freed []netip.Addr
			for _, i := range rng.Perm(n)[:n/2] {
				a.Release(keys[i])
				freed = append(freed, want[i])
			}
			slices.SortFunc(freed, netip.Addr.Compare)
			for j, ipWant := range freed {
				_, got, err := a.Allocate(svc("ns/again"+strconv.Itoa(j), tc.fam))
				if err != nil || got[0] != ipWant {
					t.Fatalf("re-place %d: %v %v, want the lowest freed %s", j, got, err, ipWant)
				}
			}
			_, got, _ := a.Allocate(svc("ns/after", tc.fam))
			if got[0] != ip {
				t.Fatalf("after refilling the holes got %s, want %s", got[0], ip)
			}
			st, _ := a.PoolStats("big")
			if st.InUse() != n+1 {
				t.Errorf("in use %d, want %d", st.InUse(), n+1)
			}
			// A rename keeps the indexes; a new CIDR is built from the held IPs.
			if inv := a.SetPools([]*model.Pool{pool("renamed", []string{tc.cidr})}); len(inv) != 0 {
				t.Fatalf("rename invalidated %d", len(inv))
			}
			if p, _, _ := a.Lookup("ns/after"); p != "renamed" {
				t.Errorf("after rename, pool %q", p)
			}
			// Turning avoidBuggyIPs on builds a new index from the held IPs
			// (tc.first..ip, contiguous) and invalidates the .0/.255 holders.
			buggy := 0
			for x := tc.first; x.Compare(ip) <= 0; x = x.Next() {
				if model.IsBuggy(x) {
					buggy++
				}
			}
			if tc.name == "v4-slash8" && buggy == 0 {
				t.Fatal("the v4 case should hold .0/.255 addresses")
			}
			if inv := a.SetPools([]*model.Pool{pool("other", []string{tc.cidr}, avoidBuggy)}); len(inv) != buggy {
				t.Fatalf("avoidBuggyIPs invalidated %d assignments, want %d", len(inv), buggy)
			}
			if st2, _ := a.PoolStats("other"); st2.InUse() != uint64(n+1-buggy) {
				t.Errorf("rebuilt index counts %d in use, want %d", st2.InUse(), n+1-buggy)
			}
			_, got, _ = a.Allocate(svc("ns/after-avoid", tc.fam))
			if want := ip.Next(); got[0] != want {
				t.Errorf("after the rebuild got %s, want %s", got[0], want)
			}
		})
	}
}

// TestDeterminism runs the same operations against pools and labels given
// in different orders and expects identical results.
func TestDeterminism(t *testing.T) {
	mkPools := func(rng *rand.Rand) []*model.Pool {
		ps := []*model.Pool{
			pool("p-a", []string{"192.0.2.0/29"}, priority(1)),
			pool("p-b", []string{"192.0.2.8/29"}, priority(1)),
			pool("p-c", []string{"192.0.2.16/29"}, namespaces("x", "y")),
			pool("p-d", []string{"192.0.2.24/29"}, namespaces("x")),
			pool("g-1", []string{"198.51.100.0/29", "2001:db8::/125"}),
			pool("g-0", []string{"198.51.100.8/29", "2001:db8:1::/125"}),
		}
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		return ps
	}
	run := func(seed uint64) []string {
		rng := rand.New(rand.NewPCG(seed, seed))
		a := newWith(t, mkPools(rng)...)
		var out, keys []string
		for i := 0; i < 60; i++ {
			lbl := map[string]string{}
			kv := [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}}
			rng.Shuffle(len(kv), func(i, j int) { kv[i], kv[j] = kv[j], kv[i] })
			for _, p := range kv {
				lbl[p[0]] = p[1]
			}
			ns := []string{"x", "y", "z"}[i%3]
			s := svc(ns+"/s"+strconv.Itoa(i), func(s *model.Service) { s.Labels = lbl })
			if i%4 == 0 {
				dual(model.PreferDualStack, model.IPv6)(&s)
			}
			if i%5 == 0 && i >= 5 {
				a.Release(keys[i-5])
			}
			keys = append(keys, s.Key)
			p, ips, err := a.Allocate(s)
			out = append(out, fmt.Sprintf("%s %s %v %s", s.Key, p, ips, ReasonOf(err)))
			if i == 30 {
				a.SetPools(mkPools(rng))
			}
		}
		return out
	}
	first := run(1)
	for seed := uint64(2); seed < 6; seed++ {
		if diff := cmp.Diff(first, run(seed)); diff != "" {
			t.Fatalf("seed %d gave other results (-seed1 +seed%d):\n%s", seed, seed, diff)
		}
	}
}

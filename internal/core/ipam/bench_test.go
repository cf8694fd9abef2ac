package ipam

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// The IPv4 /8 is a number in memory only, never configured anywhere.
var benchPools = []struct {
	name string
	pool *model.Pool
	fam  svcOpt
}{
	{"v4-slash8", pool("big", []string{"10.0.0.0/8"}), func(*model.Service) {}},
	{"v6-slash64", pool("big", []string{"2001:db8::/64"}), v6only},
}

func benchServices(n int, fam svcOpt) []model.Service {
	out := make([]model.Service, n)
	for i := range out {
		out[i] = svc("ns/svc-"+strconv.Itoa(i), fam, ports("TCP/80"))
	}
	return out
}

func place(tb testing.TB, a *Allocator, svcs []model.Service) {
	for i := range svcs {
		if _, _, err := a.Allocate(svcs[i]); err != nil {
			tb.Fatalf("placing %s: %v", svcs[i].Key, err)
		}
	}
}

// BenchmarkAllocateRelease: one more Service allocated and released with
// 100,000 Services already placed.
func BenchmarkAllocateRelease(b *testing.B) {
	const n = 100000
	type variant struct {
		name  string
		pools []*model.Pool
		fam   svcOpt
		setup func(b *testing.B, a *Allocator, svcs []model.Service)
		extra model.Service
	}
	var variants []variant
	for _, bp := range benchPools {
		variants = append(variants, variant{name: bp.name, pools: []*model.Pool{bp.pool}, fam: bp.fam})
	}
	variants = append(variants,
		variant{name: "v4-slash8-avoidbuggy", pools: []*model.Pool{pool("big", []string{"10.0.0.0/8"}, avoidBuggy)}, fam: func(*model.Service) {}},
		variant{
			// 10% of the Services released at random: ~10,000 free intervals.
			name: "v4-slash8-fragmented", pools: []*model.Pool{pool("big", []string{"10.0.0.0/8"})}, fam: func(*model.Service) {},
			setup: func(b *testing.B, a *Allocator, svcs []model.Service) {
				rng := rand.New(rand.NewPCG(7, 7))
				for _, i := range rng.Perm(len(svcs))[:len(svcs)/10] {
					a.Release(svcs[i].Key)
				}
			},
		},
		variant{
			// The extra Service shares: it scans its group for a free port.
			name: "v4-slash8-sharing", pools: []*model.Pool{pool("big", []string{"10.0.0.0/8"})}, fam: func(*model.Service) {},
			setup: func(b *testing.B, a *Allocator, svcs []model.Service) {
				for i := 0; i < 100; i++ {
					s := svc("shared/s"+strconv.Itoa(i), share("k"), ports("TCP/"+strconv.Itoa(1000+i%10)))
					if _, _, err := a.Allocate(s); err != nil {
						b.Fatal(err)
					}
				}
			},
			extra: svc("shared/extra", share("k"), ports("TCP/1005")),
		},
		variant{
			// Ten pinned pools by priority, the first nine exhausted.
			name: "v4-pinned-pools", fam: func(*model.Service) {},
			pools: func() []*model.Pool {
				var ps []*model.Pool
				for i := 0; i < 9; i++ {
					ps = append(ps, pool("full-"+strconv.Itoa(i), []string{"192.0.2." + strconv.Itoa(i) + "/32"}, priority(i+1), namespaces("ns")))
				}
				return append(ps, pool("open", []string{"10.0.0.0/8"}, priority(20), namespaces("ns")))
			}(),
		},
	)
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			a := New()
			a.SetPools(v.pools)
			svcs := benchServices(n, v.fam)
			place(b, a, svcs)
			if v.setup != nil {
				v.setup(b, a, svcs)
			}
			s := v.extra
			if s.Key == "" {
				s = svc("ns/extra", v.fam, ports("TCP/80"))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := a.Allocate(s); err != nil {
					b.Fatal(err)
				}
				a.Release(s.Key)
			}
		})
	}
}

// BenchmarkPlace100k: 100,000 Services placed in an empty /8 or /64 (one
// op = all of them). B/service-live is the heap kept per Service.
func BenchmarkPlace100k(b *testing.B) {
	const n = 100000
	for _, bp := range benchPools {
		name := bp.name[:2]
		b.Run(name, func(b *testing.B) {
			svcs := benchServices(n, bp.fam)
			live := liveBytes(b, bp.pool, svcs)
			b.ReportAllocs()
			for b.Loop() {
				a := New()
				a.SetPools([]*model.Pool{bp.pool})
				place(b, a, svcs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/service")
			b.ReportMetric(float64(live)/n, "B/service-live")
		})
	}
}

// liveBytes returns the heap retained by an allocator holding svcs.
func liveBytes(tb testing.TB, p *model.Pool, svcs []model.Service) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := New()
	a.SetPools([]*model.Pool{p})
	place(tb, a, svcs)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(a)
	return after.HeapAlloc - before.HeapAlloc
}

// BenchmarkSetPools100k: replacing the pool set (a rename, and a new CIDR
// that must be indexed from the held IPs) with 100,000 Services placed.
func BenchmarkSetPools100k(b *testing.B) {
	const n = 100000
	a := New()
	a.SetPools([]*model.Pool{pool("big", []string{"10.0.0.0/8"})})
	place(b, a, benchServices(n, func(*model.Service) {}))
	b.Run("rename", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			a.SetPools([]*model.Pool{pool("big-"+strconv.Itoa(i%2), []string{"10.0.0.0/8"})})
		}
	})
	b.Run("new-cidr", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			a.SetPools([]*model.Pool{pool("big", []string{"10.0.0.0/8"}, func(p *model.Pool) { p.AvoidBuggyIPs = i%2 == 0 })})
		}
	})
}

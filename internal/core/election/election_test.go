package election

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func nodes(names ...string) []Candidate {
	out := make([]Candidate, len(names))
	for i, n := range names {
		out[i] = Candidate{Node: n}
	}
	return out
}

func nodeNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("node-%d", i)
	}
	return out
}

// v4IPs returns n consecutive addresses from the benchmark range
// 198.18.0.0/15.
func v4IPs(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	a := netip.MustParseAddr("198.18.0.1")
	for i := range out {
		out[i] = a
		a = a.Next()
	}
	return out
}

// v6IPs returns n consecutive addresses from 2001:db8::/32.
func v6IPs(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	a := netip.MustParseAddr("2001:db8:1::1")
	for i := range out {
		out[i] = a
		a = a.Next()
	}
	return out
}

// bruteOwner is the election written the slow, obvious way: among the
// candidates with the highest score, the one whose SHA-256 weight is the
// largest.
func bruteOwner(ip netip.Addr, cands []Candidate) string {
	var top []Candidate
	for _, c := range cands {
		if c.Node == "" {
			continue
		}
		switch {
		case len(top) == 0 || c.Score > top[0].Score:
			top = []Candidate{c}
		case c.Score == top[0].Score:
			top = append(top, c)
		}
	}
	best := ""
	var bw [32]byte
	for _, c := range top {
		w := Weight(ip, c.Node)
		if best == "" || bytes.Compare(w[:], bw[:]) > 0 {
			best, bw = c.Node, w
		}
	}
	return best
}

func TestOwnerRules(t *testing.T) {
	ip := netip.MustParseAddr("203.0.113.10")
	hashWinner := bruteOwner(ip, nodes("a", "b", "c"))
	tests := []struct {
		name   string
		cands  []Candidate
		want   string
		wantOK bool
	}{
		{name: "no candidate", cands: nil, want: "", wantOK: false},
		{name: "only empty names", cands: nodes("", ""), want: "", wantOK: false},
		{name: "single candidate", cands: nodes("a"), want: "a", wantOK: true},
		{name: "equal scores: hash decides", cands: nodes("a", "b", "c"), want: hashWinner, wantOK: true},
		{name: "order does not matter", cands: nodes("c", "a", "b"), want: hashWinner, wantOK: true},
		{name: "empty name ignored", cands: nodes("", "a", "b", "c"), want: hashWinner, wantOK: true},
		{
			name:   "highest score beats hash",
			cands:  []Candidate{{Node: "a"}, {Node: "b"}, {Node: "c"}, {Node: "z", Score: 1}},
			want:   "z",
			wantOK: true,
		},
		{
			name:   "negative scores rank below zero",
			cands:  []Candidate{{Node: "a", Score: -5}, {Node: "b", Score: 0}},
			want:   "b",
			wantOK: true,
		},
		{
			name:   "duplicate node counts with its highest score",
			cands:  []Candidate{{Node: "a", Score: 0}, {Node: "b", Score: 3}, {Node: "a", Score: 7}},
			want:   "a",
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Owner(ip, tt.cands)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Owner = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
			rank := Rank(ip, tt.cands)
			if tt.wantOK && (len(rank) == 0 || rank[0] != tt.want) {
				t.Errorf("Rank = %v, first should be %q", rank, tt.want)
			}
			if !tt.wantOK && len(rank) != 0 {
				t.Errorf("Rank = %v, want empty", rank)
			}
		})
	}
}

// The hash tie-break must actually depend on the IP: over a few IPs, every
// node of three wins at least once with equal scores.
func TestOwnerDependsOnIP(t *testing.T) {
	won := map[string]bool{}
	for _, ip := range v4IPs(64) {
		n, _ := Owner(ip, nodes("a", "b", "c"))
		won[n] = true
	}
	if len(won) != 3 {
		t.Errorf("winners over 64 IPs: %v; want all of a, b, c", won)
	}
}

// Mapped and unmapped forms of an IPv4 address are the same IP and must
// elect the same node.
func TestOwnerMappedIPv4(t *testing.T) {
	cands := nodes(nodeNames(7)...)
	for _, ip := range v4IPs(50) {
		mapped := netip.AddrFrom16(ip.As16())
		a, _ := Owner(ip, cands)
		b, _ := Owner(mapped, cands)
		if a != b {
			t.Fatalf("%s elects %s but %s elects %s", ip, a, mapped, b)
		}
	}
}

// Owner, Rank and the brute-force reference agree on random inputs, and
// neither depends on the order of the candidates.
func TestOwnerMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ips := append(v4IPs(100), v6IPs(100)...)
	for i, ip := range ips {
		n := 1 + r.IntN(8)
		cands := make([]Candidate, n)
		for j := range cands {
			cands[j] = Candidate{Node: fmt.Sprintf("n%d", r.IntN(10)), Score: int64(r.IntN(3))}
		}
		want := bruteOwner(ip, cands)
		got, ok := Owner(ip, cands)
		if !ok || got != want {
			t.Fatalf("case %d (%s, %v): Owner = %q, want %q", i, ip, cands, got, want)
		}
		rank := Rank(ip, cands)
		shuffled := slices.Clone(cands)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got2, _ := Owner(ip, shuffled); got2 != got {
			t.Fatalf("case %d: shuffled candidates elect %q, not %q", i, got2, got)
		}
		if diff := cmp.Diff(rank, Rank(ip, shuffled)); diff != "" {
			t.Fatalf("case %d: Rank depends on order (-first +shuffled):\n%s", i, diff)
		}
		if rank[0] != want {
			t.Fatalf("case %d: Rank[0] = %q, want %q", i, rank[0], want)
		}
	}
}

// Rank is the succession order: removing the owner makes the second node
// of the ranking the owner, and so on down the list.
func TestRankIsSuccession(t *testing.T) {
	ip := netip.MustParseAddr("2001:db8::42")
	cands := []Candidate{{Node: "a", Score: 10}, {Node: "b"}, {Node: "c"}, {Node: "d", Score: 10}, {Node: "e"}}
	rank := Rank(ip, cands)
	if len(rank) != 5 {
		t.Fatalf("Rank = %v, want 5 nodes", rank)
	}
	rest := slices.Clone(cands)
	for i, want := range rank {
		got, _ := Owner(ip, rest)
		if got != want {
			t.Fatalf("step %d: Owner = %q, Rank says %q (rank %v)", i, got, want, rank)
		}
		rest = slices.DeleteFunc(rest, func(c Candidate) bool { return c.Node == got })
	}
	// Scored nodes come first.
	if top := []string{rank[0], rank[1]}; !slices.Contains(top, "a") || !slices.Contains(top, "d") {
		t.Errorf("Rank = %v: a and d (score 10) must come first", rank)
	}
}

func TestRankDeduplicates(t *testing.T) {
	ip := netip.MustParseAddr("203.0.113.7")
	got := Rank(ip, []Candidate{{Node: "a"}, {Node: "b", Score: 2}, {Node: "a", Score: 5}, {Node: "b"}})
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Errorf("Rank (-want +got):\n%s", diff)
	}
}

// counts returns how many of ips each node owns.
func counts(ips []netip.Addr, cands []Candidate) map[string]int {
	out := map[string]int{}
	for _, ip := range ips {
		n, _ := Owner(ip, cands)
		out[n]++
	}
	return out
}

// Many IPs spread evenly. With n IPs over k nodes each count is binomial
// with standard deviation sqrt(n/k*(1-1/k)); the bounds are ±10% of the
// mean, which is 3.9 standard deviations for 3,000 IPs over 3 nodes. For 10
// nodes, 3,000 IPs would give a mean of 300 with σ≈16, and ±10% (±1.8σ)
// would fail for about half of all possible hash functions, so that case
// uses 30,000 IPs (mean 3,000, ±10% = ±5.8σ).
func TestDistribution(t *testing.T) {
	tests := []struct {
		name  string
		ips   []netip.Addr
		nodes int
	}{
		{"3000 IPv4 over 3 nodes", v4IPs(3000), 3},
		{"3000 IPv6 over 3 nodes", v6IPs(3000), 3},
		{"30000 IPv4 over 10 nodes", v4IPs(30000), 10},
		{"30000 IPv6 over 10 nodes", v6IPs(30000), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := nodeNames(tt.nodes)
			got := counts(tt.ips, nodes(names...))
			mean := float64(len(tt.ips)) / float64(tt.nodes)
			var chi2 float64
			for _, n := range names {
				c := float64(got[n])
				if c < 0.9*mean || c > 1.1*mean {
					t.Errorf("%s owns %d IPs, want %.0f ± 10%%", n, got[n], mean)
				}
				chi2 += (c - mean) * (c - mean) / mean
			}
			if len(got) != tt.nodes {
				t.Errorf("owners: %v, want exactly the %d nodes", got, tt.nodes)
			}
			// Chi-square goodness of fit, k-1 degrees of freedom: the
			// 99.9th percentile is 13.8 for 2 and 27.9 for 9.
			limit := map[int]float64{3: 13.8, 10: 27.9}[tt.nodes]
			if chi2 > limit {
				t.Errorf("chi-square %.1f > %.1f: counts %v are not uniform", chi2, limit, got)
			}
		})
	}
}

// Removing a node moves only the IPs it owned, and those spread over all
// the remaining nodes; adding a node only takes IPs for itself.
func TestMinimalDisruption(t *testing.T) {
	ips := v4IPs(3000)
	names := nodeNames(5)
	before := map[netip.Addr]string{}
	for _, ip := range ips {
		before[ip], _ = Owner(ip, nodes(names...))
	}

	t.Run("remove a node", func(t *testing.T) {
		gone := names[2]
		rest := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == gone })
		moved, gainers := 0, map[string]int{}
		for _, ip := range ips {
			after, _ := Owner(ip, nodes(rest...))
			switch {
			case before[ip] == gone:
				moved++
				gainers[after]++
			case after != before[ip]:
				t.Fatalf("%s moved from %s to %s though %s was removed", ip, before[ip], after, gone)
			}
		}
		if moved == 0 {
			t.Fatalf("%s owned nothing", gone)
		}
		// Its IPs spread: each of the 4 survivors takes a fair share
		// (binomial, mean moved/4; the bound is loose).
		for _, n := range rest {
			if float64(gainers[n]) < 0.6*float64(moved)/4 {
				t.Errorf("%s took %d of %d moved IPs: not spread", n, gainers[n], moved)
			}
		}
	})

	t.Run("add a node", func(t *testing.T) {
		more := append(slices.Clone(names), "node-new")
		taken := 0
		for _, ip := range ips {
			after, _ := Owner(ip, nodes(more...))
			switch {
			case after == "node-new":
				taken++
			case after != before[ip]:
				t.Fatalf("%s moved from %s to %s, not to the new node", ip, before[ip], after)
			}
		}
		if mean := 3000.0 / 6; float64(taken) < 0.8*mean || float64(taken) > 1.2*mean {
			t.Errorf("new node took %d IPs, want about %.0f", taken, mean)
		}
	})

	t.Run("score change on one node moves only to or from it", func(t *testing.T) {
		cands := nodes(names...)
		cands[1].Score = 1
		for _, ip := range ips {
			after, _ := Owner(ip, cands)
			if after != names[1] {
				t.Fatalf("%s: preferred node %s did not win (got %s)", ip, names[1], after)
			}
		}
	})
}

func BenchmarkOwner3(b *testing.B) {
	cands := nodes(nodeNames(3)...)
	ip := netip.MustParseAddr("203.0.113.9")
	for b.Loop() {
		Owner(ip, cands)
	}
}

package ipam

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

func bigPow2(n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), n) }

func TestCount(t *testing.T) {
	two128 := pow2(128)
	tests := []struct {
		name      string
		c         Count
		str       string
		i64       int64
		f64       float64
		fitsUint  bool
		wantUint  uint64
		wantBigOK *big.Int
	}{
		{"zero", Count{}, "0", 0, 0, true, 0, big.NewInt(0)},
		{"254", CountOf(254), "254", 254, 254, true, 254, big.NewInt(254)},
		{"2^63", pow2(63), "9223372036854775808", math.MaxInt64, 0x1p63, true, 1 << 63, bigPow2(63)},
		{"2^64", pow2(64), "18446744073709551616", math.MaxInt64, 0x1p64, false, 0, bigPow2(64)},
		{"2^128", two128, "340282366920938463463374607431768211456", math.MaxInt64, 0x1p128, false, 0, bigPow2(128)},
		{"2^128+2^32", two128.Add(pow2(32)), "340282366920938463463374607436063178752", math.MaxInt64, 0x1p128, false, 0,
			new(big.Int).Add(bigPow2(128), bigPow2(32))},
		{"carry through both words", Count{v: u128{^uint64(0), ^uint64(0)}}.Add(CountOf(1)), "340282366920938463463374607431768211456",
			math.MaxInt64, 0x1p128, false, 0, bigPow2(128)},
		{"2^128-1 by subtraction", two128.SubSat(1), "340282366920938463463374607431768211455", math.MaxInt64, 0x1p128, false, 0,
			new(big.Int).Sub(bigPow2(128), big.NewInt(1))},
		{"saturating at zero", CountOf(3).SubSat(5), "0", 0, 0, true, 0, big.NewInt(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.String(); got != tc.str {
				t.Errorf("String() = %s, want %s", got, tc.str)
			}
			if got := tc.c.Int64(); got != tc.i64 {
				t.Errorf("Int64() = %d, want %d", got, tc.i64)
			}
			if got := tc.c.Float64(); got != tc.f64 {
				t.Errorf("Float64() = %g, want %g", got, tc.f64)
			}
			if got, ok := tc.c.Uint64(); ok != tc.fitsUint || got != tc.wantUint {
				t.Errorf("Uint64() = %d %v, want %d %v", got, ok, tc.wantUint, tc.fitsUint)
			}
			if got := tc.c.Big(); got.Cmp(tc.wantBigOK) != 0 {
				t.Errorf("Big() = %s, want %s", got, tc.wantBigOK)
			}
			if tc.c.IsZero() != (tc.wantBigOK.Sign() == 0) {
				t.Errorf("IsZero() = %v", tc.c.IsZero())
			}
		})
	}
	if pow2(64).Cmp(pow2(63)) != 1 || pow2(63).Cmp(pow2(64)) != -1 || two128.Cmp(pow2(128)) != 0 || two128.Cmp(pow2(127)) != 1 {
		t.Error("Cmp is wrong")
	}
}

func TestErrorMatching(t *testing.T) {
	a := newWith(t, pool("p", []string{"192.0.2.0/32"}))
	if _, _, err := a.Allocate(svc("ns/a")); err != nil {
		t.Fatal(err)
	}
	_, _, err := a.Allocate(svc("ns/b"))
	wrapped := fmt.Errorf("converging ns/b: %w", err)
	if !errors.Is(wrapped, &Error{Reason: PoolExhausted}) || errors.Is(wrapped, &Error{Reason: IPInUse}) {
		t.Errorf("errors.Is by reason does not work on %v", wrapped)
	}
	if ReasonOf(wrapped) != PoolExhausted || ReasonOf(errors.New("other")) != "" {
		t.Errorf("ReasonOf(%v) = %q", wrapped, ReasonOf(wrapped))
	}
}

func TestU128AddrRoundTrip(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "192.0.2.255", "255.255.255.255", "::", "2001:db8::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:0:1:8000::"} {
		a := netip.MustParseAddr(s)
		if got := addrOf(keyOf(a), a.Is4()); got != a {
			t.Errorf("round trip of %s gave %s", a, got)
		}
	}
	if k := keyOf(netip.MustParseAddr("2001:db8::1")); k.hi != 0x20010db800000000 || k.lo != 1 {
		t.Errorf("keyOf(2001:db8::1) = %x", k)
	}
	if ones(128) != (u128{^uint64(0), ^uint64(0)}) || ones(64) != (u128{0, ^uint64(0)}) || ones(65) != (u128{1, ^uint64(0)}) || ones(0) != (u128{}) {
		t.Error("ones is wrong")
	}
}

// TestTreapAgainstSlice runs random operations on a treap and a sorted
// slice and compares every answer.
func TestTreapAgainstSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tr treap[int]
	var keys []u128
	key := func() u128 { return u128{uint64(rng.IntN(3)), uint64(rng.IntN(200))} }
	for i := 0; i < 20000; i++ {
		k := key()
		pos, found := slices.BinarySearchFunc(keys, k, u128.cmp)
		switch rng.IntN(3) {
		case 0:
			if !found {
				tr.insert(k, int(k.lo))
				keys = slices.Insert(keys, pos, k)
			}
		case 1:
			tr.delete(k)
			if found {
				keys = slices.Delete(keys, pos, pos+1)
			}
		}
		if tr.len() != len(keys) {
			t.Fatalf("size %d, want %d", tr.len(), len(keys))
		}
		pos, found = slices.BinarySearchFunc(keys, k, u128.cmp)
		var wantFloor, wantCeil, wantAfter *u128
		if found {
			wantFloor, wantCeil = &keys[pos], &keys[pos]
			if pos+1 < len(keys) {
				wantAfter = &keys[pos+1]
			}
		} else {
			if pos > 0 {
				wantFloor = &keys[pos-1]
			}
			if pos < len(keys) {
				wantCeil, wantAfter = &keys[pos], &keys[pos]
			}
		}
		same := func(what string, n *tnode[int], want *u128) {
			if (n == nil) != (want == nil) || (n != nil && n.key != *want) {
				t.Fatalf("op %d: %s(%v) = %v, want %v", i, what, k, n, want)
			}
		}
		same("floor", tr.floor(k), wantFloor)
		same("ceil", tr.ceil(k), wantCeil)
		same("after", tr.after(k), wantAfter)
		if found != (tr.get(k) != nil) {
			t.Fatalf("op %d: get(%v) presence %v, want %v", i, k, tr.get(k) != nil, found)
		}
		var wantMin *u128
		if len(keys) > 0 {
			wantMin = &keys[0]
		}
		same("min", tr.min(), wantMin)
	}
	var got []u128
	walk(t, &tr, func(k u128, _ int) { got = append(got, k) })
	if !slices.Equal(got, keys) {
		t.Errorf("in-order keys differ from the model")
	}
}

// TestSpaceNumbering checks the slot numbering of avoidBuggyIPs spaces
// exhaustively against a plain enumeration of the prefix.
func TestSpaceNumbering(t *testing.T) {
	var prefixes []netip.Prefix
	for bits := 22; bits <= 32; bits++ {
		step := 1 << (32 - bits)
		for off := 0; off < 1024; off += step {
			base := keyOf(netip.MustParseAddr("198.51.100.0")).lo + uint64(off) - 512
			if bits == 22 && off != 0 {
				break
			}
			p := netip.PrefixFrom(addrOf(u128{0, base}, true), bits).Masked()
			prefixes = append(prefixes, p)
			if bits < 25 {
				break
			}
		}
	}
	prefixes = append(prefixes, netip.MustParsePrefix("2001:db8::/120"))
	if len(prefixes) != 3+2040+1 {
		t.Fatalf("generated %d prefixes, want every alignment of /25-/32 in four /24s", len(prefixes))
	}
	for _, p := range prefixes {
		for _, avoid := range []bool{false, true} {
			s := newSpace(nil, p, avoid)
			var usable []netip.Addr
			for a := p.Addr(); p.Contains(a); a = a.Next() {
				if !(avoid && model.IsBuggy(a)) {
					usable = append(usable, a)
				}
				if _, ok := s.slotOf(keyOf(a)); ok != (!avoid || !model.IsBuggy(a)) {
					t.Fatalf("%s avoid=%v: slotOf(%s) usable=%v", p, avoid, a, ok)
				}
			}
			if got := s.cap; got != CountOf(uint64(len(usable))) {
				t.Fatalf("%s avoid=%v: capacity %v, want %d", p, avoid, got, len(usable))
			}
			if s.empty != (len(usable) == 0) {
				t.Fatalf("%s avoid=%v: empty=%v with %d usable", p, avoid, s.empty, len(usable))
			}
			for i, a := range usable {
				slot, _ := s.slotOf(keyOf(a))
				if slot != (u128{0, uint64(i)}) || s.addr(slot) != a {
					t.Fatalf("%s avoid=%v: %s has slot %v (addr back %s), want %d", p, avoid, a, slot, s.addr(slot), i)
				}
			}
			if len(usable) > 0 && s.max != (u128{0, uint64(len(usable) - 1)}) {
				t.Fatalf("%s avoid=%v: max slot %v", p, avoid, s.max)
			}
		}
	}
}

// TestSpaceFreeIntervals takes and gives slots in random order against a
// boolean array.
func TestSpaceFreeIntervals(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := newSpace(nil, netip.MustParsePrefix("2001:db8::/120"), false)
	s.resetFree(nil)
	used := make([]bool, 256)
	for i := 0; i < 20000; i++ {
		x := rng.IntN(256)
		if used[x] {
			s.give(u128{0, uint64(x)})
		} else {
			s.take(u128{0, uint64(x)})
		}
		used[x] = !used[x]
		want := slices.Index(used, false)
		got, ok := s.lowestFree()
		if (want < 0) == ok || (ok && got != (u128{0, uint64(want)})) {
			t.Fatalf("op %d: lowest free %v %v, want %d", i, got, ok, want)
		}
	}
	var free uint64
	walk(t, &s.free, func(a, b u128) {
		for x := a.lo; x <= b.lo; x++ {
			if used[x] {
				t.Errorf("used slot %d listed free", x)
			}
			free++
		}
	})
	if int(free)+int(s.inUse) != 256 {
		t.Errorf("free %d + in use %d != 256", free, s.inUse)
	}
}

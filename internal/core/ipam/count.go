package ipam

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// Count is an exact, non-negative number of addresses. It holds any value up
// to 2^192-1, which covers every pool: one family has at most 2^128
// addresses (a /0 IPv6 CIDR), which does not fit in 128 bits. The zero value
// is 0. Int64 and Float64 give the saturating and approximate forms that the
// pool status and the metrics need.
type Count struct {
	top uint64 // multiples of 2^128
	v   u128
}

// CountOf returns n as a Count.
func CountOf(n uint64) Count { return Count{v: u128{0, n}} }

// pow2 returns 2^n for n in [0, 128].
func pow2(n int) Count {
	switch {
	case n < 64:
		return Count{v: u128{0, 1 << uint(n)}}
	case n < 128:
		return Count{v: u128{1 << uint(n-64), 0}}
	}
	return Count{top: 1}
}

// Add returns c + d.
func (c Count) Add(d Count) Count {
	lo, carry := bits.Add64(c.v.lo, d.v.lo, 0)
	hi, carry := bits.Add64(c.v.hi, d.v.hi, carry)
	top, _ := bits.Add64(c.top, d.top, carry)
	return Count{top: top, v: u128{hi, lo}}
}

// SubSat returns c - n, or 0 when n > c.
func (c Count) SubSat(n uint64) Count {
	if c.top == 0 && c.v.hi == 0 && c.v.lo < n {
		return Count{}
	}
	lo, borrow := bits.Sub64(c.v.lo, n, 0)
	hi, borrow := bits.Sub64(c.v.hi, 0, borrow)
	top, _ := bits.Sub64(c.top, 0, borrow)
	return Count{top: top, v: u128{hi, lo}}
}

// Cmp returns -1, 0 or +1 as c is less than, equal to or greater than d.
func (c Count) Cmp(d Count) int {
	switch {
	case c.top < d.top:
		return -1
	case c.top > d.top:
		return 1
	}
	return c.v.cmp(d.v)
}

// IsZero reports whether c is 0.
func (c Count) IsZero() bool { return c == Count{} }

// Uint64 returns c and true when it fits in 64 bits.
func (c Count) Uint64() (uint64, bool) {
	if c.top != 0 || c.v.hi != 0 {
		return 0, false
	}
	return c.v.lo, true
}

// Int64 returns c, or math.MaxInt64 when it does not fit.
func (c Count) Int64() int64 {
	if n, ok := c.Uint64(); ok && n <= math.MaxInt64 {
		return int64(n)
	}
	return math.MaxInt64
}

// Float64 returns c rounded to a float64 (for metrics).
func (c Count) Float64() float64 {
	return float64(c.top)*0x1p128 + float64(c.v.hi)*0x1p64 + float64(c.v.lo)
}

// Big returns c as a new big.Int.
func (c Count) Big() *big.Int {
	b := new(big.Int).SetUint64(c.top)
	b.Lsh(b, 64).Add(b, new(big.Int).SetUint64(c.v.hi))
	b.Lsh(b, 64).Add(b, new(big.Int).SetUint64(c.v.lo))
	return b
}

// String returns c in decimal.
func (c Count) String() string {
	if n, ok := c.Uint64(); ok {
		return strconv.FormatUint(n, 10)
	}
	return c.Big().String()
}

package config

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
)

// ParseAddress parses one entry of IPAddressPool.spec.addresses: a CIDR
// ("192.0.2.0/24", "2001:db8::/64") or an inclusive range "start-end"
// (whitespace around the entry and around each end is ignored), and returns
// it as a list of prefixes in ascending address order.
//
// Normalisation:
//   - host bits set in a CIDR are cleared, as net.ParseCIDR does
//     ("192.0.2.7/24" means 192.0.2.0/24); the masked prefix is kept;
//   - IPv4-mapped IPv6 forms ("::ffff:192.0.2.0/120", "::ffff:192.0.2.1")
//     become plain IPv4 ("192.0.2.0/24", "192.0.2.1");
//   - a range is summarised into the minimal list of CIDRs covering exactly
//     start..end (see Summarize).
//
// A bare address is not an entry: write "192.0.2.1/32" or
// "192.0.2.1-192.0.2.1". Zones ("fe80::1%eth0") are rejected.
func ParseAddress(entry string) ([]netip.Prefix, error) {
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return nil, fmt.Errorf("empty address entry")
	}
	if strings.Contains(entry, "/") {
		p, err := parseCIDR(entry)
		if err != nil {
			return nil, err
		}
		return []netip.Prefix{p}, nil
	}
	first, last, ok := strings.Cut(entry, "-")
	if !ok {
		return nil, fmt.Errorf("%q is neither a CIDR nor a start-end range", entry)
	}
	start, err := parseRangeEnd(first)
	if err != nil {
		return nil, fmt.Errorf("invalid start address in range %q: %v", entry, err)
	}
	end, err := parseRangeEnd(last)
	if err != nil {
		return nil, fmt.Errorf("invalid end address in range %q: %v", entry, err)
	}
	if start.Is4() != end.Is4() {
		return nil, fmt.Errorf("range %q mixes IPv4 and IPv6 addresses", entry)
	}
	if end.Less(start) {
		return nil, fmt.Errorf("range %q starts after it ends", entry)
	}
	return Summarize(start, end)
}

func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	p = p.Masked()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

func parseRangeEnd(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q has a zone, which a pool address cannot have", s)
	}
	return a.Unmap(), nil
}

// Summarize returns the minimal list of CIDRs, in ascending order, that
// covers exactly the addresses start..end (inclusive). start and end must
// be of the same family (IPv4-mapped addresses count as IPv4) and start must
// not be after end. At most 2×(address bits) prefixes are returned, whatever
// the size of the range, in O(address bits) steps.
func Summarize(start, end netip.Addr) ([]netip.Prefix, error) {
	start, end = start.Unmap(), end.Unmap()
	if !start.IsValid() || !end.IsValid() {
		return nil, fmt.Errorf("invalid address")
	}
	if start.Is4() != end.Is4() {
		return nil, fmt.Errorf("%s and %s are of different families", start, end)
	}
	if end.Less(start) {
		return nil, fmt.Errorf("%s is after %s", start, end)
	}
	width := 128
	if start.Is4() {
		width = 32
	}
	lo, hi := toU128(start), toU128(end)
	var out []netip.Prefix
	// A minimal summary has at most 2×width prefixes; the bound only
	// guards against a bug turning this into an endless loop.
	for range 2*width + 1 {
		// The largest aligned block starting at lo: limited by the
		// alignment of lo and by the number of addresses left.
		k := min(lo.trailingZeros(width), hi.sub(lo).add1().log2())
		out = append(out, netip.PrefixFrom(fromU128(lo, width), width-k))
		last := lo.addBlock(k)
		if !last.less(hi) {
			return out, nil
		}
		lo = last.add1()
	}
	return nil, fmt.Errorf("internal error: summary of %s-%s did not terminate", start, end)
}

// u128 is an unsigned 128-bit integer; IPv4 addresses use the low 32 bits.
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	}
	b := a.As16()
	var v u128
	for i := 0; i < 8; i++ {
		v.hi = v.hi<<8 | uint64(b[i])
		v.lo = v.lo<<8 | uint64(b[8+i])
	}
	return v
}

func fromU128(v u128, width int) netip.Addr {
	if width == 32 {
		return netip.AddrFrom4([4]byte{byte(v.lo >> 24), byte(v.lo >> 16), byte(v.lo >> 8), byte(v.lo)})
	}
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[7-i] = byte(v.hi >> (8 * i))
		b[15-i] = byte(v.lo >> (8 * i))
	}
	return netip.AddrFrom16(b)
}

func (v u128) less(w u128) bool { return v.hi < w.hi || (v.hi == w.hi && v.lo < w.lo) }

func (v u128) sub(w u128) u128 {
	lo, borrow := bits.Sub64(v.lo, w.lo, 0)
	hi, _ := bits.Sub64(v.hi, w.hi, borrow)
	return u128{hi, lo}
}

// add1 returns v+1, wrapping to 0 after the maximum.
func (v u128) add1() u128 {
	lo, carry := bits.Add64(v.lo, 1, 0)
	return u128{v.hi + carry, lo}
}

// addBlock returns the last address of the block of 2^k addresses starting
// at v: v + 2^k - 1.
func (v u128) addBlock(k int) u128 {
	if k == 0 {
		return v
	}
	var m u128 // 2^k - 1
	switch {
	case k >= 128:
		m = u128{^uint64(0), ^uint64(0)}
	case k >= 64:
		m = u128{1<<(k-64) - 1, ^uint64(0)}
	default:
		m = u128{0, 1<<k - 1}
	}
	lo, carry := bits.Add64(v.lo, m.lo, 0)
	hi, _ := bits.Add64(v.hi, m.hi, carry)
	return u128{hi, lo}
}

func (v u128) bitLen() int {
	if v.hi != 0 {
		return 64 + bits.Len64(v.hi)
	}
	return bits.Len64(v.lo)
}

// trailingZeros counts the trailing zero bits of v, at most width.
func (v u128) trailingZeros(width int) int {
	n := 128
	if v.lo != 0 {
		n = bits.TrailingZeros64(v.lo)
	} else if v.hi != 0 {
		n = 64 + bits.TrailingZeros64(v.hi)
	}
	return min(n, width)
}

// log2 returns floor(log2(v)) for a count of addresses v, where 0 stands
// for 2^128 (the whole IPv6 space, which wraps around).
func (v u128) log2() int {
	if v.hi == 0 && v.lo == 0 {
		return 128
	}
	return v.bitLen() - 1
}

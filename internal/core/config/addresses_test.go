package config

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var netipCmp = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		want    []netip.Prefix
		wantErr string
	}{
		{in: "192.0.2.0/24", want: prefixes("192.0.2.0/24")},
		{in: "  192.0.2.0/24\t", want: prefixes("192.0.2.0/24")},
		{in: "192.0.2.7/24", want: prefixes("192.0.2.0/24")}, // host bits masked, like net.ParseCIDR
		{in: "::ffff:192.0.2.0/120", want: prefixes("192.0.2.0/24")},
		{in: "2001:db8::/64", want: prefixes("2001:db8::/64")},
		{in: "2001:db8::1/64", want: prefixes("2001:db8::/64")},
		{in: "192.0.2.1/32", want: prefixes("192.0.2.1/32")},
		{in: "192.0.2.1-192.0.2.1", want: prefixes("192.0.2.1/32")},
		{in: "192.0.2.0 - 192.0.2.255", want: prefixes("192.0.2.0/24")},
		{in: "192.0.2.10-192.0.2.20", want: prefixes("192.0.2.10/31", "192.0.2.12/30", "192.0.2.16/30", "192.0.2.20/32")},
		{in: "::ffff:192.0.2.1-192.0.2.2", want: prefixes("192.0.2.1/32", "192.0.2.2/32")},
		{in: "2001:db8::-2001:db8::ffff", want: prefixes("2001:db8::/112")},
		{in: "", wantErr: "empty address entry"},
		{in: "192.0.2.1", wantErr: `"192.0.2.1" is neither a CIDR nor a start-end range`},
		{in: "192.0.2.0/33", wantErr: `invalid CIDR "192.0.2.0/33"`},
		{in: "fe80::/64%eth0", wantErr: `invalid CIDR "fe80::/64%eth0"`},
		{in: "192.0.2.9-192.0.2.1", wantErr: `range "192.0.2.9-192.0.2.1" starts after it ends`},
		{in: "192.0.2.1-2001:db8::1", wantErr: `range "192.0.2.1-2001:db8::1" mixes IPv4 and IPv6 addresses`},
		{in: "foo-192.0.2.1", wantErr: `invalid start address in range "foo-192.0.2.1": "foo" is not an IP address`},
		{in: "192.0.2.1-192.0.2.300", wantErr: `invalid end address in range "192.0.2.1-192.0.2.300": "192.0.2.300" is not an IP address`},
		{in: "fe80::1%eth0-fe80::2", wantErr: `invalid start address in range "fe80::1%eth0-fe80::2": "fe80::1%eth0" has a zone, which a pool address cannot have`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAddress(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ParseAddress(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddress(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got, netipCmp); diff != "" {
				t.Errorf("ParseAddress(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		start, end string
		want       []netip.Prefix // nil: only check the properties
		wantLen    int
	}{
		{start: "0.0.0.0", end: "255.255.255.255", want: prefixes("0.0.0.0/0")},
		{start: "::", end: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: prefixes("::/0")},
		{start: "255.255.255.255", end: "255.255.255.255", want: prefixes("255.255.255.255/32")},
		{start: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", end: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: prefixes("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")},
		{start: "0.0.0.0", end: "0.0.0.0", want: prefixes("0.0.0.0/32")},
		{start: "192.0.2.0", end: "192.0.2.129", want: prefixes("192.0.2.0/25", "192.0.2.128/31")},
		{start: "192.0.2.255", end: "192.0.3.0", want: prefixes("192.0.2.255/32", "192.0.3.0/32")},
		{start: "0.0.0.1", end: "255.255.255.254", wantLen: 62},
		{start: "128.0.0.0", end: "255.255.255.255", want: prefixes("128.0.0.0/1")},
		{start: "2001:db8::", end: "2001:db8:0:ffff:ffff:ffff:ffff:ffff", want: prefixes("2001:db8::/48")},
		// From ::1 up to the end of a /48: one block per bit, /128 to /49.
		{start: "2001:db8::1", end: "2001:db8:0:ffff:ffff:ffff:ffff:ffff", wantLen: 80},
		// Crossing the 64-bit boundary of the 128-bit arithmetic.
		{start: "2001:db8:0:0:ffff:ffff:ffff:ffff", end: "2001:db8:0:1::", want: prefixes("2001:db8:0:0:ffff:ffff:ffff:ffff/128", "2001:db8:0:1::/128")},
		{start: "2001:db8::", end: "2001:db8:0:1:ffff:ffff:ffff:ffff", want: prefixes("2001:db8::/63")},
		// The largest summaries: 2×(bits−1) blocks.
		{start: "::1", end: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", wantLen: 254},
		{start: "::ffff:192.0.2.0", end: "::ffff:192.0.2.255", want: prefixes("192.0.2.0/24")},
	}
	for _, tc := range tests {
		t.Run(tc.start+"-"+tc.end, func(t *testing.T) {
			start, end := netip.MustParseAddr(tc.start), netip.MustParseAddr(tc.end)
			got, err := Summarize(start, end)
			if err != nil {
				t.Fatalf("Summarize: %v", err)
			}
			if err := checkSummary(start.Unmap(), end.Unmap(), got); err != nil {
				t.Errorf("Summarize(%s, %s) = %v: %v", tc.start, tc.end, got, err)
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, got, netipCmp); diff != "" {
					t.Errorf("Summarize (-want +got):\n%s", diff)
				}
			}
			if tc.wantLen != 0 && len(got) != tc.wantLen {
				t.Errorf("Summarize returned %d prefixes, want %d", len(got), tc.wantLen)
			}
		})
	}
}

func TestSummarizeErrors(t *testing.T) {
	tests := []struct {
		start, end netip.Addr
		want       string
	}{
		{netip.Addr{}, netip.MustParseAddr("192.0.2.1"), "invalid address"},
		{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), "192.0.2.1 and 2001:db8::1 are of different families"},
		{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1"), "192.0.2.2 is after 192.0.2.1"},
	}
	for _, tc := range tests {
		if _, err := Summarize(tc.start, tc.end); err == nil || err.Error() != tc.want {
			t.Errorf("Summarize(%v, %v) error = %v, want %q", tc.start, tc.end, err, tc.want)
		}
	}
}

// checkSummary verifies, with big-integer arithmetic independent of the
// code under test, that ps are canonical prefixes that cover exactly
// start..end in ascending order without gap or overlap, and that the cover
// is minimal (no prefix could be replaced by its parent inside the range).
func checkSummary(start, end netip.Addr, ps []netip.Prefix) error {
	if len(ps) == 0 {
		return fmt.Errorf("empty summary")
	}
	width := start.BitLen()
	toInt := func(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }
	one := big.NewInt(1)
	lo, hi := toInt(start), toInt(end)
	next := new(big.Int).Set(lo)
	for i, p := range ps {
		if p.Addr().BitLen() != width {
			return fmt.Errorf("prefix %d (%s) is of the wrong family", i, p)
		}
		if p != p.Masked() {
			return fmt.Errorf("prefix %d (%s) has host bits set", i, p)
		}
		first := toInt(p.Addr())
		if first.Cmp(next) != 0 {
			return fmt.Errorf("prefix %d (%s) does not start right after the previous one", i, p)
		}
		size := new(big.Int).Lsh(one, uint(width-p.Bits()))
		next = new(big.Int).Add(first, size)
		if p.Bits() > 0 {
			// The parent block must not fit inside the range, else the
			// summary is not minimal.
			psize := new(big.Int).Lsh(size, 1)
			pfirst := new(big.Int).Sub(first, new(big.Int).Mod(first, psize))
			plast := new(big.Int).Sub(new(big.Int).Add(pfirst, psize), one)
			if pfirst.Cmp(lo) >= 0 && plast.Cmp(hi) <= 0 {
				return fmt.Errorf("prefix %d (%s) could be merged into its parent: summary not minimal", i, p)
			}
		}
	}
	if last := new(big.Int).Sub(next, one); last.Cmp(hi) != 0 {
		return fmt.Errorf("summary ends at %s, want %s", last, hi)
	}
	return nil
}

// addressSeeds is the seed corpus of FuzzParseAddresses.
var addressSeeds = []string{
	"192.0.2.0/24",
	"192.0.2.7/24",
	"2001:db8::/64",
	"::ffff:192.0.2.0/120",
	"192.0.2.10-192.0.2.20",
	" 192.0.2.0 - 192.0.2.255 ",
	"0.0.0.0-255.255.255.255",
	"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
	"2001:db8::1-2001:db8:0:ffff:ffff:ffff:ffff:ffff",
	"::ffff:192.0.2.1-192.0.2.2",
	"192.0.2.9-192.0.2.1",
	"192.0.2.1-2001:db8::1",
	"fe80::1%eth0-fe80::2",
	"192.0.2.1",
	"-",
	"/",
	"",
}

// FuzzParseAddresses checks that ParseAddress never panics, that a CIDR
// entry yields its masked prefix, and that a range entry yields a minimal
// exact cover of the range.
func FuzzParseAddresses(f *testing.F) {
	if len(addressSeeds) == 0 {
		f.Fatal("empty seed corpus")
	}
	for _, s := range addressSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		got, err := ParseAddress(entry)
		if err != nil {
			return
		}
		trimmed := strings.TrimSpace(entry)
		if strings.Contains(trimmed, "/") {
			want, perr := netip.ParsePrefix(trimmed)
			if perr != nil {
				t.Fatalf("ParseAddress(%q) accepted what netip.ParsePrefix rejects: %v", entry, perr)
			}
			// Same block of addresses, compared in the 16-byte form.
			to16 := func(p netip.Prefix) (netip.Addr, int) {
				if p.Addr().Is4() {
					return netip.AddrFrom16(p.Addr().As16()), p.Bits() + 96
				}
				return p.Addr(), p.Bits()
			}
			if len(got) != 1 || got[0] != got[0].Masked() || got[0].Addr().Is4In6() {
				t.Fatalf("ParseAddress(%q) = %v, want one masked, unmapped prefix", entry, got)
			}
			wa, wb := to16(want.Masked())
			ga, gb := to16(got[0])
			if wa != ga || wb != gb {
				t.Fatalf("ParseAddress(%q) = %v, want the block of %v", entry, got, want)
			}
			return
		}
		first, last, _ := strings.Cut(trimmed, "-")
		start, err1 := netip.ParseAddr(strings.TrimSpace(first))
		end, err2 := netip.ParseAddr(strings.TrimSpace(last))
		if err1 != nil || err2 != nil {
			t.Fatalf("ParseAddress(%q) accepted a range with unparsable ends", entry)
		}
		if err := checkSummary(start.Unmap(), end.Unmap(), got); err != nil {
			t.Fatalf("ParseAddress(%q) = %v: %v", entry, got, err)
		}
	})
}

// FuzzSummarize drives Summarize with arbitrary 128-bit and 32-bit ranges,
// which random strings rarely reach.
func FuzzSummarize(f *testing.F) {
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8}, []byte{0x20, 0x01, 0x0d, 0xb8, 0xff}, false)
	f.Add([]byte{192, 0, 2, 10}, []byte{192, 0, 2, 20}, true)
	f.Add([]byte{}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, false)
	f.Fuzz(func(t *testing.T, a, b []byte, v4 bool) {
		toAddr := func(raw []byte) netip.Addr {
			if v4 {
				var x [4]byte
				copy(x[:], raw)
				return netip.AddrFrom4(x)
			}
			var x [16]byte
			copy(x[:], raw)
			a := netip.AddrFrom16(x)
			if a.Is4In6() {
				// Mapped addresses are IPv4 to Summarize; keep the test in
				// one family by leaving the mapped block.
				x[10] = 0
				a = netip.AddrFrom16(x)
			}
			return a
		}
		start, end := toAddr(a), toAddr(b)
		if end.Less(start) {
			start, end = end, start
		}
		got, err := Summarize(start, end)
		if err != nil {
			t.Fatalf("Summarize(%s, %s): %v", start, end, err)
		}
		if err := checkSummary(start, end, got); err != nil {
			t.Fatalf("Summarize(%s, %s) = %v: %v", start, end, got, err)
		}
	})
}

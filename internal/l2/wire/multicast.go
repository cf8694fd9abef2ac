package wire

import "net/netip"

// AllNodes is the link-local all-nodes multicast address ff02::1.
var AllNodes = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x01})

// SolicitedNode returns the solicited-node multicast address of a unicast
// IPv6 address: ff02::1:ff00:0/104 followed by its low 24 bits (RFC 4291
// section 2.7.1). It returns the zero Addr for anything but IPv6.
func SolicitedNode(ip netip.Addr) netip.Addr {
	if !ip.Is6() || ip.Is4In6() {
		return netip.Addr{}
	}
	a := ip.As16()
	return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: a[13], 14: a[14], 15: a[15]})
}

// IsSolicitedNode reports whether ip lies in ff02::1:ff00:0/104.
func IsSolicitedNode(ip netip.Addr) bool {
	if !ip.Is6() || ip.Is4In6() {
		return false
	}
	a := ip.As16()
	return a == [16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: a[13], 14: a[14], 15: a[15]}
}

// MulticastMAC maps an IPv6 multicast address to its Ethernet group
// address 33:33 followed by the low 32 bits (RFC 2464 section 7). The
// result is meaningless for non-multicast input.
func MulticastMAC(ip netip.Addr) MAC {
	a := ip.As16()
	return MAC{0x33, 0x33, a[12], a[13], a[14], a[15]}
}

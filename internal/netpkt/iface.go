package netpkt

import (
	"net"
	"net/netip"
)

// InterfaceWith returns the interface of this host that has address a,
// with all of that interface's addresses (IPv4 ones unmapped); false when
// no interface has it.
func InterfaceWith(a netip.Addr) (net.Interface, []netip.Addr, bool) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return net.Interface{}, nil, false
	}
	for _, ifi := range ifaces {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		var list []netip.Addr
		found := false
		for _, ad := range addrs {
			ipn, ok := ad.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			list = append(list, ip)
			found = found || ip == a
		}
		if found {
			return ifi, list, true
		}
	}
	return net.Interface{}, nil, false
}

package netpkt

import (
	"net/netip"
	"slices"
	"testing"
)

func TestInterfaceWith(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	ifi, addrs, ok := InterfaceWith(lo)
	if !ok || ifi.Name == "" || !slices.Contains(addrs, lo) {
		t.Fatalf("InterfaceWith(%v) = %q %v %v; want the loopback interface with its address", lo, ifi.Name, addrs, ok)
	}
	for _, a := range addrs {
		if a.Is4In6() {
			t.Errorf("address %v left IPv4-mapped", a)
		}
	}
	if _, _, ok := InterfaceWith(netip.MustParseAddr("192.0.2.254")); ok {
		t.Error("found an interface for an address this host does not have")
	}
	if _, _, ok := InterfaceWith(netip.Addr{}); ok {
		t.Error("found an interface for the zero address")
	}
}

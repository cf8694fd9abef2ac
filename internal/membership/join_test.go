package membership

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/memberlist"
)

func TestParsePeers(t *testing.T) {
	got := parsePeers([]string{
		"198.51.100.2", "198.51.100.1:7000", " 198.51.100.2 ", "::ffff:198.51.100.3",
		"2001:db8::1", "[2001:db8::2]:8000", "node-3", "198.51.100.4:0", "fe80::1%eth0", "",
	}, 7946, slog.New(slog.DiscardHandler))
	want := []netip.AddrPort{
		netip.MustParseAddrPort("198.51.100.1:7000"),
		netip.MustParseAddrPort("198.51.100.2:7946"),
		netip.MustParseAddrPort("198.51.100.3:7946"),
		netip.MustParseAddrPort("[2001:db8::1]:7946"),
		netip.MustParseAddrPort("[2001:db8::2]:8000"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("parsePeers (-want +got):\n%s", diff)
	}
}

func TestJoinTargets(t *testing.T) {
	peers := []netip.AddrPort{
		netip.MustParseAddrPort("198.51.100.1:7946"),
		netip.MustParseAddrPort("198.51.100.2:7946"),
		netip.MustParseAddrPort("198.51.100.3:7946"),
		netip.MustParseAddrPort("198.51.100.4:7946"),
	}
	self := netip.MustParseAddrPort("198.51.100.1:7946")
	members := map[string]memberlist.Node{
		// memberlist hands out 16-byte IPv4 addresses
		"n2": {Name: "n2", Addr: net.ParseIP("198.51.100.2"), Port: 7946},
		// same IP, other port: still to join
		"n3": {Name: "n3", Addr: net.ParseIP("198.51.100.3").To4(), Port: 7000},
	}
	got := joinTargets(peers, self, members)
	want := []netip.AddrPort{
		netip.MustParseAddrPort("198.51.100.3:7946"),
		netip.MustParseAddrPort("198.51.100.4:7946"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("joinTargets (-want +got):\n%s", diff)
	}
}

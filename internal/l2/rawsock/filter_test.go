package rawsock

import (
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// TestFilters runs the BPF programs in x/net/bpf's virtual machine, which
// has no packet-type metadata: the host guard is checked in the namespace
// test (a frame tagged for a VLAN without a device is not answered).
func TestFilters(t *testing.T) {
	me := wire.MAC{2, 0, 0, 0, 0, 0x0a}
	peer := wire.MAC{2, 0, 0, 0, 0, 0x0b}
	a := netip.MustParseAddr
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	arpReq := must(wire.ARPFrame(wire.Broadcast, peer, wire.ARP{Op: wire.ARPRequest, SenderMAC: peer, SenderIP: a("198.51.100.2"), TargetIP: a("198.51.100.1")}))
	arpRep := must(wire.ARPFrame(peer, me, wire.ARP{Op: wire.ARPReply, SenderMAC: me, SenderIP: a("198.51.100.1"), TargetMAC: peer, TargetIP: a("198.51.100.2")}))
	ns := must(wire.NDPFrame(wire.MulticastMAC(a("ff02::1:ff00:1")), peer, a("fe80::b"), a("ff02::1:ff00:1"), wire.NeighborSolicitation{Target: a("2001:db8::1"), SourceLL: &peer}))
	na := must(wire.NDPFrame(peer, me, a("fe80::a"), a("fe80::b"), wire.NeighborAdvertisement{Solicited: true, Target: a("2001:db8::1")}))
	udp := must(wire.IPv6{NextHeader: 17, HopLimit: 64, Src: a("2001:db8::2"), Dst: a("2001:db8::1"), Payload: make([]byte, 30)}.Append(
		wire.Ethernet{Dst: me, Src: peer, EtherType: wire.EtherTypeIPv6}.Append(nil)))
	// A solicitation behind a hop-by-hop header: not valid NDP for us.
	hbh := must(wire.IPv6{NextHeader: 0, HopLimit: 255, Src: a("fe80::b"), Dst: a("ff02::1:ff00:1"), Payload: append([]byte{58, 0, 5, 2, 0, 0, 1, 0}, ns[54:]...)}.Append(
		wire.Ethernet{Dst: me, Src: peer, EtherType: wire.EtherTypeIPv6}.Append(nil)))

	tests := []struct {
		name   string
		prog   []bpf.Instruction
		frame  []byte
		accept bool
	}{
		{"arp request", arpRequestFilter, arpReq, true},
		{"arp reply", arpRequestFilter, arpRep, false},
		{"ipv6 on the arp filter", arpRequestFilter, ns, false},
		{"short frame", arpRequestFilter, arpReq[:16], false},
		{"neighbor solicitation", neighborSolicitationFilter, ns, true},
		{"neighbor advertisement", neighborSolicitationFilter, na, false},
		{"udp", neighborSolicitationFilter, udp, false},
		{"solicitation behind hop-by-hop", neighborSolicitationFilter, hbh, false},
		{"arp on the ndp filter", neighborSolicitationFilter, arpReq, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vm, err := bpf.NewVM(tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			n, err := vm.Run(tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if got := n > 0; got != tt.accept {
				t.Errorf("accepted %d bytes, want accept=%v", n, tt.accept)
			}
			if tt.accept && n < len(tt.frame) {
				t.Errorf("keeps %d of %d bytes", n, len(tt.frame))
			}
		})
	}
	if len(assemble(arpRequestFilter)) == 0 || len(assemble(neighborSolicitationFilter)) == 0 {
		t.Fatal("empty assembled program")
	}
}

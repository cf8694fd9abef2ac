package responder

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

var (
	me    = wire.MAC{0x02, 0, 0, 0, 0, 0x0a}
	peer  = wire.MAC{0x02, 0, 0, 0, 0, 0x0b}
	other = wire.MAC{0x02, 0, 0, 0, 0, 0x0c}

	addr    = netip.MustParseAddr
	cmpAddr = cmpopts.EquateComparable(netip.Addr{})
)

// sent is what a test reads back from a frame the responder wrote.
type sent struct {
	EthDst, EthSrc wire.MAC
	ARP            *wire.ARP
	IPSrc, IPDst   netip.Addr
	HopLimit       uint8
	NA             *wire.NeighborAdvertisement
}

func parseSent(t *testing.T, frame []byte) sent {
	t.Helper()
	eth, err := wire.ParseEthernet(frame)
	if err != nil {
		t.Fatalf("responder wrote a bad frame %x: %v", frame, err)
	}
	s := sent{EthDst: eth.Dst, EthSrc: eth.Src}
	switch eth.EtherType {
	case wire.EtherTypeARP:
		a, err := wire.ParseARP(eth.Payload)
		if err != nil {
			t.Fatalf("bad arp %x: %v", frame, err)
		}
		s.ARP = &a
	case wire.EtherTypeIPv6:
		p, err := wire.ParseIPv6(eth.Payload)
		if err != nil {
			t.Fatalf("bad ipv6 %x: %v", frame, err)
		}
		na, err := wire.ParseNeighborAdvertisement(p)
		if err != nil {
			t.Fatalf("responder wrote an invalid NA %x: %v", frame, err)
		}
		s.IPSrc, s.IPDst, s.HopLimit, s.NA = p.Src, p.Dst, p.HopLimit, &na
	default:
		t.Fatalf("unexpected ethertype %#04x", eth.EtherType)
	}
	return s
}

// arpFrame builds an ARP frame.
func arpFrame(t testing.TB, ethDst, ethSrc wire.MAC, op wire.ARPOp, sha wire.MAC, spa string, tha wire.MAC, tpa string) []byte {
	t.Helper()
	f, err := wire.ARPFrame(ethDst, ethSrc, wire.ARP{Op: op, SenderMAC: sha, SenderIP: addr(spa), TargetMAC: tha, TargetIP: addr(tpa)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// whoHas is a broadcast ARP request from peer.
func whoHas(t testing.TB, ip string) []byte {
	return arpFrame(t, wire.Broadcast, peer, wire.ARPRequest, peer, "198.51.100.2", wire.MAC{}, ip)
}

// nsFrame builds a Neighbor Solicitation frame; sll may be nil.
func nsFrame(t testing.TB, ethDst, ethSrc wire.MAC, src, dst, target string, sll *wire.MAC) []byte {
	t.Helper()
	f, err := wire.NDPFrame(ethDst, ethSrc, addr(src), addr(dst), wire.NeighborSolicitation{Target: addr(target), SourceLL: sll})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// multicastNS is what a host resolving target sends: to the solicited-node
// group, from its link-local, with its link-layer address.
func multicastNS(t testing.TB, target string) []byte {
	g := wire.SolicitedNode(addr(target))
	return nsFrame(t, wire.MulticastMAC(g), peer, "fe80::b", g.String(), target, &peer)
}

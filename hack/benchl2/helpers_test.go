package main

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

func TestPoolIP(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
	}{
		{0, "198.19.0.1"},
		{254, "198.19.0.255"},
		{255, "198.19.1.0"},
		{999, "198.19.3.232"},
		{maxServices - 1, "198.19.253.232"},
	} {
		if got := poolIP(tc.i).String(); got != tc.want {
			t.Errorf("poolIP(%d) = %s; want %s", tc.i, got, tc.want)
		}
	}
	// The probe's address stays outside the largest pool.
	if last := poolIP(maxServices - 1); !last.Less(netip.MustParseAddr(probeIP)) {
		t.Errorf("the largest pool ends at %s, past the probe %s", last, probeIP)
	}
}

func TestARPEventKinds(t *testing.T) {
	ip := netip.MustParseAddr("203.0.113.10")
	node := wire.MAC{0x02, 0xfe, 198, 51, 100, 11}
	client := wire.MAC{0x02, 0xfe, 198, 51, 100, 100}
	for _, tc := range []struct {
		name             string
		arp              wire.ARP
		gratuitous, mine bool
	}{
		{"reply to the prober", wire.ARP{Op: wire.ARPReply, SenderMAC: node, SenderIP: ip, TargetMAC: proberMAC, TargetIP: proberIP}, false, true},
		{"reply to the client kernel", wire.ARP{Op: wire.ARPReply, SenderMAC: node, SenderIP: ip, TargetMAC: client, TargetIP: netip.MustParseAddr("198.51.100.100")}, false, false},
		{"announcement", wire.ARP{Op: wire.ARPRequest, SenderMAC: node, SenderIP: ip, TargetIP: ip}, true, false},
		{"gratuitous reply", wire.ARP{Op: wire.ARPReply, SenderMAC: node, SenderIP: ip, TargetMAC: node, TargetIP: ip}, true, false},
		{"the prober's own request", wire.ARP{Op: wire.ARPRequest, SenderMAC: proberMAC, SenderIP: proberIP, TargetIP: ip}, false, false},
	} {
		e := arpEvent{arp: tc.arp}
		got := []bool{e.gratuitous(), e.probeReply()}
		if diff := cmp.Diff([]bool{tc.gratuitous, tc.mine}, got); diff != "" {
			t.Errorf("%s: [gratuitous, probeReply] (-want +got):\n%s", tc.name, diff)
		}
	}
}

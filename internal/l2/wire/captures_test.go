package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCaptures decodes frames that real implementations put on a wire
// and checks every field against what tcpdump printed for them; frames
// that carry nothing this package drops are then re-encoded and must come
// out byte for byte identical (checksums included).
func TestCaptures(t *testing.T) {
	var (
		macA, macB = mac("02:00:00:00:00:0a"), mac("02:00:00:00:00:0b")
		llA, llB   = addr("fe80::ff:fe00:a"), addr("fe80::ff:fe00:b")
		ip4A, ip4B = addr("198.51.100.1"), addr("198.51.100.2")
		gua        = addr("2001:db8::1")
	)
	ip6 := func(flow uint32, src, dst string) *IPv6 {
		return &IPv6{FlowLabel: flow, NextHeader: ProtocolICMPv6, HopLimit: 255, Src: addr(src), Dst: addr(dst)}
	}
	tests := []struct {
		name      string
		want      decoded
		wantErr   error // from decode
		reencodes bool
	}{
		{
			name: "arp_request_arping",
			want: decoded{Dst: Broadcast, Src: macB, EtherType: EtherTypeARP,
				ARP: &ARP{Op: ARPRequest, SenderMAC: macB, SenderIP: ip4B, TargetMAC: Broadcast, TargetIP: ip4A}},
			reencodes: true,
		},
		{
			name: "arp_reply_kernel",
			want: decoded{Dst: macB, Src: macA, EtherType: EtherTypeARP,
				ARP: &ARP{Op: ARPReply, SenderMAC: macA, SenderIP: ip4A, TargetMAC: macB, TargetIP: ip4B}},
			reencodes: true,
		},
		{
			name: "arp_gratuitous_request_arping",
			want: decoded{Dst: Broadcast, Src: macA, EtherType: EtherTypeARP,
				ARP: &ARP{Op: ARPRequest, SenderMAC: macA, SenderIP: ip4A, TargetMAC: Broadcast, TargetIP: ip4A}},
			reencodes: true,
		},
		{
			name: "arp_gratuitous_reply_arping",
			want: decoded{Dst: Broadcast, Src: macA, EtherType: EtherTypeARP,
				ARP: &ARP{Op: ARPReply, SenderMAC: macA, SenderIP: ip4A, TargetMAC: macA, TargetIP: ip4A}},
			reencodes: true,
		},
		{
			name: "ns_multicast_ndisc6_gua",
			want: decoded{Dst: mac("33:33:ff:00:00:01"), Src: macB, EtherType: EtherTypeIPv6,
				IP: ip6(0x1df8e, "fe80::ff:fe00:b", "ff02::1:ff00:1"),
				NS: &NeighborSolicitation{Target: gua, SourceLL: &macB}},
			reencodes: true,
		},
		{
			name: "na_solicited_kernel_gua",
			want: decoded{Dst: macB, Src: macA, EtherType: EtherTypeIPv6,
				IP: ip6(0, "2001:db8::1", "fe80::ff:fe00:b"),
				NA: &NeighborAdvertisement{Solicited: true, Override: true, Target: gua, TargetLL: &macA}},
			reencodes: true,
		},
		{
			name: "ns_multicast_ndisc6_linklocal",
			want: decoded{Dst: mac("33:33:ff:00:00:0a"), Src: macB, EtherType: EtherTypeIPv6,
				IP: ip6(0x40fd2, "fe80::ff:fe00:b", "ff02::1:ff00:a"),
				NS: &NeighborSolicitation{Target: llA, SourceLL: &macB}},
			reencodes: true,
		},
		{
			name: "na_solicited_kernel_linklocal",
			want: decoded{Dst: macB, Src: macA, EtherType: EtherTypeIPv6,
				IP: ip6(0, "fe80::ff:fe00:a", "fe80::ff:fe00:b"),
				NA: &NeighborAdvertisement{Solicited: true, Override: true, Target: llA, TargetLL: &macA}},
			reencodes: true,
		},
		{
			name: "ns_unicast_kernel_nud",
			want: decoded{Dst: macB, Src: macA, EtherType: EtherTypeIPv6,
				IP: ip6(0, "fe80::ff:fe00:a", "fe80::ff:fe00:b"),
				NS: &NeighborSolicitation{Target: llB, SourceLL: &macA}},
			reencodes: true,
		},
		{
			name: "na_solicited_kernel_no_tlla",
			want: decoded{Dst: macA, Src: macB, EtherType: EtherTypeIPv6,
				IP: ip6(0, "fe80::ff:fe00:b", "fe80::ff:fe00:a"),
				NA: &NeighborAdvertisement{Solicited: true, Target: llB}},
			reencodes: true,
		},
		{
			// Duplicate Address Detection with the RFC 7527 nonce option,
			// which the parser skips: re-encoding drops it.
			name: "ns_dad_kernel_nonce",
			want: decoded{Dst: mac("33:33:ff:00:00:01"), Src: macA, EtherType: EtherTypeIPv6,
				IP: ip6(0, "::", "ff02::1:ff00:1"),
				NS: &NeighborSolicitation{Target: gua}},
		},
		{
			name: "na_unsolicited_kernel",
			want: decoded{Dst: mac("33:33:00:00:00:01"), Src: macA, EtherType: EtherTypeIPv6,
				IP: ip6(0, "2001:db8::1", "ff02::1"),
				NA: &NeighborAdvertisement{Override: true, Target: gua, TargetLL: &macA}},
			reencodes: true,
		},
		{
			// A Router Solicitation is ICMPv6 but neither NS nor NA.
			name: "rs_kernel_b",
			want: decoded{Dst: mac("33:33:00:00:00:02"), Src: macB, EtherType: EtherTypeIPv6,
				IP: ip6(0, "fe80::ff:fe00:b", "ff02::2")},
		},
	}
	frames := captures(t)
	if len(tests) != len(frames) {
		t.Fatalf("%d capture files but %d table entries: describe every capture", len(frames), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame, ok := frames[tt.name]
			if !ok {
				t.Fatalf("no capture file %s.hex", tt.name)
			}
			got, err := decode(frame)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("decode error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpAddr); diff != "" {
				t.Errorf("decode mismatch (-want +got):\n%s", diff)
			}
			if !tt.reencodes {
				return
			}
			again, err := encode(got)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(again, frame) {
				t.Errorf("re-encoded frame differs\n got %x\nwant %x", again, frame)
			}
		})
	}
}

// TestParseRouterSolicitationAsNDP checks that a Router Solicitation is
// not mistaken for an NS or NA.
func TestParseRouterSolicitationAsNDP(t *testing.T) {
	eth, err := ParseEthernet(captures(t)["rs_kernel_b"])
	if err != nil {
		t.Fatal(err)
	}
	ip, err := ParseIPv6(eth.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseNeighborSolicitation(ip); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ParseNeighborSolicitation(RS) error = %v, want ErrUnsupported", err)
	}
	if _, err := ParseNeighborAdvertisement(ip); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ParseNeighborAdvertisement(RS) error = %v, want ErrUnsupported", err)
	}
}

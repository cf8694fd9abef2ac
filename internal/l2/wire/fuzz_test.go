package wire

import (
	"bytes"
	"net"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// seedFrames is the fuzz corpus: every captured frame plus every frame a
// responder builds. It can never be empty (captures fails first).
func seedFrames(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	caps := captures(f)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range caps {
			if !yield(k) {
				return
			}
		}
	}) {
		seeds = append(seeds, caps[name])
	}
	me := mac("02:00:00:00:00:0a")
	na, err := NDPFrame(MulticastMAC(AllNodes), me, addr("fe80::1"), AllNodes,
		NeighborAdvertisement{Override: true, Target: addr("2001:db8::1"), TargetLL: &me})
	if err != nil {
		f.Fatal(err)
	}
	arp, err := ARPFrame(Broadcast, me, ARP{Op: ARPReply, SenderMAC: me, SenderIP: addr("198.51.100.9"), TargetMAC: me, TargetIP: addr("198.51.100.9")})
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, na, arp)
	if len(seeds) < wantCaptures+2 {
		f.Fatalf("fuzz corpus has %d seeds", len(seeds))
	}
	return seeds
}

// FuzzDecodeFrame: decoding never panics, and whatever decodes encodes
// back to something that decodes to the same value.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range seedFrames(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		d, err := decode(frame)
		if err != nil {
			return
		}
		b, err := encode(d)
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", d, err)
		}
		again, err := decode(b)
		if err != nil {
			t.Fatalf("re-encoded frame %x does not decode: %v", b, err)
		}
		if diff := cmp.Diff(d, again, cmpAddr); diff != "" {
			t.Fatalf("round trip changed the frame (-first +second):\n%s", diff)
		}
		if d.ARP != nil && !bytes.Equal(b, frame[:EthernetHeaderLen+ARPLen]) {
			t.Fatalf("arp re-encoding %x differs from input %x", b, frame[:EthernetHeaderLen+ARPLen])
		}
	})
}

// FuzzParseIPv6: a parsed header re-encodes to exactly the bytes it
// covered.
func FuzzParseIPv6(f *testing.F) {
	n := 0
	for _, s := range seedFrames(f) {
		if eth, err := ParseEthernet(s); err == nil && eth.EtherType == EtherTypeIPv6 {
			f.Add(eth.Payload)
			n++
		}
	}
	if n == 0 {
		f.Fatal("no ipv6 seeds")
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseIPv6(b)
		if err != nil {
			return
		}
		out, err := p.Append(nil)
		if err != nil {
			t.Fatalf("cannot re-encode %+v: %v", p, err)
		}
		if want := b[:IPv6HeaderLen+len(p.Payload)]; !bytes.Equal(out, want) {
			t.Fatalf("re-encoded %x, want %x", out, want)
		}
		// golang.org/x/net/ipv6 reads the same header fields.
		h, err := ipv6.ParseHeader(b)
		if err != nil {
			t.Fatalf("x/net/ipv6 rejects a header we accept: %v", err)
		}
		if h.TrafficClass != int(p.TrafficClass) || h.FlowLabel != int(p.FlowLabel) || h.PayloadLen != len(p.Payload) ||
			h.NextHeader != int(p.NextHeader) || h.HopLimit != int(p.HopLimit) ||
			!h.Src.Equal(net.IP(p.Src.AsSlice())) || !h.Dst.Equal(net.IP(p.Dst.AsSlice())) {
			t.Fatalf("x/net/ipv6 reads %v, we read %+v", h, p)
		}
	})
}

// FuzzICMPv6Checksum compares the checksum with golang.org/x/net/icmp's,
// an independent implementation.
func FuzzICMPv6Checksum(f *testing.F) {
	n := 0
	for _, s := range seedFrames(f) {
		eth, err := ParseEthernet(s)
		if err != nil || eth.EtherType != EtherTypeIPv6 {
			continue
		}
		p, err := ParseIPv6(eth.Payload)
		if err != nil {
			f.Fatal(err)
		}
		src, dst := p.Src.As16(), p.Dst.As16()
		f.Add(src[:], dst[:], p.Payload)
		n++
	}
	f.Add(make([]byte, 16), make([]byte, 16), []byte{135, 0, 0, 0, 1})
	if n == 0 {
		f.Fatal("no icmpv6 seeds")
	}
	f.Fuzz(func(t *testing.T, src, dst, msg []byte) {
		if len(src) != 16 || len(dst) != 16 || len(msg) < 4 {
			return
		}
		s, d := addr("::").As16(), addr("::").As16()
		copy(s[:], src)
		copy(d[:], dst)
		m := icmp.Message{Type: ipv6.ICMPType(msg[0]), Code: int(msg[1]), Body: &icmp.RawBody{Data: msg[4:]}}
		ref, err := m.Marshal(icmp.IPv6PseudoHeader(net.IP(src), net.IP(dst)))
		if err != nil {
			t.Fatal(err)
		}
		want := uint16(ref[2])<<8 | uint16(ref[3])
		sa, da := addrFrom16(s), addrFrom16(d)
		if got := ICMPv6Checksum(sa, da, msg); got != want {
			t.Fatalf("checksum %#04x, x/net/icmp says %#04x", got, want)
		}
		if !VerifyICMPv6Checksum(sa, da, ref) {
			t.Fatalf("x/net/icmp's message %x does not verify", ref)
		}
	})
}

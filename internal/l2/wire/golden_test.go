package wire

import (
	"bytes"
	"testing"
)

// TestGoldenFrames builds the frames a responder sends and compares them
// with bytes laid out by hand, field by field, from RFC 826 and RFC 4861.
// The ICMPv6 checksums were computed with golang.org/x/net/icmp.
func TestGoldenFrames(t *testing.T) {
	var (
		me   = mac("02:00:00:00:00:0a")
		peer = mac("02:00:00:00:00:0b")
	)
	build := map[string]func() ([]byte, error){
		"arp reply": func() ([]byte, error) {
			return ARPFrame(peer, me, ARP{Op: ARPReply,
				SenderMAC: me, SenderIP: addr("198.51.100.200"),
				TargetMAC: peer, TargetIP: addr("198.51.100.2")})
		},
		"gratuitous arp request": func() ([]byte, error) {
			return ARPFrame(Broadcast, me, ARP{Op: ARPRequest,
				SenderMAC: me, SenderIP: addr("198.51.100.200"),
				TargetIP: addr("198.51.100.200")})
		},
		"solicited na from link-local": func() ([]byte, error) {
			return NDPFrame(peer, me, addr("fe80::ff:fe00:a"), addr("fe80::ff:fe00:b"),
				NeighborAdvertisement{Solicited: true, Target: addr("2001:db8::1"), TargetLL: &me})
		},
		"unsolicited na to all-nodes": func() ([]byte, error) {
			return NDPFrame(MulticastMAC(AllNodes), me, addr("fe80::ff:fe00:a"), AllNodes,
				NeighborAdvertisement{Override: true, Target: addr("2001:db8::1"), TargetLL: &me})
		},
		"unicast ns without source option": func() ([]byte, error) {
			return NDPFrame(me, peer, addr("fe80::ff:fe00:b"), addr("2001:db8::1"),
				NeighborSolicitation{Target: addr("2001:db8::1")})
		},
	}
	golden := map[string]string{
		"arp reply": `
			02 00 00 00 00 0b  02 00 00 00 00 0a  08 06  # eth dst, src, type ARP
			00 01  08 00  06  04  00 02                  # htype 1, ptype IPv4, hlen 6, plen 4, op reply
			02 00 00 00 00 0a  c6 33 64 c8               # sender 02:..:0a 198.51.100.200
			02 00 00 00 00 0b  c6 33 64 02               # target 02:..:0b 198.51.100.2`,
		"gratuitous arp request": `
			ff ff ff ff ff ff  02 00 00 00 00 0a  08 06
			00 01  08 00  06  04  00 01                  # op request
			02 00 00 00 00 0a  c6 33 64 c8               # sender = the announced IP
			00 00 00 00 00 00  c6 33 64 c8               # target hw ignored (RFC 5227), target IP = sender IP`,
		"solicited na from link-local": `
			02 00 00 00 00 0b  02 00 00 00 00 0a  86 dd
			60 00 00 00  00 20  3a  ff
			fe 80 00 00 00 00 00 00  00 00 00 ff fe 00 00 0a  # src fe80::ff:fe00:a
			fe 80 00 00 00 00 00 00  00 00 00 ff fe 00 00 0b  # dst fe80::ff:fe00:b
			88 00 0a c9                                       # type NA, code 0, checksum
			40 00 00 00                                       # flags: Solicited only
			20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 01  # target 2001:db8::1
			02 01  02 00 00 00 00 0a                          # target link-layer option`,
		"unsolicited na to all-nodes": `
			33 33 00 00 00 01  02 00 00 00 00 0a  86 dd
			60 00 00 00  00 20  3a  ff
			fe 80 00 00 00 00 00 00  00 00 00 ff fe 00 00 0a  # src fe80::ff:fe00:a
			ff 02 00 00 00 00 00 00  00 00 00 00 00 00 00 01  # dst ff02::1
			88 00 29 51                                       # type NA, code 0, checksum
			20 00 00 00                                       # flags: Override only
			20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 01  # target 2001:db8::1
			02 01  02 00 00 00 00 0a                          # target link-layer option`,
		"unicast ns without source option": `
			02 00 00 00 00 0a  02 00 00 00 00 0b  86 dd
			60 00 00 00  00 18  3a  ff                        # payload 24: no option
			fe 80 00 00 00 00 00 00  00 00 00 ff fe 00 00 0b
			20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 01  # dst = target: unicast
			87 00 1f ad  00 00 00 00
			20 01 0d b8 00 00 00 00  00 00 00 00 00 00 00 01`,
	}
	if len(build) == 0 || len(build) != len(golden) {
		t.Fatalf("%d builders for %d golden frames", len(build), len(golden))
	}
	for name, fn := range build {
		t.Run(name, func(t *testing.T) {
			got, err := fn()
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, golden[name])
			if !bytes.Equal(got, want) {
				t.Errorf("frame differs\n got %x\nwant %x", got, want)
			}
			if _, err := decode(got); err != nil {
				t.Errorf("own frame does not decode: %v", err)
			}
		})
	}
}

package responder

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// FuzzAnswer feeds arbitrary frames to the ARP and NDP handlers: they never
// panic, answer only for owned IPs, and what they send is valid.
func FuzzAnswer(f *testing.F) {
	seeds := [][]byte{
		whoHas(f, "198.51.100.10"),
		arpFrame(f, me, peer, wire.ARPRequest, peer, "198.51.100.2", me, "198.51.100.10"),
		multicastNS(f, "2001:db8::1"),
		nsFrame(f, me, peer, "fe80::b", "2001:db8::1", "2001:db8::1", nil),
		nsFrame(f, wire.MulticastMAC(addr("ff02::1:ff00:1")), peer, "::", "ff02::1:ff00:1", "2001:db8::1", nil),
	}
	if len(seeds) == 0 {
		f.Fatal("empty seed corpus")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	owned := []netip.Addr{addr("198.51.100.10"), addr("2001:db8::1")}
	r, err := New(Config{Interface: "eth0", MAC: me, ARP: newPipe(), NDP: newPipe(), Schedule: []time.Duration{}})
	if err != nil {
		f.Fatal(err)
	}
	r.SetSource(addr("fe80::a"))
	if err := r.SetAddrs(owned); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if reply, ip := r.arpReply(frame); reply != nil {
			if ip != owned[0] {
				t.Fatalf("answered ARP for %v", ip)
			}
			got := parseSent(t, reply)
			if got.EthSrc != me || got.ARP == nil || got.ARP.Op != wire.ARPReply || got.ARP.SenderIP != ip || got.ARP.SenderMAC != me {
				t.Fatalf("bad ARP reply %+v", got)
			}
		}
		if reply, ip := r.naReply(frame); reply != nil {
			if ip != owned[1] {
				t.Fatalf("answered NS for %v", ip)
			}
			got := parseSent(t, reply) // parseSent validates the NA (RFC 4861 7.1.2)
			if got.EthSrc != me || got.NA.Target != ip || got.NA.TargetLL == nil || *got.NA.TargetLL != me {
				t.Fatalf("bad NA %+v", got)
			}
		}
	})
}

package responder

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// TestARPScript walks through ARP behaviour step by step.
func TestARPScript(t *testing.T) {
	h := newHarness(t, Config{})
	h.set("198.51.100.10", "198.51.100.11")
	ip := addr("198.51.100.10")
	wantReply := sent{EthDst: peer, EthSrc: me, ARP: &wire.ARP{
		Op: wire.ARPReply, SenderMAC: me, SenderIP: ip, TargetMAC: peer, TargetIP: addr("198.51.100.2")}}

	steps := []struct {
		name  string
		frame []byte
		want  *sent // nil: no reply
	}{
		{"broadcast request for an owned IP is answered with our MAC",
			whoHas(t, "198.51.100.10"), &wantReply},
		{"unicast request to our MAC (cache refresh) is answered",
			arpFrame(t, me, peer, wire.ARPRequest, peer, "198.51.100.2", me, "198.51.100.10"), &wantReply},
		{"request unicast to another host's MAC is not ours to answer",
			arpFrame(t, other, peer, wire.ARPRequest, peer, "198.51.100.2", other, "198.51.100.10"), nil},
		{"request for an IP we do not own",
			whoHas(t, "198.51.100.12"), nil},
		{"a reply is not a request",
			arpFrame(t, wire.Broadcast, peer, wire.ARPReply, peer, "198.51.100.2", wire.MAC{}, "198.51.100.10"), nil},
		{"our own frame looped back",
			arpFrame(t, wire.Broadcast, me, wire.ARPRequest, me, "198.51.100.10", wire.MAC{}, "198.51.100.10"), nil},
		{"requester with a multicast hardware address",
			arpFrame(t, wire.Broadcast, peer, wire.ARPRequest, wire.Broadcast, "198.51.100.2", wire.MAC{}, "198.51.100.10"), nil},
		{"truncated arp",
			whoHas(t, "198.51.100.10")[:30], nil},
		{"an IPv6 frame on the ARP socket",
			multicastNS(t, "2001:db8::1"), nil},
		{"RFC 5227 probe (sender IP 0.0.0.0) is answered to the prober",
			arpFrame(t, wire.Broadcast, peer, wire.ARPRequest, peer, "0.0.0.0", wire.MAC{}, "198.51.100.11"),
			&sent{EthDst: peer, EthSrc: me, ARP: &wire.ARP{Op: wire.ARPReply, SenderMAC: me, SenderIP: addr("198.51.100.11"), TargetMAC: peer, TargetIP: addr("0.0.0.0")}}},
	}
	for _, s := range steps {
		h.send(h.arp, s.frame)
		if s.want == nil {
			h.none(h.arp)
			continue
		}
		if diff := cmp.Diff(*s.want, parseSent(t, h.next(h.arp)), cmpAddr); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
	if req, resp, _ := h.rec.get(ip); req != 2 || resp != 2 {
		t.Errorf("198.51.100.10: %d requests, %d responses counted; want 2, 2", req, resp)
	}
	if req, _, _ := h.rec.get(addr("198.51.100.12")); req != 0 {
		t.Errorf("requests for an IP we do not own were counted: %d", req)
	}

	// Removing the IP stops the answers at once.
	h.set("198.51.100.11")
	h.send(h.arp, whoHas(t, "198.51.100.10"))
	h.none(h.arp)
	h.send(h.arp, whoHas(t, "198.51.100.11"))
	if got := parseSent(t, h.next(h.arp)); got.ARP.SenderIP != addr("198.51.100.11") {
		t.Errorf("answer for %v, want 198.51.100.11", got.ARP.SenderIP)
	}
	h.set()
	h.send(h.arp, whoHas(t, "198.51.100.11"))
	h.none(h.arp)
	if h.ndp.Closed() || h.arp.Closed() {
		t.Fatal("sockets closed while running")
	}
}

// TestNDPScript walks through Neighbor Solicitation handling, with
// advertisements sourced from the link-local address (MetalLB's choice).
func TestNDPScript(t *testing.T) {
	h := newHarness(t, Config{LinkLocalSource: true})
	h.r.SetSource(addr("fe80::a"))
	h.set("2001:db8::1", "2001:db8::2")
	target := addr("2001:db8::1")
	solicited := func(dstMAC wire.MAC, dstIP string) *sent {
		return &sent{EthDst: dstMAC, EthSrc: me, IPSrc: addr("fe80::a"), IPDst: addr(dstIP), HopLimit: 255,
			NA: &wire.NeighborAdvertisement{Solicited: true, Target: target, TargetLL: &me}}
	}

	steps := []struct {
		name  string
		frame []byte
		want  *sent
	}{
		{"multicast solicitation with source option: NA to the solicitor, S=1 O=0",
			multicastNS(t, "2001:db8::1"), solicited(peer, "fe80::b")},
		{"unicast solicitation (reachability probe) with source option",
			nsFrame(t, me, peer, "fe80::b", "2001:db8::1", "2001:db8::1", &peer), solicited(peer, "fe80::b")},
		{"unicast solicitation without source option goes to the frame's source",
			nsFrame(t, me, peer, "2001:db8::b", "2001:db8::1", "2001:db8::1", nil), solicited(peer, "2001:db8::b")},
		{"the source option wins over the frame's source",
			nsFrame(t, me, peer, "fe80::c", "2001:db8::1", "2001:db8::1", &other), solicited(other, "fe80::c")},
		{"duplicate address detection probe: NA to all-nodes, S=0 O=1",
			nsFrame(t, wire.MulticastMAC(wire.SolicitedNode(target)), peer, "::", "ff02::1:ff00:1", "2001:db8::1", nil),
			&sent{EthDst: wire.MulticastMAC(wire.AllNodes), EthSrc: me, IPSrc: addr("fe80::a"), IPDst: wire.AllNodes, HopLimit: 255,
				NA: &wire.NeighborAdvertisement{Override: true, Target: target, TargetLL: &me}}},
		{"solicitation for an IP we do not own",
			multicastNS(t, "2001:db8::3"), nil},
		{"sent to another target's solicited-node group",
			nsFrame(t, wire.MulticastMAC(addr("ff02::1:ff00:2")), peer, "fe80::b", "ff02::1:ff00:2", "2001:db8::1", &peer), nil},
		{"unicast to the target but at another host's MAC",
			nsFrame(t, other, peer, "fe80::b", "2001:db8::1", "2001:db8::1", &peer), nil},
		{"unicast to an address that is not the target",
			nsFrame(t, me, peer, "fe80::b", "fe80::a", "2001:db8::1", &peer), nil},
		{"our own solicitation looped back",
			nsFrame(t, wire.MulticastMAC(wire.SolicitedNode(target)), me, "fe80::a", "ff02::1:ff00:1", "2001:db8::1", &me), nil},
		{"hop limit 64: the solicitation was routed",
			func() []byte { f := multicastNS(t, "2001:db8::1"); f[wire.EthernetHeaderLen+7] = 64; return f }(), nil},
		{"bad checksum",
			func() []byte { f := multicastNS(t, "2001:db8::1"); f[len(f)-1] ^= 1; return f }(), nil},
		{"an advertisement is not a solicitation",
			func() []byte {
				f, err := wire.NDPFrame(me, peer, addr("fe80::b"), addr("fe80::a"), wire.NeighborAdvertisement{Target: target})
				if err != nil {
					t.Fatal(err)
				}
				return f
			}(), nil},
		{"an ARP frame on the NDP socket",
			whoHas(t, "198.51.100.10"), nil},
	}
	for _, s := range steps {
		h.send(h.ndp, s.frame)
		if s.want == nil {
			h.none(h.ndp)
			continue
		}
		if diff := cmp.Diff(*s.want, parseSent(t, h.next(h.ndp)), cmpAddr); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
	if req, resp, _ := h.rec.get(target); req != 5 || resp != 5 {
		t.Errorf("2001:db8::1: %d requests, %d responses; want 5, 5", req, resp)
	}

	// Without a link-local address the target itself is the source.
	h.r.SetSource(netip.Addr{})
	h.send(h.ndp, multicastNS(t, "2001:db8::2"))
	if got := parseSent(t, h.next(h.ndp)); got.IPSrc != addr("2001:db8::2") || !got.NA.Solicited {
		t.Errorf("without link-local: NA from %v (solicited %v), want from 2001:db8::2, solicited", got.IPSrc, got.NA.Solicited)
	}
	// A global address is not accepted as the source.
	h.r.SetSource(addr("2001:db8::a"))
	h.send(h.ndp, multicastNS(t, "2001:db8::2"))
	if got := parseSent(t, h.next(h.ndp)); got.IPSrc != addr("2001:db8::2") {
		t.Errorf("with a global source set: NA from %v, want the target", got.IPSrc)
	}

	// Removal is immediate.
	h.set("2001:db8::2")
	h.send(h.ndp, multicastNS(t, "2001:db8::1"))
	h.none(h.ndp)
	h.send(h.ndp, nsFrame(t, me, peer, "fe80::b", "2001:db8::1", "2001:db8::1", &peer))
	h.none(h.ndp)
}

// TestNASourceDefault: by default every advertisement comes from its
// target, whatever link-local address the interface has.
func TestNASourceDefault(t *testing.T) {
	h := newHarness(t, Config{Schedule: []time.Duration{0}})
	h.r.SetSource(addr("fe80::a"))
	h.set("2001:db8::1")
	target := addr("2001:db8::1")
	if got := parseSent(t, h.next(h.ndp)); got.IPSrc != target || got.NA.Solicited || !got.NA.Override {
		t.Errorf("unsolicited NA from %v (S=%v O=%v), want from the target with S=0 O=1", got.IPSrc, got.NA.Solicited, got.NA.Override)
	}
	h.send(h.ndp, multicastNS(t, "2001:db8::1"))
	if got := parseSent(t, h.next(h.ndp)); got.IPSrc != target || got.IPDst != addr("fe80::b") || !got.NA.Solicited {
		t.Errorf("solicited NA %v -> %v (S=%v), want from the target to fe80::b with S=1", got.IPSrc, got.IPDst, got.NA.Solicited)
	}
	h.send(h.ndp, nsFrame(t, wire.MulticastMAC(wire.SolicitedNode(target)), peer, "::", "ff02::1:ff00:1", "2001:db8::1", nil))
	if got := parseSent(t, h.next(h.ndp)); got.IPSrc != target || got.IPDst != wire.AllNodes {
		t.Errorf("DAD answer %v -> %v, want from the target to ff02::1", got.IPSrc, got.IPDst)
	}
}

func TestFamiliesFollowSockets(t *testing.T) {
	arpOnly, err := New(Config{Interface: "eth0", MAC: me, ARP: newPipe()})
	if err != nil {
		t.Fatal(err)
	}
	if err := arpOnly.SetAddrs([]netip.Addr{addr("198.51.100.1"), addr("2001:db8::1"), addr("::ffff:198.51.100.2")}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]netip.Addr{addr("198.51.100.1"), addr("198.51.100.2")}, arpOnly.Owned(), cmpAddr); diff != "" {
		t.Errorf("ARP-only responder owns (-want +got):\n%s", diff)
	}
	ndpOnly, err := New(Config{Interface: "eth0", MAC: me, NDP: newPipe()})
	if err != nil {
		t.Fatal(err)
	}
	if ndpOnly.Serves(addr("198.51.100.1")) || !ndpOnly.Serves(addr("2001:db8::1")) {
		t.Error("NDP-only responder serves the wrong families")
	}
	if _, err := New(Config{Interface: "eth0", MAC: me}); err == nil {
		t.Error("New without sockets succeeded")
	}
	if _, err := New(Config{Interface: "eth0", ARP: newPipe()}); err == nil {
		t.Error("New without a MAC succeeded")
	}
}

// TestSolicitedNodeGroups checks the reference counting of group
// memberships: 2001:db8::1 and 2001:db8:1::1 share ff02::1:ff00:1.
func TestSolicitedNodeGroups(t *testing.T) {
	ndp := newPipe()
	r, err := New(Config{Interface: "eth0", MAC: me, NDP: ndp, Schedule: []time.Duration{}})
	if err != nil {
		t.Fatal(err)
	}
	g1, g2 := addr("ff02::1:ff00:1"), addr("ff02::1:ff00:2")
	steps := []struct {
		name       string
		ips        []string
		wantGroups map[netip.Addr]int
		wantJoins  int
		wantLeaves int
	}{
		{"two IPs in one group, one in another", []string{"2001:db8::1", "2001:db8:1::1", "2001:db8::2"}, map[netip.Addr]int{g1: 1, g2: 1}, 2, 0},
		{"the same set again changes nothing", []string{"2001:db8::2", "2001:db8:1::1", "2001:db8::1"}, map[netip.Addr]int{g1: 1, g2: 1}, 2, 0},
		{"one of the two sharing a group goes: still joined", []string{"2001:db8:1::1", "2001:db8::2"}, map[netip.Addr]int{g1: 1, g2: 1}, 2, 0},
		{"the last one of the group goes: left", []string{"2001:db8::2"}, map[netip.Addr]int{g2: 1}, 2, 1},
		{"IPv4 needs no group", []string{"2001:db8::2", "198.51.100.1"}, map[netip.Addr]int{g2: 1}, 2, 1},
		{"nothing", nil, map[netip.Addr]int{}, 2, 2},
	}
	for _, s := range steps {
		var ips []netip.Addr
		for _, ip := range s.ips {
			ips = append(ips, addr(ip))
		}
		if err := r.SetAddrs(ips); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		groups, joins, leaves := ndp.Groups()
		if diff := cmp.Diff(s.wantGroups, groups, cmpAddr); diff != "" {
			t.Errorf("%s: memberships (-want +got):\n%s", s.name, diff)
		}
		if joins != s.wantJoins || leaves != s.wantLeaves {
			t.Errorf("%s: %d joins, %d leaves; want %d, %d", s.name, joins, leaves, s.wantJoins, s.wantLeaves)
		}
	}
}

func TestJoinFailureIsReportedAndRetried(t *testing.T) {
	ndp := newPipe()
	boom := errors.New("no buffer space")
	ndp.SetJoinError(boom)
	r, err := New(Config{Interface: "eth0", MAC: me, NDP: ndp, Schedule: []time.Duration{}})
	if err != nil {
		t.Fatal(err)
	}
	ips := []netip.Addr{addr("2001:db8::1")}
	if err := r.SetAddrs(ips); !errors.Is(err, boom) {
		t.Fatalf("SetAddrs error = %v, want the join error", err)
	}
	if !slices.Equal(r.Owned(), ips) {
		t.Errorf("owned %v after a failed join, want %v", r.Owned(), ips)
	}
	ndp.SetJoinError(nil)
	if err := r.SetAddrs(ips); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if groups, _, _ := ndp.Groups(); groups[addr("ff02::1:ff00:1")] != 1 {
		t.Errorf("group not joined on retry: %v", groups)
	}
}

func TestRunEnds(t *testing.T) {
	t.Run("socket error is returned and sockets are closed", func(t *testing.T) {
		arp, ndp := newPipe(), newPipe()
		r, err := New(Config{Interface: "eth0", MAC: me, ARP: arp, NDP: ndp})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(t.Context()) }()
		boom := errors.New("network is down")
		ndp.Fail(boom)
		select {
		case err := <-done:
			if !errors.Is(err, boom) {
				t.Errorf("Run = %v, want %v", err, boom)
			}
		case <-time.After(waitLimit):
			t.Fatal("Run did not return after a socket error")
		}
		if !arp.Closed() || !ndp.Closed() {
			t.Error("sockets left open")
		}
	})
	t.Run("Close makes Run return nil", func(t *testing.T) {
		arp := newPipe()
		r, err := New(Config{Interface: "eth0", MAC: me, ARP: arp})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.Run(t.Context()) }()
		r.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("Run did not return after Close")
		}
	})
}

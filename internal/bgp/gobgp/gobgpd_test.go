package gobgp

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// waitRoute waits until gobgpd has exactly the given route for prefix.
func waitGoBGPdRoute(t *testing.T, g *gobgpd, family, prefix string, want route) {
	t.Helper()
	eventually(t, 15*time.Second, "route "+prefix, func() error {
		rib, err := g.rib(family)
		if err != nil {
			return err
		}
		got, err := gobgpdRoute(rib[prefix])
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Errorf("(-want +got):\n%s", diff)
		}
		return nil
	})
}

func waitGoBGPdNoRoute(t *testing.T, g *gobgpd, family, prefix string) {
	t.Helper()
	eventually(t, 15*time.Second, "no route "+prefix, func() error {
		rib, err := g.rib(family)
		if err != nil {
			return err
		}
		if len(rib[prefix]) != 0 {
			return fmt.Errorf("still there")
		}
		return nil
	})
}

var (
	pfxA  = "198.51.100.200/32"
	pfxB  = "198.51.100.201/32"
	pfx6A = "2001:db8::ff:1/128"
)

// eBGP over IPv4 with 4-byte ASNs, and iBGP over IPv6, both dual stack:
// the router gets both families with the right attributes.
func TestGoBGPdRouteAttributes(t *testing.T) {
	l1, l2 := newLink(t, 1), newLink(t, 2)
	g1 := startGoBGPd(t, l1, 4200000002, gobgpdNeighbor{address: l1.node4.String(), asn: 4200000001, families: []string{"ipv4-unicast", "ipv6-unicast"}})
	g2 := startGoBGPd(t, l2, 64512, gobgpdNeighbor{address: l2.node6.String(), asn: 64512, families: []string{"ipv4-unicast", "ipv6-unicast"}})
	rec := newRecorder()
	b, _ := runBackend(t, Options{Recorder: rec})
	ebgp := bgp.Peer{Name: "ebgp", Address: l1.router4, MyASN: 4200000001, PeerASN: 4200000002, DualStackAddressFamily: true,
		HoldTime: 9 * time.Second, KeepaliveTime: 3 * time.Second}
	ibgp := bgp.Peer{Name: "ibgp", Address: l2.router6, MyASN: 64512, PeerASN: 64512, DualStackAddressFamily: true}
	if err := b.SetPeers([]bgp.Peer{ebgp, ibgp}); err != nil {
		t.Fatal(err)
	}
	ads := []bgp.Advertisement{
		{Prefix: mustPrefix(pfxA), LocalPref: 300, Communities: []bgp.Community{
			{Global: 64500, Local1: 1}, {Large: true, Global: 4200000001, Local1: 2, Local2: 3}}},
		{Prefix: mustPrefix(pfx6A), Communities: []bgp.Community{{Global: 65535, Local1: 65281}}},
	}
	for _, name := range []string{"ebgp", "ibgp"} {
		if err := b.SetAdvertisements(name, ads); err != nil {
			t.Fatal(err)
		}
	}
	waitEstablished(t, b, "ebgp")
	waitEstablished(t, b, "ibgp")

	// eBGP: AS_PATH is our 4-byte ASN, no LOCAL_PREF, next hops are the
	// node's addresses on the link for each family.
	waitGoBGPdRoute(t, g1, "ipv4", pfxA, route{NextHop: l1.node4.String(), ASPath: "4200000001 ",
		Communities: "64500:1 ", Large: "4200000001:2:3 "})
	waitGoBGPdRoute(t, g1, "ipv6", pfx6A, route{NextHop: l1.node6.String(), ASPath: "4200000001 ", Communities: "65535:65281 "})
	// iBGP over IPv6: empty AS_PATH, LOCAL_PREF as set (100 by default),
	// IPv4 next hop taken from the IPv4 address of the same interface.
	waitGoBGPdRoute(t, g2, "ipv4", pfxA, route{NextHop: l2.node4.String(), LocalPref: 300,
		Communities: "64500:1 ", Large: "4200000001:2:3 "})
	waitGoBGPdRoute(t, g2, "ipv6", pfx6A, route{NextHop: l2.node6.String(), LocalPref: 100, Communities: "65535:65281 "})

	eventually(t, 5*time.Second, "metrics", func() error {
		for _, p := range []bgp.Peer{ebgp, ibgp} {
			up, updates, prefixes := rec.snapshot(p.ID())
			if !up || updates == 0 || prefixes != [2]int{2, 0} {
				return fmt.Errorf("%s: up %v updates %d prefixes %v", p.ID(), up, updates, prefixes)
			}
		}
		return nil
	})

	// Without dual stack, an IPv4 session carries IPv4 routes only.
	ebgp.DualStackAddressFamily = false
	if err := b.SetPeers([]bgp.Peer{ebgp, ibgp}); err != nil {
		t.Fatal(err)
	}
	waitEstablished(t, b, "ebgp")
	waitGoBGPdRoute(t, g1, "ipv4", pfxA, route{NextHop: l1.node4.String(), ASPath: "4200000001 ",
		Communities: "64500:1 ", Large: "4200000001:2:3 "})
	waitGoBGPdNoRoute(t, g1, "ipv6", pfx6A)
	st, _ := peerStatus(b, "ebgp")
	if st.Unsupported != 1 || st.Announced != 1 {
		t.Errorf("status %+v, want 1 announced and 1 unsupported", st)
	}
}

// Adding, changing and removing one route sends one UPDATE each and never
// resets the session.
func TestIncrementalUpdatesDoNotResetTheSession(t *testing.T) {
	l := newLink(t, 1)
	g := startGoBGPd(t, l, 64512, gobgpdNeighbor{address: l.node4.String(), asn: 64500, families: []string{"ipv4-unicast"}})
	b, _ := runBackend(t, Options{})
	b.SetPeers([]bgp.Peer{{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512}})
	a := bgp.Advertisement{Prefix: mustPrefix(pfxA)}
	b.SetAdvertisements("r", []bgp.Advertisement{a})
	waitEstablished(t, b, "r")
	waitGoBGPdRoute(t, g, "ipv4", pfxA, route{NextHop: l.node4.String(), ASPath: "64500 "})

	n0, err := g.neighbor(l.node4.String())
	if err != nil {
		t.Fatal(err)
	}
	st0, _ := peerStatus(b, "r")
	// updates waits for the router to have received exactly want more
	// UPDATEs than at the start, on the same session, and checks that no
	// other one follows.
	updates := func(step string, want uint64) {
		t.Helper()
		check := func() error {
			n, err := g.neighbor(l.node4.String())
			if err != nil {
				return err
			}
			if n.Timers.State.Uptime != n0.Timers.State.Uptime || n.State.SessionState != 6 {
				return fmt.Errorf("session was reset (uptime %v, was %v)", n.Timers.State.Uptime, n0.Timers.State.Uptime)
			}
			if got := n.State.Messages.Received.Update - n0.State.Messages.Received.Update; got != want {
				return fmt.Errorf("%d UPDATEs received, want %d", got, want)
			}
			return nil
		}
		eventually(t, 10*time.Second, step, check)
		time.Sleep(500 * time.Millisecond)
		if err := check(); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	b.SetAdvertisements("r", []bgp.Advertisement{a, {Prefix: mustPrefix(pfxB)}})
	waitGoBGPdRoute(t, g, "ipv4", pfxB, route{NextHop: l.node4.String(), ASPath: "64500 "})
	updates("add one route", 1)

	b.SetAdvertisements("r", []bgp.Advertisement{a, {Prefix: mustPrefix(pfxB)}})
	updates("same routes again", 1)

	b.SetAdvertisements("r", []bgp.Advertisement{a, {Prefix: mustPrefix(pfxB), Communities: []bgp.Community{{Global: 1, Local1: 2}}}})
	waitGoBGPdRoute(t, g, "ipv4", pfxB, route{NextHop: l.node4.String(), ASPath: "64500 ", Communities: "1:2 "})
	updates("change a route's communities", 2)

	b.SetAdvertisements("r", []bgp.Advertisement{a})
	waitGoBGPdNoRoute(t, g, "ipv4", pfxB)
	updates("remove one route", 3)

	waitGoBGPdRoute(t, g, "ipv4", pfxA, route{NextHop: l.node4.String(), ASPath: "64500 "})
	eventually(t, 5*time.Second, "our counters", func() error {
		st, _ := peerStatus(b, "r")
		if st.Resets != 0 || !st.EstablishedSince.Equal(st0.EstablishedSince) {
			return fmt.Errorf("session reset: %+v", st)
		}
		if got := st.UpdatesSent - st0.UpdatesSent; got != 3 {
			return fmt.Errorf("%d UPDATEs sent, want 3", got)
		}
		return nil
	})
}

// A change of a session setting reopens the session; removing the peer
// closes it and the router drops the routes.
func TestSessionSettingsChangeAndRemoval(t *testing.T) {
	l := newLink(t, 1)
	g := startGoBGPd(t, l, 64512, gobgpdNeighbor{address: l.node4.String(), asn: 64500, families: []string{"ipv4-unicast"}})
	rec := newRecorder()
	b, _ := runBackend(t, Options{Recorder: rec})
	p := bgp.Peer{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512, HoldTime: 90 * time.Second, KeepaliveTime: 30 * time.Second}
	b.SetPeers([]bgp.Peer{p})
	b.SetAdvertisements("r", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}})
	waitEstablished(t, b, "r")
	waitGoBGPdRoute(t, g, "ipv4", pfxA, route{NextHop: l.node4.String(), ASPath: "64500 "})
	n0, _ := g.neighbor(l.node4.String())

	p.HoldTime, p.KeepaliveTime = 30*time.Second, 10*time.Second
	b.SetPeers([]bgp.Peer{p})
	eventually(t, 30*time.Second, "session reopened", func() error {
		n, err := g.neighbor(l.node4.String())
		if err != nil {
			return err
		}
		if n.State.SessionState != 6 || n.Timers.State.Uptime == n0.Timers.State.Uptime {
			return fmt.Errorf("state %d uptime %v", n.State.SessionState, n.Timers.State.Uptime)
		}
		return nil
	})
	waitGoBGPdRoute(t, g, "ipv4", pfxA, route{NextHop: l.node4.String(), ASPath: "64500 "})

	b.SetPeers(nil)
	waitGoBGPdNoRoute(t, g, "ipv4", pfxA)
	eventually(t, 10*time.Second, "router sees the session down", func() error {
		n, err := g.neighbor(l.node4.String())
		if err != nil {
			return err
		}
		if n.State.SessionState == 6 {
			return fmt.Errorf("still established")
		}
		return nil
	})
	if len(b.Status()) != 0 {
		t.Errorf("status of a removed peer: %+v", b.Status())
	}
	if up, _, _ := rec.snapshot(p.ID()); up {
		t.Error("session_up metric still set for a removed peer")
	}
}

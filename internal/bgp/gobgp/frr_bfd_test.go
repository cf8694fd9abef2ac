package gobgp

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// frrStateChange finds, in FRR's log, when bfdd took the session with peer
// from Up to Down after since.
func frrStateChange(f *frr, peer string, since time.Time) (time.Time, bool) {
	re := regexp.MustCompile(`^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6}) BFD: .*state-change: \[.*peer:` + regexp.QuoteMeta(peer) + ` .*\] up -> down`)
	for _, line := range strings.Split(f.log(), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, err := time.ParseInLocation("2006/01/02 15:04:05.000000", m[1], time.Local)
		if err == nil && at.After(since) {
			return at, true
		}
	}
	return time.Time{}, false
}

// cutPath drops every packet between node and router in both directions
// at the node (nftables), without touching the link: a dead node behind a
// switch, for which the router sees no carrier change. cut false restores
// the path.
func cutPath(t *testing.T, l *link, cut bool) {
	t.Helper()
	if !cut {
		run(t, "nft", "delete", "table", "inet", "fbgpcut")
		return
	}
	needLab(t, "nft")
	run(t, "nft", "add", "table", "inet", "fbgpcut")
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", "fbgpcut").Run() })
	run(t, "nft", "add", "chain", "inet", "fbgpcut", "in", "{ type filter hook input priority 0; }")
	run(t, "nft", "add", "chain", "inet", "fbgpcut", "out", "{ type filter hook output priority 0; }")
	run(t, "nft", "add", "rule", "inet", "fbgpcut", "in", "ip", "saddr", l.router4.String(), "drop")
	run(t, "nft", "add", "rule", "inet", "fbgpcut", "out", "ip", "daddr", l.router4.String(), "drop")
}

// BFD at 100 ms x 3 against FRR's bfdd: both ends detect a dead path in
// about 300 ms, the router withdraws the routes and the speaker resets the
// BGP session; everything comes back when the path heals. A profile change
// is applied without resetting the BGP session.
func TestFRRBFDDetectsFailure(t *testing.T) {
	l := newLink(t, 1)
	f := startFRR(t, l, frrBGP(l, 64512, l.node4.String(), 64500, "bfd profile fast"), fastBFD)
	rec := newRecorder()
	b, _ := runBackend(t, Options{Recorder: rec})
	peer := bgp.Peer{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512, BFD: fastProfile}
	b.SetPeers([]bgp.Peer{peer})
	b.SetAdvertisements("r", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}})
	waitEstablished(t, b, "r")
	waitFRRRoute(t, f, "ipv4", pfxA, frrSummary{NextHop: l.node4.String(), ASPath: "64500"})
	bfdUp := func() error {
		st, _ := peerStatus(b, "r")
		fp, err := f.bfdPeer(l.node4.String())
		if err != nil {
			return err
		}
		if st.BFD != bgp.BFDUp || st.State != bgp.StateEstablished || fp.Status != "up" || fp.RemoteRx != 100 || fp.RemoteTx != 100 {
			return fmt.Errorf("ours %s/%s, FRR's %+v", st.State, st.BFD, fp)
		}
		return nil
	}
	eventually(t, 20*time.Second, "BFD up at the fast rate", bfdUp)
	time.Sleep(bfdSettle) // past the start-up window of handleBFD
	if err := bfdUp(); err != nil {
		t.Fatalf("BFD flapped after coming up: %v", err)
	}
	before, _ := peerStatus(b, "r")
	nb, _ := f.neighbor(l.node4.String())

	// The path dies.
	t0 := time.Now()
	cutPath(t, l, true)
	var routeGone time.Duration
	eventually(t, 5*time.Second, "router withdraws the route", func() error {
		paths, err := f.route("ipv4", pfxA)
		if err != nil {
			return err
		}
		if len(paths) != 0 {
			return fmt.Errorf("still there")
		}
		routeGone = time.Since(t0)
		return nil
	})
	var routerDetect, ourDetect time.Duration
	eventually(t, 5*time.Second, "both ends saw BFD go down", func() error {
		at, ok := frrStateChange(f, l.node4.String(), t0)
		if !ok {
			return fmt.Errorf("no state change in FRR's log")
		}
		routerDetect = at.Sub(t0)
		ours, ok := rec.lastBFD(l.router4.String(), false, t0)
		if !ok {
			return fmt.Errorf("no BFD down metric")
		}
		ourDetect = ours.Sub(t0)
		return nil
	})
	t.Logf("BFD 100ms x 3: router detected the failure after %v (from its log), the speaker after %v; the route was gone at the router within %v (polled)",
		routerDetect.Round(time.Millisecond), ourDetect.Round(time.Millisecond), routeGone.Round(time.Millisecond))
	if routerDetect > 500*time.Millisecond || ourDetect > 500*time.Millisecond {
		t.Errorf("detection too slow: router %v, speaker %v (want < 500ms)", routerDetect, ourDetect)
	}
	eventually(t, 5*time.Second, "speaker reset its BGP session", func() error {
		st, _ := peerStatus(b, "r")
		if st.State == bgp.StateEstablished || !strings.Contains(st.LastError, "BFD") {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})

	// The path heals: BFD and BGP come back, the route returns.
	cutPath(t, l, false)
	eventually(t, 30*time.Second, "BFD and BGP back", bfdUp)
	waitFRRRoute(t, f, "ipv4", pfxA, frrSummary{NextHop: l.node4.String(), ASPath: "64500"})
	after, _ := peerStatus(b, "r")
	if after.Resets != before.Resets+1 {
		t.Errorf("resets %d -> %d, want one", before.Resets, after.Resets)
	}
	time.Sleep(bfdSettle)

	// A BFD profile change is applied in place (Poll Sequence): FRR sees
	// the new intervals and the BGP session stays up.
	na, _ := f.neighbor(l.node4.String())
	slower := *fastProfile
	slower.ReceiveInterval, slower.TransmitInterval = 300*time.Millisecond, 300*time.Millisecond
	peer.BFD = &slower
	b.SetPeers([]bgp.Peer{peer})
	eventually(t, 10*time.Second, "new BFD timers at the router", func() error {
		fp, err := f.bfdPeer(l.node4.String())
		if err != nil {
			return err
		}
		if fp.Status != "up" || fp.RemoteRx != 300 || fp.RemoteTx != 300 {
			return fmt.Errorf("%+v", fp)
		}
		return nil
	})
	nc, _ := f.neighbor(l.node4.String())
	last, _ := peerStatus(b, "r")
	if nc.Established != na.Established || nc.State != "Established" || last.Resets != after.Resets {
		t.Errorf("profile change reset BGP: router connections %d -> %d, our resets %d -> %d", na.Established, nc.Established, after.Resets, last.Resets)
	}
	if nb.Established == 0 {
		t.Errorf("router neighbor info missing: %+v", nb)
	}
}

// Multi-hop BFD (RFC 5883, port 4784) on an ebgpMultiHop session, with this
// side passive: FRR runs a multi-hop session and both ends come up.
func TestFRRBFDMultihopPassive(t *testing.T) {
	l := newLink(t, 1)
	f := startFRR(t, l, frrBGP(l, 64512, l.node4.String(), 64500, "ebgp-multihop 2", "bfd profile fast"), fastBFD)
	rec := newRecorder()
	b, _ := runBackend(t, Options{Recorder: rec})
	passive := *fastProfile
	passive.PassiveMode = true
	b.SetPeers([]bgp.Peer{{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512, EBGPMultiHop: true, BFD: &passive}})
	waitEstablished(t, b, "r")
	eventually(t, 20*time.Second, "multi-hop BFD up", func() error {
		st, _ := peerStatus(b, "r")
		fp, err := f.bfdPeer(l.node4.String())
		if err != nil {
			return err
		}
		if st.BFD != bgp.BFDUp || fp.Status != "up" || !fp.Multihop {
			return fmt.Errorf("ours %s, FRR's %+v", st.BFD, fp)
		}
		return nil
	})

	// The BFD counters of the peer: packets both ways, growing at the fast
	// rate, and the state changes that took the session Up.
	bfdPeer := l.router4.String()
	in0, out0, notifs := rec.bfdCounters(bfdPeer)
	if notifs == 0 {
		t.Errorf("BFD came up with no state change notified")
	}
	eventually(t, 5*time.Second, "BFD packets counted", func() error {
		in, out, _ := rec.bfdCounters(bfdPeer)
		if in < in0+5 || out < out0+5 {
			return fmt.Errorf("in %d out %d, were %d and %d", in, out, in0, out0)
		}
		return nil
	})
}

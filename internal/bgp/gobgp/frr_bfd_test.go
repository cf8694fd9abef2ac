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

// echoBFD is an FRR profile with slow Control packets (1 s x 3, so a
// failure found in well under a second was found by echo) and echo mode
// at 50 ms both ways.
const echoBFD = `debug bfd peer
debug bfd network
bfd
 profile echo
  receive-interval 1000
  transmit-interval 1000
  detect-multiplier 3
  echo-mode
  echo transmit-interval 50
  echo receive-interval 50`

var echoProfile = &bgp.BFDProfile{ReceiveInterval: time.Second, TransmitInterval: time.Second, DetectMultiplier: 3, EchoMode: true, EchoInterval: 50 * time.Millisecond}

// dropEcho drops forwarded echo packets (UDP 3785) in namespace ns ("" for
// the test's own): the forwarding plane stops looping them back while
// Control packets still flow. The returned function restores the path.
func dropEcho(t *testing.T, ns string) func() {
	t.Helper()
	nft := func(args ...string) []string {
		if ns == "" {
			return append([]string{"nft"}, args...)
		}
		return append([]string{"ip", "netns", "exec", ns, "nft"}, args...)
	}
	run(t, nft("add", "table", "inet", "fbgpecho")...)
	del := nft("delete", "table", "inet", "fbgpecho")
	undo := func() { _ = exec.Command(del[0], del[1:]...).Run() }
	t.Cleanup(undo)
	run(t, nft("add", "chain", "inet", "fbgpecho", "fw", "{ type filter hook forward priority 0; }")...)
	run(t, nft("add", "rule", "inet", "fbgpecho", "fw", "udp", "dport", "3785", "drop")...)
	return undo
}

// sysctl writes a /proc/sys/net value in namespace ns ("" for the test's).
func sysctl(t *testing.T, ns, key, value string) {
	t.Helper()
	args := []string{"sysctl", "-qw", key + "=" + value}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	run(t, args...)
}

// BFD echo mode against FRR's bfdd, both ways. The speaker's echo packets
// go to the router's MAC and come back through its forwarding plane; the
// router's come back through the node's. When the router stops looping
// them, the speaker's session goes Down (Echo Function Failed) within 3
// echo intervals, although Control packets, at 1 s x 3, still flow; when
// the node stops looping the router's, the router's session goes Down the
// same way. The sessions come back when the paths heal.
func TestFRRBFDEcho(t *testing.T) {
	l := newLink(t, 1)
	needLab(t, "nft", "sysctl")
	sysctl(t, l.ns, "net.ipv4.ip_forward", "1")
	sysctl(t, "", "net.ipv4.conf."+l.nodeIf+".forwarding", "1")
	f := startFRR(t, l, frrBGP(l, 64512, l.node4.String(), 64500, "bfd profile echo"), echoBFD)
	rec := newRecorder()
	b, _ := runBackend(t, Options{Recorder: rec})
	b.SetPeers([]bgp.Peer{{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512, BFD: echoProfile}})
	b.SetAdvertisements("r", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}})
	waitEstablished(t, b, "r")
	peer := l.router4.String()
	up := func() error {
		st, _ := peerStatus(b, "r")
		fp, err := f.bfdPeer(l.node4.String())
		if err != nil {
			return err
		}
		if st.BFD != bgp.BFDUp || st.State != bgp.StateEstablished || fp.Status != "up" {
			return fmt.Errorf("ours %s/%s, FRR's %+v", st.State, st.BFD, fp)
		}
		return nil
	}
	eventually(t, 30*time.Second, "BFD up", up)
	fp, _ := f.bfdPeer(l.node4.String())
	if fp.RemoteEchoRx != 50 {
		t.Errorf("FRR sees our Required Min Echo RX as %d ms, want 50 (the node forwards)", fp.RemoteEchoRx)
	}
	// Echo packets flow both ways, about 20 a second each.
	in0, out0 := rec.echoCounters(peer)
	frrIn0, frrOut0 := f.echoCounters(t, l.node4.String())
	time.Sleep(2 * time.Second)
	in1, out1 := rec.echoCounters(peer)
	frrIn1, frrOut1 := f.echoCounters(t, l.node4.String())
	t.Logf("in 2 s: speaker sent %d echo packets, %d came back; FRR sent %d, %d came back", out1-out0, in1-in0, frrOut1-frrOut0, frrIn1-frrIn0)
	if out1-out0 < 20 || in1-in0 < 20 || in1-in0 > out1-out0+2 {
		t.Errorf("speaker's echo: %d sent, %d back in 2 s; want about 40 each", out1-out0, in1-in0)
	}
	if frrOut1-frrOut0 < 20 || frrIn1-frrIn0 < 20 {
		t.Errorf("FRR's echo through the node: %d sent, %d back in 2 s; want about 40 each", frrOut1-frrOut0, frrIn1-frrIn0)
	}
	if err := up(); err != nil {
		t.Fatalf("BFD went down while echo ran: %v", err)
	}

	// The router stops looping the speaker's echo packets.
	t0 := time.Now()
	heal := dropEcho(t, l.ns)
	eventually(t, 5*time.Second, "speaker's BFD down", func() error {
		if _, ok := rec.lastBFD(peer, false, t0); !ok {
			return fmt.Errorf("still up")
		}
		return nil
	})
	at, _ := rec.lastBFD(peer, false, t0)
	t.Logf("speaker's echo failure detected after %v (Control detection time: 3 s)", at.Sub(t0).Round(time.Millisecond))
	if d := at.Sub(t0); d > 500*time.Millisecond {
		t.Errorf("speaker took %v to detect the broken path, want < 500ms (3 echo intervals)", d)
	}
	heal()
	eventually(t, 30*time.Second, "BFD back after the router's path healed", up)

	// The node stops looping the router's echo packets.
	t1 := time.Now()
	heal = dropEcho(t, "")
	eventually(t, 5*time.Second, "router's BFD down", func() error {
		if _, ok := frrStateChange(f, l.node4.String(), t1); !ok {
			return fmt.Errorf("no state change in FRR's log")
		}
		return nil
	})
	at, _ = frrStateChange(f, l.node4.String(), t1)
	t.Logf("router's echo failure detected after %v", at.Sub(t1).Round(time.Millisecond))
	if d := at.Sub(t1); d > 500*time.Millisecond {
		t.Errorf("router took %v to detect the broken path through the node, want < 500ms", d)
	}
	heal()
	eventually(t, 30*time.Second, "BFD back after the node's path healed", up)
}

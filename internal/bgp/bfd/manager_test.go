package bfd

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) { l.mu.Lock(); l.events = append(l.events, e); l.mu.Unlock() }

func (l *eventLog) find(f func(Event) bool) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if f(e) {
			return e, true
		}
	}
	return Event{}, false
}

func runManager(t *testing.T, opts Options) (*Manager, context.CancelFunc) {
	t.Helper()
	m := NewManager(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
	return m, cancel
}

func waitFor(t *testing.T, timeout time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Two managers on the loopback interface, each with the other as peer.
func TestManagersComeUpAndReportAdminDown(t *testing.T) {
	pa, pb := freeUDPPort(t), freeUDPPort(t)
	lo := netip.MustParseAddr("127.0.0.1")
	var evA, evB eventLog
	a, _ := runManager(t, Options{ListenPort: pa, OnEvent: evA.add})
	b, _ := runManager(t, Options{ListenPort: pb, OnEvent: evB.add})
	a.Set("b", Spec{Peer: lo, Port: uint16(pb), Config: fast})
	b.Set("a", Spec{Peer: lo, Port: uint16(pa), Config: fast})
	waitFor(t, 5*time.Second, "both Up", func() bool {
		sa, _ := a.Status("b")
		sb, _ := b.Status("a")
		return sa.State == StateUp && sb.State == StateUp
	})
	if _, ok := evA.find(func(e Event) bool { return e.Key == "b" && e.State == StateUp && e.Peer == lo }); !ok {
		t.Error("no Up event on A")
	}
	sa, _ := a.Status("b")
	waitFor(t, 3*time.Second, "fast rate", func() bool {
		sa, _ = a.Status("b")
		return sa.TxInterval == 100*time.Millisecond
	})
	if sa.DetectionTime != 300*time.Millisecond {
		t.Errorf("detection time %v, want 300ms", sa.DetectionTime)
	}

	// A changes its timers in place: the session stays Up.
	slower := Config{DesiredMinTx: 200 * time.Millisecond, RequiredMinRx: 200 * time.Millisecond, DetectMult: 3}
	a.Set("b", Spec{Peer: lo, Port: uint16(pb), Config: slower})
	waitFor(t, 3*time.Second, "new timers", func() bool {
		sb, _ := b.Status("a")
		return sb.DetectionTime == 600*time.Millisecond
	})
	if _, ok := evA.find(func(e Event) bool { return e.State == StateDown }); ok {
		t.Error("A went down on a timer change")
	}

	// B removes its session: A sees an administrative Down, not a failure.
	b.Remove("a")
	waitFor(t, 3*time.Second, "A down", func() bool {
		_, ok := evA.find(func(e Event) bool { return e.State == StateDown })
		return ok
	})
	e, _ := evA.find(func(e Event) bool { return e.State == StateDown })
	if e.Remote != StateAdminDown || e.Previous != StateUp || e.Diag != DiagNeighborDown {
		t.Errorf("A's down event %+v, want remote AdminDown after Up", e)
	}
	if _, ok := b.Status("a"); ok {
		t.Error("B still reports the removed session")
	}
}

// A manager that stops (the speaker shutting down) tells its peers the
// session is administratively down, so they do not treat it as a failure.
func TestManagerStopSendsAdminDown(t *testing.T) {
	pa, pb := freeUDPPort(t), freeUDPPort(t)
	lo := netip.MustParseAddr("127.0.0.1")
	var evA eventLog
	a, _ := runManager(t, Options{ListenPort: pa, OnEvent: evA.add})
	b, stopB := runManager(t, Options{ListenPort: pb})
	a.Set("b", Spec{Peer: lo, Port: uint16(pb), Config: fast})
	b.Set("a", Spec{Peer: lo, Port: uint16(pa), Config: fast})
	waitFor(t, 5*time.Second, "A fast", func() bool {
		s, _ := a.Status("b")
		return s.State == StateUp && s.DetectionTime == 300*time.Millisecond
	})
	stopB()
	waitFor(t, 2*time.Second, "A down", func() bool {
		_, ok := evA.find(func(e Event) bool { return e.State == StateDown })
		return ok
	})
	e, _ := evA.find(func(e Event) bool { return e.State == StateDown })
	if e.Remote != StateAdminDown {
		t.Fatalf("A's down event %+v, want remote AdminDown", e)
	}
}

// RFC 5881 section 5: single-hop packets must arrive with TTL 255.
func TestManagerDropsLowTTL(t *testing.T) {
	pa := freeUDPPort(t)
	lo := netip.MustParseAddr("127.0.0.1")
	a, _ := runManager(t, Options{ListenPort: pa})
	remote := freeUDPPort(t)
	a.Set("x", Spec{Peer: lo, Port: uint16(remote), Config: fast})
	waitFor(t, 2*time.Second, "session started", func() bool {
		s, ok := a.Status("x")
		return ok && s.LocalDiscr != 0
	})
	send := func(ttl int) {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: pa})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		raw, _ := c.SyscallConn()
		raw.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, ttl) })
		b, _ := (&ControlPacket{Version: 1, State: StateDown, DetectMult: 3, MyDiscr: 77, DesiredMinTx: 1000000, RequiredMinRx: 1000000}).Marshal()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	send(64)
	time.Sleep(200 * time.Millisecond)
	if s, _ := a.Status("x"); s.Received != 0 || s.State != StateDown {
		t.Fatalf("a TTL 64 packet was accepted: %+v", s)
	}
	send(255)
	waitFor(t, 2*time.Second, "TTL 255 accepted", func() bool {
		s, _ := a.Status("x")
		return s.Received == 1 && s.State == StateInit && s.RemoteDiscr == 77
	})
}

// Control packets are counted both ways while the session runs (what the
// speaker exports as metallb_bfd_control_packet_input and _output); a
// replaced session has a new discriminator and counts from zero.
func TestManagerCountsControlPackets(t *testing.T) {
	pa, pb := freeUDPPort(t), freeUDPPort(t)
	lo := netip.MustParseAddr("127.0.0.1")
	a, _ := runManager(t, Options{ListenPort: pa})
	b, _ := runManager(t, Options{ListenPort: pb})
	a.Set("b", Spec{Peer: lo, Port: uint16(pb), Config: fast})
	b.Set("a", Spec{Peer: lo, Port: uint16(pa), Config: fast})
	waitFor(t, 5*time.Second, "both Up at the fast rate", func() bool {
		sa, _ := a.Status("b")
		sb, _ := b.Status("a")
		return sa.State == StateUp && sb.State == StateUp && sa.TxInterval == fast.DesiredMinTx && sb.TxInterval == fast.DesiredMinTx
	})
	first, _ := a.Status("b")
	if first.Sent == 0 || first.Received == 0 {
		t.Fatalf("an Up session counted %d sent and %d received", first.Sent, first.Received)
	}
	// At 100 ms, ten packets each way take about a second.
	waitFor(t, 3*time.Second, "counters grow", func() bool {
		s, _ := a.Status("b")
		return s.Sent >= first.Sent+10 && s.Received >= first.Received+10
	})
	sa, _ := a.Status("b")
	sb, _ := b.Status("a")
	// What A received, B sent (minus at most the packets in flight).
	if sa.Received > sb.Sent+2 || sb.Received > sa.Sent+2 {
		t.Errorf("A sent %d received %d, B sent %d received %d: more received than sent", sa.Sent, sa.Received, sb.Sent, sb.Received)
	}

	// A new transport replaces the session: new discriminator, counters
	// from zero (and B, which no longer hears the old one, goes down).
	a.Set("b", Spec{Peer: lo, Local: lo, Port: uint16(pb), Config: fast})
	var replaced Status
	waitFor(t, 2*time.Second, "session replaced", func() bool {
		replaced, _ = a.Status("b")
		return replaced.LocalDiscr != 0 && replaced.LocalDiscr != sa.LocalDiscr
	})
	if replaced.Sent >= sa.Sent || replaced.Received >= sa.Received {
		t.Errorf("replaced session counts sent %d received %d, the old one had %d and %d", replaced.Sent, replaced.Received, sa.Sent, sa.Received)
	}
}

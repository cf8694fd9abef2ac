package responder

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// TestGratuitousBursts: taking an IP sends a burst at every offset of
// the schedule, never earlier; an ARP burst is a request and a reply, an
// NDP burst is one unsolicited NA.
func TestGratuitousBursts(t *testing.T) {
	schedule := []time.Duration{0, 30 * time.Millisecond, 60 * time.Millisecond}
	h := newHarness(t, Config{Schedule: schedule, LinkLocalSource: true})
	h.r.SetSource(addr("fe80::a"))
	v4, v6 := addr("198.51.100.10"), addr("2001:db8::1")
	start := time.Now()
	h.set(v4.String(), v6.String())

	garpRequest := sent{EthDst: wire.Broadcast, EthSrc: me, ARP: &wire.ARP{Op: wire.ARPRequest, SenderMAC: me, SenderIP: v4, TargetIP: v4}}
	garpReply := sent{EthDst: wire.Broadcast, EthSrc: me, ARP: &wire.ARP{Op: wire.ARPReply, SenderMAC: me, SenderIP: v4, TargetMAC: me, TargetIP: v4}}
	unsolicited := sent{EthDst: wire.MulticastMAC(wire.AllNodes), EthSrc: me, IPSrc: addr("fe80::a"), IPDst: wire.AllNodes, HopLimit: 255,
		NA: &wire.NeighborAdvertisement{Override: true, Target: v6, TargetLL: &me}}

	for i, offset := range schedule {
		for _, want := range []sent{garpRequest, garpReply} {
			got := parseSent(t, h.next(h.arp))
			if el := time.Since(start); el < offset {
				t.Errorf("ARP burst %d after %v, scheduled at %v", i, el, offset)
			}
			if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
				t.Errorf("ARP burst %d (-want +got):\n%s", i, diff)
			}
		}
		got := parseSent(t, h.next(h.ndp))
		if el := time.Since(start); el < offset {
			t.Errorf("NDP burst %d after %v, scheduled at %v", i, el, offset)
		}
		if diff := cmp.Diff(unsolicited, got, cmpAddr); diff != "" {
			t.Errorf("NDP burst %d (-want +got):\n%s", i, diff)
		}
	}
	waitFor(t, "all bursts counted", func() bool {
		_, _, g4 := h.rec.get(v4)
		_, _, g6 := h.rec.get(v6)
		return g4 == 2*len(schedule) && g6 == len(schedule)
	})
	waitFor(t, "schedule finished", func() bool { return pendingCount(h.r) == 0 })
	h.none(h.arp)
	h.none(h.ndp)

	// Owning the same set again is not a new ownership: no new burst.
	h.set(v4.String(), v6.String())
	if n := pendingCount(h.r); n != 0 {
		t.Errorf("re-setting the same IPs queued %d announcements", n)
	}
	// Giving an IP up and taking it again announces it again.
	h.set(v6.String())
	h.set(v4.String(), v6.String())
	if got := parseSent(t, h.next(h.arp)); got.ARP.SenderIP != v4 || got.ARP.Op != wire.ARPRequest {
		t.Errorf("re-taken IP: first frame %+v, want a gratuitous request for %v", got.ARP, v4)
	}
}

// TestGratuitousStopsOnRemoval: once an IP is removed its remaining bursts
// are dropped.
func TestGratuitousStopsOnRemoval(t *testing.T) {
	h := newHarness(t, Config{Schedule: []time.Duration{0, 200 * time.Millisecond, 400 * time.Millisecond}})
	h.set("198.51.100.10")
	h.next(h.arp)
	h.next(h.arp)
	h.set()
	if n := pendingCount(h.r); n != 0 {
		t.Fatalf("%d announcements still pending after removal", n)
	}
	// Wait past the whole schedule: nothing more may come out.
	time.Sleep(500 * time.Millisecond)
	h.none(h.arp)
	if _, _, g := h.rec.get(addr("198.51.100.10")); g != 2 {
		t.Errorf("%d gratuitous frames counted, want 2 (one burst)", g)
	}
}

// TestDueAnnouncements checks the scheduling arithmetic with explicit
// times: a late loop sends one burst for several passed offsets.
func TestDueAnnouncements(t *testing.T) {
	r, err := New(Config{Interface: "eth0", MAC: me, ARP: newPipe(),
		Schedule: []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ip := addr("198.51.100.10")
	r.owned[ip] = struct{}{}
	r.pending[ip] = &announcement{start: t0}
	steps := []struct {
		at       time.Duration
		wantDue  bool
		wantNext time.Duration // -1: nothing pending
	}{
		{0, true, 100 * time.Millisecond},
		{50 * time.Millisecond, false, 100 * time.Millisecond},
		{100 * time.Millisecond, true, 300 * time.Millisecond},
		{900 * time.Millisecond, true, time.Second}, // 300 ms passed long ago: one burst
		{time.Second, true, -1},
		{2 * time.Second, false, -1},
	}
	for _, s := range steps {
		due, next := r.dueAnnouncements(t0.Add(s.at))
		if got := len(due) == 1; got != s.wantDue {
			t.Errorf("at %v: due %v, want due=%v", s.at, due, s.wantDue)
		}
		switch {
		case s.wantNext < 0 && !next.IsZero():
			t.Errorf("at %v: next %v, want none", s.at, next.Sub(t0))
		case s.wantNext >= 0 && !next.Equal(t0.Add(s.wantNext)):
			t.Errorf("at %v: next %v, want %v", s.at, next.Sub(t0), s.wantNext)
		}
	}
}

func TestDefaultSchedule(t *testing.T) {
	if len(DefaultSchedule) == 0 || DefaultSchedule[0] != 0 {
		t.Fatalf("DefaultSchedule %v must start at once", DefaultSchedule)
	}
	for i := 1; i < len(DefaultSchedule); i++ {
		if DefaultSchedule[i] <= DefaultSchedule[i-1] {
			t.Fatalf("DefaultSchedule %v is not increasing", DefaultSchedule)
		}
	}
	r, err := New(Config{Interface: "eth0", MAC: me, ARP: newPipe()})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(r.schedule, DefaultSchedule) {
		t.Errorf("nil Schedule gave %v, want DefaultSchedule", r.schedule)
	}
}

func pendingCount(r *Responder) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

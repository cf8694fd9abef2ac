package membership

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	testDead   = 400 * time.Millisecond
	testForget = 60 * time.Second
)

// step is one line of a tracker script: at a time offset, do something,
// then (if want is set) check the status.
type step struct {
	at   time.Duration
	do   func(*Tracker)
	want *Status
}

func join(names ...string) func(*Tracker) {
	return func(t *Tracker) {
		for _, n := range names {
			t.Joined(n, true)
		}
	}
}
func joinLegacy(n string) func(*Tracker) { return func(t *Tracker) { t.Joined(n, false) } }
func hb(names ...string) func(*Tracker) {
	return func(t *Tracker) {
		for _, n := range names {
			t.Heard(n, true)
		}
	}
}
func hbDeaf(names ...string) func(*Tracker) { // heartbeats saying "I don't hear you"
	return func(t *Tracker) {
		for _, n := range names {
			t.Heard(n, false)
		}
	}
}
func fail(names ...string) func(*Tracker) {
	return func(t *Tracker) {
		for _, n := range names {
			t.Left(n)
		}
	}
}
func goodbye(n string) func(*Tracker) { return func(t *Tracker) { t.Goodbye(n) } }
func leave(n string) func(*Tracker)   { return func(t *Tracker) { t.Goodbye(n); t.Left(n) } }

func st(known, reachable int, isolated bool, live ...string) *Status {
	return &Status{Live: live, Known: known, Reachable: reachable, Isolated: isolated}
}

func runScript(t *testing.T, steps []step, warmup ...time.Duration) {
	t.Helper()
	clk := &fakeClock{now: t0}
	tr := NewTracker("a", testDead, testForget, clk)
	for _, w := range warmup {
		tr.SetWarmup(w)
	}
	for i, s := range steps {
		clk.now = t0.Add(s.at)
		if s.do != nil {
			s.do(tr)
		}
		if s.want != nil {
			if diff := cmp.Diff(*s.want, tr.Status()); diff != "" {
				t.Fatalf("step %d (t=%v): status (-want +got):\n%s", i, s.at, diff)
			}
		}
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestTrackerLiveness(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{{
		name: "a new member is live at once and dies after D of silence",
		steps: []step{
			{at: 0, want: st(1, 1, false, "a")},
			{at: 0, do: join("b"), want: st(2, 2, false, "a", "b")},
			{at: ms(399), want: st(2, 2, false, "a", "b")},
			{at: ms(400), want: st(2, 1, false, "a")},
		},
	}, {
		name: "heartbeats keep a peer live; D without one kills it; the next revives it",
		steps: []step{
			{at: 0, do: join("b")},
			{at: ms(300), do: hb("b")},
			{at: ms(699), want: st(2, 2, false, "a", "b")},
			{at: ms(700), want: st(2, 1, false, "a")},
			{at: ms(750), do: hb("b"), want: st(2, 2, false, "a", "b")},
		},
	}, {
		name: "memberlist's verdict of death wins over a fresh heartbeat",
		steps: []step{
			{at: 0, do: join("b")},
			{at: ms(100), do: hb("b")},
			{at: ms(150), do: fail("b"), want: st(2, 1, false, "a")},
			{at: ms(200), do: hb("b"), want: st(2, 1, false, "a")},
		},
	}, {
		name: "a failed peer that rejoins is live again at once, then needs heartbeats",
		steps: []step{
			{at: 0, do: join("b")},
			{at: ms(100), do: fail("b"), want: st(2, 1, false, "a")},
			{at: ms(5000), do: join("b"), want: st(2, 2, false, "a", "b")},
			{at: ms(5300), do: hb("b")},
			{at: ms(5699), want: st(2, 2, false, "a", "b")},
			{at: ms(5700), want: st(2, 1, false, "a")},
		},
	}, {
		name: "a graceful leaver is forgotten at once; a failed peer after ForgetAfter",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(10), do: leave("b"), want: st(2, 2, false, "a", "c")},
			{at: ms(20), do: fail("c"), want: st(2, 1, false, "a")},
			{at: ms(20) + testForget - 1, want: st(2, 1, false, "a")},
			{at: ms(20) + testForget, want: st(1, 1, false, "a")},
		},
	}, {
		name: "a goodbye drops the peer from live and known before memberlist's leave",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(10), do: goodbye("b"), want: st(2, 2, false, "a", "c")},
			{at: ms(20), do: fail("b"), want: st(2, 2, false, "a", "c")},
			{at: ms(30), do: hb("c"), want: st(2, 2, false, "a", "c")},
		},
	}, {
		name: "a heartbeat after a goodbye means the peer stayed",
		steps: []step{
			{at: 0, do: join("b")},
			{at: ms(10), do: goodbye("b"), want: st(1, 1, false, "a")},
			{at: ms(20), do: hb("b"), want: st(2, 2, false, "a", "b")},
			{at: ms(30), do: fail("b"), want: st(2, 1, false, "a")},
		},
	}, {
		name: "a peer that said goodbye and rejoins before memberlist noticed is live",
		steps: []step{
			{at: 0, do: join("b")},
			{at: ms(10), do: goodbye("b")},
			{at: ms(20), do: join("b"), want: st(2, 2, false, "a", "b")},
		},
	}, {
		name: "heartbeats from names memberlist never listed are ignored",
		steps: []step{
			{at: 0, do: hb("x"), want: st(1, 1, false, "a")},
			{at: ms(10), do: join("x"), want: st(2, 2, false, "a", "x")},
		},
	}, {
		name: "a member without heartbeat support (MetalLB) is live while memberlist lists it",
		steps: []step{
			{at: 0, do: joinLegacy("m"), want: st(2, 2, false, "a", "m")},
			{at: ms(10000), want: st(2, 2, false, "a", "m")},
			{at: ms(10001), do: fail("m"), want: st(2, 1, false, "a")},
		},
	}, {
		name: "an update does not reset a dead peer's silence",
		steps: []step{
			{at: 0, do: join("b")},
			{at: ms(500), do: join("b"), want: st(2, 1, false, "a")},
		},
	}, {
		name: "events about this speaker are ignored",
		steps: []step{
			{at: 0, do: join("a"), want: st(1, 1, false, "a")},
			{at: ms(1), do: fail("a"), want: st(1, 1, false, "a")},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.steps) })
	}
}

func TestTrackerQuorum(t *testing.T) {
	tests := []struct {
		name   string
		warmup time.Duration
		steps  []step
	}{{
		name: "1 speaker: alone, never isolated",
		steps: []step{
			{at: ms(10000), want: st(1, 1, false, "a")},
		},
	}, {
		name: "2 speakers: no majority can exist, the guard is off",
		steps: []step{
			{at: 0, do: join("b")},
			{at: ms(500), want: st(2, 1, false, "a")},
		},
	}, {
		name: "3 speakers: one silent keeps the majority",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(300), do: hb("b")},
			{at: ms(600), want: st(3, 2, false, "a", "b")},
		},
	}, {
		// Hearing no peer at all may be our own stall (queued heartbeats
		// not read yet): the verdict waits a second deadAfter.
		name: "3 speakers: hearing nobody isolates after twice deadAfter, a heartbeat restores",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(399), want: st(3, 3, false, "a", "b", "c")},
			{at: ms(400), want: st(3, 3, false, "a", "b", "c")},
			{at: ms(799), want: st(3, 3, false, "a", "b", "c")},
			{at: ms(800), want: st(3, 1, true, "a")},
			{at: ms(900), do: hb("c"), want: st(3, 2, false, "a", "c")},
		},
	}, {
		name: "3 speakers: one silent peer among heard ones dies on time",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(300), do: hb("c"), want: st(3, 3, false, "a", "b", "c")},
			{at: ms(400), want: st(3, 2, false, "a", "c")},
		},
	}, {
		name:   "warm-up: a returning peer counts for quorum at once but is live for election only after the warm-up",
		warmup: ms(1000),
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(300), do: hb("b", "c"), want: st(3, 3, false, "a")},
			{at: ms(600), do: hb("b", "c")},
			{at: ms(900), do: hb("b", "c"), want: st(3, 3, false, "a")},
			{at: ms(999), want: st(3, 3, false, "a")},
			{at: ms(1000), do: hb("b", "c"), want: st(3, 3, false, "a", "b", "c")},
			{at: ms(1300), do: hb("c"), want: st(3, 3, false, "a", "b", "c")},
			{at: ms(1700), do: hb("c"), want: st(3, 2, false, "a", "c")},
			{at: ms(1800), do: hb("b", "c"), want: st(3, 3, false, "a", "c")},
			{at: ms(2100), do: hb("b", "c")},
			{at: ms(2400), do: hb("b", "c")},
			{at: ms(2700), do: hb("b", "c")},
			{at: ms(2799), want: st(3, 3, false, "a", "c")},
			{at: ms(2800), do: hb("b", "c"), want: st(3, 3, false, "a", "b", "c")},
		},
	}, {
		name: "3 speakers: one silent peer among heard ones dies on time (no warm-up)",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(300), do: hb("c"), want: st(3, 3, false, "a", "b", "c")},
			{at: ms(400), want: st(3, 2, false, "a", "c")},
		},
	}, {
		name: "3 speakers: peers we hear but that do not hear us do not count (outgoing path broken)",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(100), do: hbDeaf("b", "c"), want: st(3, 1, true, "a", "b", "c")},
			{at: ms(200), do: hb("b"), want: st(3, 2, false, "a", "b", "c")},
		},
	}, {
		name: "3 speakers: failed peers stay known for ForgetAfter, then the guard lifts",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(5000), do: fail("b", "c"), want: st(3, 1, true, "a")},
			{at: ms(5000) + testForget, want: st(1, 1, false, "a")},
		},
	}, {
		name: "3 speakers: graceful leavers shrink the cluster at once",
		steps: []step{
			{at: 0, do: join("b", "c")},
			{at: ms(10), do: leave("b")},
			{at: ms(20), do: leave("c"), want: st(1, 1, false, "a")},
		},
	}, {
		name: "4 speakers: a 2-2 split isolates both halves",
		steps: []step{
			{at: 0, do: join("b", "c", "d")},
			{at: ms(300), do: hb("b")},
			{at: ms(600), want: st(4, 2, true, "a", "b")},
			{at: ms(650), do: hb("c"), want: st(4, 3, false, "a", "b", "c")},
		},
	}, {
		name: "5 speakers: losing 2 keeps the majority, losing 3 isolates",
		steps: []step{
			{at: 0, do: join("b", "c", "d", "e")},
			{at: ms(300), do: hb("b", "c")},
			{at: ms(500), want: st(5, 3, false, "a", "b", "c")},
			{at: ms(600), do: hb("b")},
			{at: ms(700), want: st(5, 2, true, "a", "b")},
			{at: ms(800), do: hb("c", "d", "e"), want: st(5, 5, false, "a", "b", "c", "d", "e")},
		},
	}, {
		name: "5 speakers with a MetalLB member: it counts while memberlist lists it",
		steps: []step{
			{at: 0, do: join("b", "c", "d")},
			{at: 0, do: joinLegacy("m")},
			{at: ms(300), do: hb("b")},
			{at: ms(600), want: st(5, 3, false, "a", "b", "m")},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.steps, tc.warmup) })
	}
}

func TestTrackerHeardReportsTransitions(t *testing.T) {
	clk := &fakeClock{now: t0}
	tr := NewTracker("a", testDead, testForget, clk)
	tr.Joined("b", true)
	var got []string
	record := func(at time.Duration, hearsUs bool) {
		clk.now = t0.Add(at)
		got = append(got, fmt.Sprintf("%v:%v", at, tr.Heard("b", hearsUs)))
	}
	record(ms(100), true)  // still live: no change
	record(ms(600), true)  // was dead (500 ms of silence): revived
	record(ms(700), false) // stops hearing us: two-way contact changes
	record(ms(800), false) // steady
	record(ms(900), true)  // hears us again
	want := []string{"100ms:false", "600ms:true", "700ms:true", "800ms:false", "900ms:true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Heard results (-want +got):\n%s", diff)
	}
	if !tr.Hears("b") || tr.Hears("x") {
		t.Errorf("Hears(b)=%v Hears(x)=%v, want true false", tr.Hears("b"), tr.Hears("x"))
	}
	clk.now = t0.Add(ms(1300))
	if tr.Hears("b") {
		t.Error("Hears(b) after D of silence = true")
	}
	if tr.Heard("unknown", true) {
		t.Error("Heard(unknown) reported a change")
	}
}

package speaker

import (
	"slices"
	"testing"
	"time"
)

func TestCoalescerWidensDuringBursts(t *testing.T) {
	var c coalescer
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	base, limit := 5*ms, 100*ms

	// A lone event runs at once; a second one inside the window waits
	// for its end.
	if d := c.delay(t0, base, limit); d != 0 {
		t.Fatalf("first event delayed %v", d)
	}
	if d := c.delay(t0.Add(2*ms), base, limit); d != 3*ms {
		t.Fatalf("event inside the window: delay %v, want 3ms", d)
	}

	// Events arriving as each window closes: windows double up to the
	// widest the burst's age allows (an eighth of it) and the limit, and
	// each event waits for the end of the new window (one pass per
	// window).
	at := t0
	cur := base
	var got []time.Duration
	for i := range 12 {
		at = at.Add(cur) // the moment the window closes
		d := c.delay(at, base, limit)
		widest := min(max(at.Sub(t0)/8, base), limit)
		if d != min(max(2*cur, base), widest) {
			t.Fatalf("step %d (burst %v old): event at a window's end delayed %v, want min(2x%v, %v)", i, at.Sub(t0), d, cur, widest)
		}
		if d2 := c.delay(at.Add(ms), base, limit); d2 != d-ms {
			t.Fatalf("step %d: window is %v, want %v", i, d2+ms, d)
		}
		got = append(got, d/ms)
		cur = d
	}
	// The first windows stay narrow (the burst is young), then grow to the limit.
	if want := []time.Duration{5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("windows (ms) %v, want %v", got, want)
	}
	for i := 0; cur < limit && i < 100; i++ {
		at = at.Add(cur)
		cur = c.delay(at, base, limit)
	}
	if cur != limit {
		t.Fatalf("a long burst's window is %v, want the limit %v", cur, limit)
	}
	at = at.Add(cur)
	if d := c.delay(at, base, limit); d != limit {
		t.Fatalf("window past the limit: %v", d)
	}

	// After a quiet spell (twice the window), back to the base window.
	at = at.Add(3 * cur)
	if d := c.delay(at, base, limit); d != 0 {
		t.Fatalf("after quiet: delayed %v", d)
	}
	if d := c.delay(at.Add(ms), base, limit); d != 4*ms {
		t.Fatalf("after quiet: window %v, want the base 5ms", d+ms)
	}

	// No limit: never delayed.
	var off coalescer
	for i := range 3 {
		if d := off.delay(t0.Add(time.Duration(i)*ms), base, 0); d != 0 {
			t.Fatalf("coalescing disabled but delayed %v", d)
		}
	}
}

// A burst's windows are bounded by an eighth of its age: one second into
// a burst, at most 125 ms, however high the limit.
func TestCoalescerWindowBoundedByBurstAge(t *testing.T) {
	var c coalescer
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	base, limit := 5*ms, 500*ms
	c.delay(t0, base, limit)
	at, cur := t0, base
	for at.Sub(t0) < time.Second {
		at = at.Add(cur)
		cur = c.delay(at, base, limit)
		if cur > max(at.Sub(t0)/8, base) {
			t.Fatalf("%v into the burst: window %v, more than an eighth", at.Sub(t0), cur)
		}
	}
	if cur < 100*ms {
		t.Errorf("a second into the burst the window is only %v", cur)
	}
	// Four seconds in: the limit.
	for at.Sub(t0) < 4*time.Second+limit {
		at = at.Add(cur)
		cur = c.delay(at, base, limit)
	}
	if cur != limit {
		t.Errorf("four seconds into the burst: window %v, want %v", cur, limit)
	}
}

// A long burst whose events arrive unevenly (every 3 ms, with a 30 ms
// stall every 200 ms: creators waiting on the API server) stays one
// burst: its windows grow and ten seconds of events cost a few dozen
// passes, not hundreds.
func TestCoalescerUnevenBurstStaysOneBurst(t *testing.T) {
	var c coalescer
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	passes, immediate := 0, 0
	var start time.Time
	for at := t0; at.Before(t0.Add(10 * time.Second)); at = at.Add(3 * ms) {
		if at.Sub(t0)%(200*ms) < 3*ms {
			at = at.Add(30 * ms)
		}
		d := c.delay(at, 5*ms, 500*ms)
		if d == 0 {
			immediate++
		}
		if !c.start.Equal(start) { // a new window: one pass
			passes++
			start = c.start
		}
	}
	if immediate != 1 {
		t.Errorf("%d events ran at once; want only the burst's first", immediate)
	}
	if passes > 60 {
		t.Errorf("%d passes for a 10 s burst; want a few dozen", passes)
	}
	if c.cur != 500*ms {
		t.Errorf("window at the end of the burst %v; want the limit", c.cur)
	}
}

package speaker

import (
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

	// Events arriving as each window closes: windows double to the limit,
	// and each event waits for the end of the new window (one pass per
	// window).
	at := t0
	want := []time.Duration{10, 20, 40, 80, 100, 100}
	cur := base
	for i, w := range want {
		at = at.Add(cur) // the moment the window closes
		if d := c.delay(at, base, limit); d != w*ms {
			t.Fatalf("step %d: event at a window's end delayed %v, want the new window %v", i, d, w*ms)
		}
		if d := c.delay(at.Add(ms), base, limit); d != w*ms-ms {
			t.Fatalf("step %d: window is %v, want %v", i, d+ms, w*ms)
		}
		cur = w * ms
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

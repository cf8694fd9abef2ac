package speaker

import (
	"sync"
	"time"
)

// coalescer decides when an object event triggers a pass. After a quiet
// spell the first event opens a window and is applied at once (a lone
// change takes effect within milliseconds); further events in the window
// wait for its end. When events keep arriving right as windows close (a
// burst), the next window is twice the previous one and its pass runs at
// its end: a burst of thousands of objects costs one pass per window
// rather than one every few milliseconds. A burst ends with a quiet spell
// of twice the window, and at least quietSpell.
//
// How wide a window may grow depends on how long the burst has lasted: at
// most an eighth of its age so far (and never more than the limit). A
// short burst (a chart creating a few Services) keeps narrow windows and
// applies within tens of milliseconds; a long one (a thousand Services)
// pays at most an eighth of its own length in extra delay for far fewer
// passes, which leaves the CPU to the API server and the other nodes'
// work during the burst.
type coalescer struct {
	mu    sync.Mutex
	burst time.Time     // when the current burst began (its first window)
	start time.Time     // when the current window opened
	cur   time.Duration // its length
}

// burstShare is the widest window as a share of the burst's age.
const burstShare = 8

// quietSpell is the shortest gap after a window that ends a burst: a
// burst's events arrive unevenly (creators waiting on the API server), and
// a stall of a few milliseconds must not restart it with narrow windows.
const quietSpell = 100 * time.Millisecond

// delay returns how long the pass for an event at now waits: 0 to run it
// at once. base is the window after a quiet spell; limit bounds the
// widening (limit <= 0 disables coalescing).
func (c *coalescer) delay(now time.Time, base, limit time.Duration) time.Duration {
	if limit <= 0 || base <= 0 {
		return 0
	}
	base = min(base, limit)
	c.mu.Lock()
	defer c.mu.Unlock()
	since := now.Sub(c.start)
	if since < c.cur {
		return c.cur - since
	}
	c.start = now
	if since < max(2*c.cur, quietSpell) {
		// Still busy: the previous window closed moments ago, with its
		// pass. This event waits for the end of a wider window, so a
		// burst costs one pass per window.
		widest := max(min(now.Sub(c.burst)/burstShare, limit), base)
		c.cur = min(max(2*c.cur, base), widest)
		return c.cur
	}
	c.burst = now
	c.cur = base
	return 0
}

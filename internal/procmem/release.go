package procmem

import (
	"context"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Releaser hands the memory a burst of work left behind back to the
// operating system once the process has been quiet for a while: the Go
// runtime keeps freed heap pages for reuse and returns them only slowly,
// so after a burst of thousands of objects a daemon would otherwise sit on
// its peak for minutes. One forced collection per burst, none while idle.
//
// With SetGC set, the Releaser also switches the garbage collector between
// two targets: BusyGC while work goes on (fewer collections, so a burst
// costs less CPU) and RestGC once quiet (a heap close to its live size for
// the long stretches in between).
type Releaser struct {
	// Quiet is how long after the last Touch the memory is released.
	Quiet time.Duration
	// Release frees memory; default debug.FreeOSMemory.
	Release func()
	// AfterRelease, if set, runs after each release: the end of start-up
	// (caches synced, first passes done), then the end of each burst.
	AfterRelease func()
	// SetGC sets the GC target percentage (debug.SetGCPercent); nil
	// leaves it alone. BusyGC and RestGC are the two targets.
	SetGC          func(percent int)
	BusyGC, RestGC int

	last     atomic.Int64 // unix nanoseconds of the last Touch
	released atomic.Int64 // value of last when memory was last released
	busy     atomic.Bool
}

// Touch records activity.
func (r *Releaser) Touch() {
	r.last.Store(time.Now().UnixNano())
	if r.SetGC != nil && r.busy.CompareAndSwap(false, true) {
		r.SetGC(r.BusyGC)
	}
}

// Start checks for a quiet spell after activity until ctx ends.
func (r *Releaser) Start(ctx context.Context) error {
	quiet := r.Quiet
	if quiet <= 0 {
		quiet = 3 * time.Second
	}
	release := r.Release
	if release == nil {
		release = debug.FreeOSMemory
	}
	tick := time.NewTicker(quiet / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		last := r.last.Load()
		if last == 0 || last == r.released.Load() || time.Since(time.Unix(0, last)) < quiet {
			continue
		}
		if r.SetGC != nil && r.busy.CompareAndSwap(true, false) {
			r.SetGC(r.RestGC)
		}
		release()
		if r.AfterRelease != nil {
			r.AfterRelease()
		}
		r.released.Store(last)
	}
}

// NeedLeaderElection lets the releaser run on every replica.
func (r *Releaser) NeedLeaderElection() bool { return false }

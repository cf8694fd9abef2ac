package procmem

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestReleaserOncePerQuietSpell(t *testing.T) {
	var n, startup atomic.Int32
	r := &Releaser{Quiet: 60 * time.Millisecond, Release: func() { n.Add(1) }, AfterStartup: func() { startup.Add(1) }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	time.Sleep(200 * time.Millisecond)
	if got := n.Load(); got != 0 {
		t.Fatalf("released %d times without any activity", got)
	}
	// Activity every 20 ms for 200 ms: never quiet long enough.
	for range 10 {
		r.Touch()
		time.Sleep(20 * time.Millisecond)
	}
	if got := n.Load(); got != 0 {
		t.Fatalf("released %d times during the burst", got)
	}
	waitCount(t, &n, 1)
	time.Sleep(200 * time.Millisecond)
	if got := n.Load(); got != 1 {
		t.Fatalf("released %d times after one burst, want 1", got)
	}
	r.Touch()
	waitCount(t, &n, 2)
	if got := startup.Load(); got != 1 {
		t.Fatalf("AfterStartup ran %d times, want once", got)
	}
}

func waitCount(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	for range 100 {
		if n.Load() == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("released %d times, want %d within 1 s", n.Load(), want)
}

package procmem

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReleaserOncePerQuietSpell(t *testing.T) {
	var n, after atomic.Int32
	r := &Releaser{Quiet: 60 * time.Millisecond, Release: func() { n.Add(1) }, AfterRelease: func() { after.Add(1) }}
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
	if got := after.Load(); got != 2 {
		t.Fatalf("AfterRelease ran %d times after two bursts, want 2", got)
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

func TestReleaserSwitchesGCTargets(t *testing.T) {
	var mu sync.Mutex
	var got []int
	r := &Releaser{Quiet: 60 * time.Millisecond, Release: func() {}, BusyGC: 100, RestGC: 25,
		SetGC: func(p int) { mu.Lock(); got = append(got, p); mu.Unlock() }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	seen := func() []int { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
	for range 5 { // one switch per burst, not per Touch
		r.Touch()
	}
	if s := seen(); !slices.Equal(s, []int{100}) {
		t.Fatalf("after a burst started: %v, want [100]", s)
	}
	for range 100 {
		if len(seen()) == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.Touch()
	if s := seen(); !slices.Equal(s, []int{100, 25, 100}) {
		t.Fatalf("burst, rest, burst: %v, want [100 25 100]", s)
	}
}

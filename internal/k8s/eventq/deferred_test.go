package eventq

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
)

func TestDeferredEventsNothingLostAndHeldBackWhileBusy(t *testing.T) {
	rec := record.NewFakeRecorder(1000)
	d := NewDeferred(rec)
	d.trickle = 20 * time.Millisecond
	d.busyFor.Store(int64(time.Hour)) // busy for the whole first phase
	d.Wrote()
	svc := &corev1.Service{}
	for i := range 50 {
		d.Event(svc, corev1.EventTypeNormal, "IPAllocated", fmt.Sprint(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Start(ctx) }()

	time.Sleep(200 * time.Millisecond)
	if n := len(rec.Events); n < 2 || n > 15 {
		t.Errorf("while busy: %d events out after 200 ms at one per 20 ms, want about 10", n)
	}
	// The burst is over: the backlog drains at once, in order.
	d.busyFor.Store(0)
	d.Event(svc, corev1.EventTypeNormal, "IPAllocated", "50")
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.Events) < 51 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(rec.Events) != 51 {
		t.Fatalf("%d events delivered, want all 51", len(rec.Events))
	}
	for i := range 51 {
		if got, want := <-rec.Events, fmt.Sprintf("Normal IPAllocated %d", i); got != want {
			t.Fatalf("event %d = %q, want %q (order kept)", i, got, want)
		}
	}
}

package eventq

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"
)

// heldBack returns a Deferred writing to rec, busy for an hour, with n
// events of reason (messages "0" .. "n-1") queued.
func heldBack(rec record.EventRecorder, n int, reason string) *Deferred {
	d := NewDeferred(rec, nil)
	d.busyFor.Store(int64(time.Hour))
	d.Wrote()
	for i := range n {
		d.Event(&corev1.Service{}, corev1.EventTypeNormal, reason, fmt.Sprint(i))
	}
	return d
}

// start runs d until stop is called; stop returns what Start returned.
func start(d *Deferred) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Start(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// waitEvents waits, up to 5 s, until rec holds n events.
func waitEvents(rec *record.FakeRecorder, n int) {
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.Events) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// expectInOrder reads n events of reason from rec, messages "0" .. "n-1".
func expectInOrder(t *testing.T, rec *record.FakeRecorder, n int, reason string) {
	t.Helper()
	for i := range n {
		if got, want := <-rec.Events, fmt.Sprintf("Normal %s %d", reason, i); got != want {
			t.Fatalf("event %d = %q, want %q (order kept)", i, got, want)
		}
	}
}

// stopAndExpectAll stops the queue and checks that all n events of reason
// were delivered, in order.
func stopAndExpectAll(t *testing.T, stop func() error, rec *record.FakeRecorder, n int, reason string) {
	t.Helper()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(rec.Events) != n {
		t.Fatalf("%d events delivered after stop, want all %d", len(rec.Events), n)
	}
	expectInOrder(t, rec, n, reason)
}

func TestDeferredEventsNothingLostAndHeldBackWhileBusy(t *testing.T) {
	rec := record.NewFakeRecorder(1000)
	d := heldBack(rec, 50, "IPAllocated") // busy for the whole first phase
	stop := start(d)
	time.Sleep(200 * time.Millisecond)
	if n := len(rec.Events); n != 0 {
		t.Errorf("while busy: %d events out, want all held", n)
	}
	// The burst is over: the backlog drains, in order.
	d.busyFor.Store(0)
	d.Event(&corev1.Service{}, corev1.EventTypeNormal, "IPAllocated", "50")
	waitEvents(rec, 51)
	stopAndExpectAll(t, stop, rec, 51, "IPAllocated")
}

// The hold is bounded: while the component stays busy, events older than
// maxHold go out at the trickle pace, in order.
func TestDeferredHoldIsBounded(t *testing.T) {
	rec := record.NewFakeRecorder(1000)
	d := heldBack(rec, 40, "nodeAssigned")
	d.maxHold = 100 * time.Millisecond
	d.trickle = 20 * time.Millisecond
	stop := start(d)
	time.Sleep(50 * time.Millisecond)
	if n := len(rec.Events); n != 0 {
		t.Errorf("%d events out before the hold ran out", n)
	}
	time.Sleep(350 * time.Millisecond)
	n := len(rec.Events)
	// ~300 ms past the hold at one per 20 ms: about 15; never all 40.
	if n < 3 || n > 25 {
		t.Errorf("%d events out 300 ms after the hold ran out at one per 20 ms, want about 15", n)
	}
	// Stopping flushes the rest, in order.
	stopAndExpectAll(t, stop, rec, 40, "nodeAssigned")
}

// Without activity, events go out at once.
func TestDeferredIdleSendsAtOnce(t *testing.T) {
	rec := record.NewFakeRecorder(10)
	d := NewDeferred(rec, nil)
	stop := start(d)
	defer stop()
	d.Event(&corev1.Service{}, corev1.EventTypeNormal, "IPAllocated", "x")
	select {
	case got := <-rec.Events:
		if got != "Normal IPAllocated x" {
			t.Errorf("got %q", got)
		}
	case <-time.After(time.Second):
		t.Fatal("an event while idle did not go out within a second")
	}
}

// With a scheme, a queued event holds a reference to its object, not the
// object, and the reference names it for the recorder.
func TestDeferredKeepsReferencesOnly(t *testing.T) {
	rec := &capture{}
	d := NewDeferred(rec, scheme.Scheme)
	d.busyFor.Store(int64(time.Hour))
	d.Wrote()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "u1", ResourceVersion: "7"}}
	d.Event(svc, corev1.EventTypeNormal, "nodeAssigned", "m")
	d.mu.Lock()
	held := d.queue[0].obj
	d.mu.Unlock()
	ref, ok := held.(*corev1.ObjectReference)
	if !ok {
		t.Fatalf("queued %T, want *v1.ObjectReference", held)
	}
	want := corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: "ns", Name: "web", UID: "u1", ResourceVersion: "7"}
	if *ref != want {
		t.Errorf("reference %+v, want %+v", *ref, want)
	}
	d.flush()
	if len(rec.objs) != 1 || rec.objs[0] != held {
		t.Errorf("recorder got %v, want the reference", rec.objs)
	}
}

type capture struct{ objs []runtime.Object }

func (c *capture) Event(obj runtime.Object, _, _, _ string) { c.objs = append(c.objs, obj) }
func (c *capture) Eventf(obj runtime.Object, _, _, _ string, _ ...any) {
	c.objs = append(c.objs, obj)
}
func (c *capture) AnnotatedEventf(obj runtime.Object, _ map[string]string, _, _, _ string, _ ...any) {
	c.objs = append(c.objs, obj)
}

// A backlog drains at the drain pace, not all at once: the recorder
// behind queues at most 1,000 events and drops the rest.
func TestDeferredBacklogDrainsAtAPace(t *testing.T) {
	rec := record.NewFakeRecorder(100)
	d := heldBack(rec, 40, "IPAllocated")
	d.drain = 20 * time.Millisecond
	stop := start(d)
	d.busyFor.Store(0) // the burst is over
	d.Event(&corev1.Service{}, corev1.EventTypeNormal, "IPAllocated", "40")
	time.Sleep(200 * time.Millisecond)
	if n := len(rec.Events); n < 3 || n > 15 {
		t.Errorf("%d events out 200 ms into the drain at one per 20 ms, want about 10", n)
	}
	waitEvents(rec, 41)
	stop()
	if len(rec.Events) != 41 {
		t.Fatalf("%d events delivered, want 41", len(rec.Events))
	}
}

package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// deferredEvents puts Service events behind the Service writes: while
// Services are being converged (a burst), events trickle out at a low rate
// so they do not compete with the status writes for the API server; once
// the burst is over the backlog drains at full speed. Nothing is dropped.
// The condition on each Service tells the same story immediately.
type deferredEvents struct {
	next record.EventRecorder
	// busyFor is how long after the last Service write the controller
	// counts as busy; trickle is the pace of events while busy.
	busyFor atomic.Int64 // time.Duration
	trickle time.Duration
	now     func() time.Time

	lastWrite atomic.Int64 // unix nanoseconds
	mu        sync.Mutex
	queue     []queuedEvent
	wake      chan struct{}
}

type queuedEvent struct {
	obj                   runtime.Object
	typ, reason, message string
}

func newDeferredEvents(next record.EventRecorder) *deferredEvents {
	d := &deferredEvents{next: next, trickle: 50 * time.Millisecond, now: time.Now, wake: make(chan struct{}, 1)}
	d.busyFor.Store(int64(250 * time.Millisecond))
	return d
}

var _ record.EventRecorder = (*deferredEvents)(nil)

// Wrote records that a Service write just happened.
func (d *deferredEvents) Wrote() { d.lastWrite.Store(d.now().UnixNano()) }

func (d *deferredEvents) Event(obj runtime.Object, typ, reason, message string) {
	d.mu.Lock()
	d.queue = append(d.queue, queuedEvent{obj, typ, reason, message})
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deferredEvents) Eventf(obj runtime.Object, typ, reason, format string, args ...any) {
	d.Event(obj, typ, reason, fmt.Sprintf(format, args...))
}

func (d *deferredEvents) AnnotatedEventf(obj runtime.Object, _ map[string]string, typ, reason, format string, args ...any) {
	d.Event(obj, typ, reason, fmt.Sprintf(format, args...))
}

func (d *deferredEvents) busy() bool {
	return d.now().Sub(time.Unix(0, d.lastWrite.Load())) < time.Duration(d.busyFor.Load())
}

// pop takes the oldest queued event.
func (d *deferredEvents) pop() (queuedEvent, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return queuedEvent{}, false
	}
	e := d.queue[0]
	d.queue[0] = queuedEvent{}
	d.queue = d.queue[1:]
	return e, true
}

// Start implements manager.Runnable. On stop it flushes what is queued.
func (d *deferredEvents) Start(ctx context.Context) error {
	for {
		e, ok := d.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-d.wake:
				continue
			}
		}
		d.next.Event(e.obj, e.typ, e.reason, e.message)
		if d.busy() {
			select {
			case <-ctx.Done():
				d.flush()
				return nil
			case <-time.After(d.trickle):
			}
		}
	}
}

func (d *deferredEvents) flush() {
	for {
		e, ok := d.pop()
		if !ok {
			return
		}
		d.next.Event(e.obj, e.typ, e.reason, e.message)
	}
}

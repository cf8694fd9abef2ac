package eventq

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/tools/reference"
)

// Deferred puts events behind the writes that matter: while the owner is
// busy (a burst of Services being converged or announced), events trickle out at a low rate
// so they do not compete with the status writes for the API server; once
// the burst is over the backlog drains at full speed. Nothing is dropped.
// The condition on each Service tells the same story immediately.
type Deferred struct {
	next   record.EventRecorder
	scheme *runtime.Scheme
	// busyFor is how long after the last Service write the controller
	// counts as busy; trickle is the pace of events while busy.
	busyFor atomic.Int64 // time.Duration
	trickle time.Duration
	now     func() time.Time

	lastWrite atomic.Int64 // unix nanoseconds
	mu        sync.Mutex
	queue     []queued
	wake      chan struct{}
}

type queued struct {
	obj                  runtime.Object
	typ, reason, message string
}

// NewDeferred queues events for next. With scheme, a queued event keeps
// only a reference to its object (kind, name, UID...), as the recorder
// would: an object from a cache list would otherwise keep the whole list
// alive until the event goes out, which in a burst can be minutes.
func NewDeferred(next record.EventRecorder, scheme *runtime.Scheme) *Deferred {
	d := &Deferred{next: next, scheme: scheme, trickle: 250 * time.Millisecond, now: time.Now, wake: make(chan struct{}, 1)}
	d.busyFor.Store(int64(250 * time.Millisecond))
	return d
}

var _ record.EventRecorder = (*Deferred)(nil)

// Wrote records activity: events are held back for a while after it.
func (d *Deferred) Wrote() { d.lastWrite.Store(d.now().UnixNano()) }

func (d *Deferred) Event(obj runtime.Object, typ, reason, message string) {
	if d.scheme != nil {
		// The recorder takes a reference as it is.
		if ref, err := reference.GetReference(d.scheme, obj); err == nil {
			obj = ref
		}
	}
	d.mu.Lock()
	d.queue = append(d.queue, queued{obj, typ, reason, message})
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Deferred) Eventf(obj runtime.Object, typ, reason, format string, args ...any) {
	d.Event(obj, typ, reason, fmt.Sprintf(format, args...))
}

func (d *Deferred) AnnotatedEventf(obj runtime.Object, _ map[string]string, typ, reason, format string, args ...any) {
	d.Event(obj, typ, reason, fmt.Sprintf(format, args...))
}

func (d *Deferred) busy() bool {
	return d.now().Sub(time.Unix(0, d.lastWrite.Load())) < time.Duration(d.busyFor.Load())
}

// pop takes the oldest queued event.
func (d *Deferred) pop() (queued, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return queued{}, false
	}
	e := d.queue[0]
	d.queue[0] = queued{}
	d.queue = d.queue[1:]
	return e, true
}

// Start implements manager.Runnable. On stop it flushes what is queued.
func (d *Deferred) Start(ctx context.Context) error {
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

func (d *Deferred) flush() {
	for {
		e, ok := d.pop()
		if !ok {
			return
		}
		d.next.Event(e.obj, e.typ, e.reason, e.message)
	}
}

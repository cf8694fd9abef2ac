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
// busy (a burst of Services being converged or announced), events are held
// back so they do not compete with the status writes for the API server;
// once the burst is over the backlog drains at a steady pace (at most one
// event per drain interval: the recorder behind it queues at most 1,000
// and drops the rest, while it writes them one by one). The hold is
// bounded: an event that has waited maxHold goes out even while busy, at
// the trickle pace. Nothing is dropped, the order is kept, and the
// condition on each Service tells the same story immediately.
type Deferred struct {
	next   record.EventRecorder
	scheme *runtime.Scheme
	// busyFor is how long after the last Service write (or pass) the
	// component counts as busy; maxHold bounds how long an event waits;
	// trickle is the pace of overdue events while busy.
	busyFor atomic.Int64 // time.Duration
	maxHold time.Duration
	trickle time.Duration
	drain   time.Duration // the least time between two events
	now     func() time.Time

	lastWrite atomic.Int64 // unix nanoseconds
	mu        sync.Mutex
	queue     []queued
	wake      chan struct{}
}

type queued struct {
	obj                  runtime.Object
	typ, reason, message string
	at                   time.Time // when it was recorded
}

// Defaults: busy for a second after the last write (longer than the
// speaker's widest coalescing window, so a burst reads as one), events
// held for at most 30 seconds (the status writers' bound too), then four
// a second while still busy; a backlog drains at 100 a second, well
// within what the recorder writes (one request of a few milliseconds
// each), so its queue never overflows.
const (
	defaultBusyFor = time.Second
	defaultMaxHold = 30 * time.Second
	defaultTrickle = 250 * time.Millisecond
	defaultDrain   = 10 * time.Millisecond
)

// NewDeferred queues events for next. With scheme, a queued event keeps
// only a reference to its object (kind, name, UID...), as the recorder
// would: an object from a cache list would otherwise keep the whole list
// alive until the event goes out, which in a burst can be minutes.
func NewDeferred(next record.EventRecorder, scheme *runtime.Scheme) *Deferred {
	d := &Deferred{next: next, scheme: scheme, maxHold: defaultMaxHold, trickle: defaultTrickle, drain: defaultDrain, now: time.Now, wake: make(chan struct{}, 1)}
	d.busyFor.Store(int64(defaultBusyFor))
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
	d.queue = append(d.queue, queued{obj, typ, reason, message, d.now()})
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

// wait is how long the oldest queued event must still wait, at now: 0
// when it may go. It waits while the component is busy, up to maxHold.
func (d *Deferred) wait(now time.Time) time.Duration {
	d.mu.Lock()
	if len(d.queue) == 0 {
		d.mu.Unlock()
		return 0
	}
	since := d.queue[0].at
	d.mu.Unlock()
	idle := d.idleAt()
	overdue := since.Add(d.maxHold)
	if !now.Before(idle) || !now.Before(overdue) {
		return 0
	}
	return min(idle.Sub(now), overdue.Sub(now))
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

// Start implements manager.Runnable. On stop it hands what is queued to the
// recorder at once (which keeps up to 1,000 of them).
func (d *Deferred) Start(ctx context.Context) error {
	var paced time.Time // when the last event went out
	for {
		if w := d.wait(d.now()); w > 0 {
			// Busy: hold on until the component is idle or the oldest
			// event is overdue (a write meanwhile extends the first).
			t := time.NewTimer(w)
			select {
			case <-ctx.Done():
				t.Stop()
				d.flush()
				return nil
			case <-d.wake: // a new event: look again
				t.Stop()
			case <-t.C:
			}
			continue
		}
		// Overdue events while busy go out at the trickle pace, a backlog
		// at the drain pace.
		pace := d.drain
		if d.busyNow() {
			pace = d.trickle
		}
		if w := paced.Add(pace).Sub(d.now()); w > 0 && d.queued() {
			select {
			case <-ctx.Done():
				d.flush()
				return nil
			case <-time.After(w):
			}
			continue // look again: the component may be busy now
		}
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
		paced = d.now()
	}
}

// queued tells whether events wait.
func (d *Deferred) queued() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue) > 0
}

// idleAt is when the component stops counting as busy.
func (d *Deferred) idleAt() time.Time {
	return time.Unix(0, d.lastWrite.Load()).Add(time.Duration(d.busyFor.Load()))
}

func (d *Deferred) busyNow() bool { return d.now().Before(d.idleAt()) }

func (d *Deferred) flush() {
	for {
		e, ok := d.pop()
		if !ok {
			return
		}
		d.next.Event(e.obj, e.typ, e.reason, e.message)
	}
}

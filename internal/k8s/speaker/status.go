package speaker

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels of ServiceL2Status objects, as MetalLB sets them.
const (
	LabelNode             = "metallb.io/node"
	LabelServiceName      = "metallb.io/service-name"
	LabelServiceNamespace = "metallb.io/service-namespace"
)

// StatusSpec is one ServiceL2Status this node should have.
type StatusSpec struct {
	// Service is "namespace/name".
	Service string
	// Interfaces announcing it; nil when announced on all interfaces.
	Interfaces []string
	// Owners are the nodes that own at least one of the Service's IPs;
	// objects of other nodes for this Service are stale (layer 2). Nil
	// leaves other nodes' objects alone (BGP: every node writes its own).
	Owners []string
	// Peers are the BGPPeer names the Service is advertised to (BGP).
	Peers []string
}

// StatusWriter keeps this node's ServiceL2Status (or ServiceBGPStatus)
// objects in line with the last Set, off the announcement path: Set returns
// at once, the writer catches up with the latest state (intermediate states
// are skipped) using a few parallel API calls.
type StatusWriter struct {
	Client    client.Client
	Namespace string
	Node      string
	kind      statusKind
	// Owner, if set, becomes the objects' owner (the speaker Pod).
	Owner   *metav1.OwnerReference
	Log     *slog.Logger
	Workers int

	// Quiet and MaxDelay coalesce changes: the writer waits until Set has
	// not been called for Quiet (at most MaxDelay after the first change),
	// so a burst of Services is announced first and its status objects are
	// written after, without competing with the burst for the API server.
	Quiet, MaxDelay time.Duration
	// Busy, if set, is called around every batch of writes (activity, for
	// the memory releaser).
	Busy func()

	mu      sync.Mutex
	want    map[string]StatusSpec
	kick    chan struct{}
	changed chan struct{}
	// Our own writes the cache may not show yet: objects created (by
	// Service key) and deleted (by name).
	created map[string]pendingCreate
	deleted map[string]time.Time
	// patched remembers the status last written per object name, so an
	// object whose cache copy lags is not patched again with the same.
	patched map[string]sentStatus
}

type sentStatus struct {
	body string
	at   time.Time
}

// pendingTTL bounds how long our own create or delete counts as "not in
// the cache yet". The cache normally lags by milliseconds; past this the
// cache is believed (an object created and at once deleted by someone
// else must be created again; a duplicate from a slower cache is removed
// by the duplicate rule).
const pendingTTL = 3 * time.Second

type pendingCreate struct {
	name string // "" while the create is in flight
	at   time.Time
}

// SetOwner sets the owner reference of objects created from now on.
func (w *StatusWriter) SetOwner(o *metav1.OwnerReference) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Owner = o
}

// NewStatusWriter returns a writer of ServiceL2Status objects; run it with
// Start.
func NewStatusWriter(c client.Client, namespace, node string, log *slog.Logger) *StatusWriter {
	return newStatusWriter(l2Kind{}, c, namespace, node, log)
}

// NewBGPStatusWriter returns a writer of ServiceBGPStatus objects.
func NewBGPStatusWriter(c client.Client, namespace, node string, log *slog.Logger) *StatusWriter {
	return newStatusWriter(bgpKind{}, c, namespace, node, log)
}

func newStatusWriter(k statusKind, c client.Client, namespace, node string, log *slog.Logger) *StatusWriter {
	return &StatusWriter{kind: k, Client: c, Namespace: namespace, Node: node, Log: log, Workers: 8,
		Quiet: time.Second, MaxDelay: 30 * time.Second,
		kick: make(chan struct{}, 1), changed: make(chan struct{}, 1), created: map[string]pendingCreate{}, deleted: map[string]time.Time{}, patched: map[string]sentStatus{}}
}

// Set replaces the desired objects.
func (w *StatusWriter) Set(want map[string]StatusSpec) {
	w.mu.Lock()
	w.want = want
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// Start implements manager.Runnable: it syncs after every Set and every
// 30 s, until ctx ends.
func (w *StatusWriter) Start(ctx context.Context) error {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		yield := true
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
		case <-tick.C:
		case <-w.changed:
			ok, forced := w.settle(ctx)
			if !ok {
				return nil
			}
			// Changes kept coming for MaxDelay: write everything now
			// rather than let the objects fall further behind.
			yield = !forced
		}
		w.mu.Lock()
		want := w.want
		w.mu.Unlock()
		if want == nil {
			continue
		}
		if err := w.sync(ctx, want, yield); err != nil && ctx.Err() == nil {
			w.Log.Warn("cannot sync service status objects", "kind", w.kind.name(), "error", err)
			time.AfterFunc(time.Second, w.poke)
		}
	}
}

// settle waits until Set has been quiet for Quiet, or MaxDelay passed
// (forced). It reports false when ctx ended.
func (w *StatusWriter) settle(ctx context.Context) (ok, forced bool) {
	if w.Quiet <= 0 {
		return true, false
	}
	quiet := time.NewTimer(w.Quiet)
	defer quiet.Stop()
	limit := time.NewTimer(max(w.MaxDelay, w.Quiet))
	defer limit.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, false
		case <-w.changed:
			quiet.Reset(w.Quiet)
		case <-quiet.C:
			return true, false
		case <-limit.C:
			return true, true
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// speaker writes its own objects.
func (w *StatusWriter) NeedLeaderElection() bool { return false }

// sync makes the objects match want. With yield, it stops making calls
// when Set brings a change (see run).
func (w *StatusWriter) sync(ctx context.Context, want map[string]StatusSpec, yield bool) error {
	items, err := w.kind.list(ctx, w.Client, w.Namespace)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	inCache := map[string]bool{}
	for _, o := range items {
		inCache[o.Name] = true
	}
	// Forget what the cache has caught up with (or what is too old to
	// still be in flight).
	for name, at := range w.deleted {
		if !inCache[name] || now.Sub(at) > pendingTTL {
			delete(w.deleted, name)
		}
	}
	var ops []writeOp
	forget := func(name string) func() { return func() { delete(w.deleted, name) } }
	mine := map[string]bool{}
	for key, p := range w.created {
		switch {
		case p.name != "" && inCache[p.name], now.Sub(p.at) > pendingTTL:
			delete(w.created, key)
		case p.name == "":
			mine[key] = true // create in flight
		case want[key].Service == "":
			ops = append(ops, writeOp{w.deleteOp(p.name), forget(p.name)})
			w.deleted[p.name] = now
			delete(w.created, key)
		default:
			mine[key] = true // created, not in the cache yet
		}
	}
	for _, obj := range items {
		if _, gone := w.deleted[obj.Name]; gone {
			continue // deleted by us, the cache has not seen it yet
		}
		key := obj.Labels[LabelServiceNamespace] + "/" + obj.Labels[LabelServiceName]
		spec, wanted := want[key]
		if obj.Labels[LabelNode] != w.Node {
			// Another node's object for a Service we announce, from a node
			// that owns none of its IPs any more (it died or lost it).
			if wanted && spec.Owners != nil && !slices.Contains(spec.Owners, obj.Labels[LabelNode]) {
				ops = append(ops, writeOp{w.deleteOp(obj.Name), forget(obj.Name)})
				w.deleted[obj.Name] = now
			}
			continue
		}
		if !wanted || mine[key] {
			ops = append(ops, writeOp{w.deleteOp(obj.Name), forget(obj.Name)}) // withdrawn, or a duplicate
			w.deleted[obj.Name] = now
			continue
		}
		mine[key] = true
		if matches(w.kind, obj, w.Node, spec) {
			delete(w.patched, obj.Name)
			continue
		}
		if p, ok := w.patched[obj.Name]; ok && p.body == w.body(key, spec) && now.Sub(p.at) < 30*time.Second {
			continue // already written; the cache has not caught up
		}
		ops = append(ops, writeOp{do: w.statusOp(obj.Name, key, spec)})
	}
	for key, spec := range want {
		if mine[key] {
			continue
		}
		w.created[key] = pendingCreate{at: now}
		ops = append(ops, writeOp{w.createOp(key, spec), func() { delete(w.created, key) }})
	}
	for name, p := range w.patched {
		if now.Sub(p.at) > 30*time.Second {
			delete(w.patched, name)
		} else if _, gone := w.deleted[name]; gone {
			delete(w.patched, name)
		}
	}
	inFlight := len(w.created) > 0 || len(w.deleted) > 0
	w.mu.Unlock()
	skipped, err := w.run(ctx, ops, yield)
	w.mu.Lock()
	for _, op := range skipped {
		if op.undo != nil {
			op.undo()
		}
	}
	if inFlight {
		// Check again once the cache had time to catch up with our writes.
		time.AfterFunc(500*time.Millisecond, w.poke)
	}
	return err
}

// deletedElsewhere wakes the writer when obj, a deleted status object,
// was one of this node's: someone else (another node that believed the
// IP its own, a user) may have deleted it, and it must come back.
func (w *StatusWriter) deletedElsewhere(obj client.Object) {
	if obj.GetLabels()[LabelNode] == w.Node {
		w.poke()
	}
}

func (w *StatusWriter) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// writeOp is one API call of a sync.
type writeOp struct {
	do func(context.Context) error
	// undo forgets what sync recorded about the call when it is not made
	// (called with mu held); nil when there is nothing to forget.
	undo func()
}

// run executes ops with bounded parallelism and returns the first error.
// With yield (and quiet periods on), it stops starting calls as soon as
// Set brings a change and returns the ops it did not start: the change
// means the burst of announcements has resumed, and status objects must
// not compete with it for the API server. The next quiet spell writes
// them.
func (w *StatusWriter) run(ctx context.Context, ops []writeOp, yield bool) (skipped []writeOp, _ error) {
	if w.Busy != nil && len(ops) > 0 {
		w.Busy()
		defer w.Busy()
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, max(1, w.Workers))
	for i, op := range ops {
		sem <- struct{}{}
		if yield && w.Quiet > 0 && w.changePending() {
			<-sem
			skipped = ops[i:]
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := op.do(ctx); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return skipped, first
}

// changePending reports whether Set was called since the writer last
// looked, leaving the signal for Start to see.
func (w *StatusWriter) changePending() bool {
	select {
	case <-w.changed:
		select {
		case w.changed <- struct{}{}:
		default:
		}
		return true
	default:
		return false
	}
}

func (w *StatusWriter) deleteOp(name string) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := w.Client.Delete(ctx, w.kind.object(w.Namespace, name)); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	}
}

func (w *StatusWriter) createOp(key string, spec StatusSpec) func(context.Context) error {
	return func(ctx context.Context) error {
		ns, name, _ := strings.Cut(key, "/")
		obj := w.kind.object(w.Namespace, "")
		obj.SetGenerateName(w.kind.generateName())
		obj.SetLabels(map[string]string{LabelNode: w.Node, LabelServiceName: name, LabelServiceNamespace: ns})
		w.mu.Lock()
		owner := w.Owner
		w.mu.Unlock()
		if owner != nil {
			obj.SetOwnerReferences([]metav1.OwnerReference{*owner})
		}
		if err := w.Client.Create(ctx, obj); err != nil {
			w.mu.Lock()
			delete(w.created, key)
			w.mu.Unlock()
			return err
		}
		w.mu.Lock()
		if p, ok := w.created[key]; ok && p.name == "" {
			w.created[key] = pendingCreate{name: obj.GetName(), at: p.at}
		}
		w.mu.Unlock()
		return w.statusOp(obj.GetName(), key, spec)(ctx)
	}
}

// body is the merge patch that sets an object's status.
func (w *StatusWriter) body(key string, spec StatusSpec) string {
	ns, name, _ := strings.Cut(key, "/")
	raw, _ := json.Marshal(map[string]any{"status": w.kind.status(w.Node, ns, name, spec)})
	return string(raw)
}

// statusOp writes the status subresource (a create ignores status).
func (w *StatusWriter) statusOp(objName, key string, spec StatusSpec) func(context.Context) error {
	return func(ctx context.Context) error {
		body := w.body(key, spec)
		err := w.Client.Status().Patch(ctx, w.kind.object(w.Namespace, objName), client.RawPatch(types.MergePatchType, []byte(body)))
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			w.mu.Lock()
			w.patched[objName] = sentStatus{body: body, at: time.Now()}
			w.mu.Unlock()
		}
		return err
	}
}

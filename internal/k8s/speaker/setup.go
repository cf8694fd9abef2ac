package speaker

import (
	"context"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/bgp/gobgp"
	"github.com/ferrolb/ferrolb/internal/k8s/confstate"
	"github.com/ferrolb/ferrolb/internal/k8s/eventq"
	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
	"github.com/ferrolb/ferrolb/internal/l2/announcer"
	"github.com/ferrolb/ferrolb/internal/membership"
	"github.com/ferrolb/ferrolb/internal/metrics"
	"github.com/ferrolb/ferrolb/internal/procmem"
)

// Options configures the speaker's layer 2 adapter.
type Options struct {
	Namespace       string
	Node            string
	PodName         string
	LBClass         string
	IgnoreExcludeLB bool
	Log             *slog.Logger
	Registry        prometheus.Registerer
	// Members is nil when membership is disabled.
	Members *membership.Membership
	// MemberLabels selects the speaker Pods whose IPs membership joins.
	MemberLabels labels.Selector
	// Announcer config (interfaces to exclude etc.); Recorder and Notify
	// are filled in here.
	Announcer announcer.Config
	HoldDown  time.Duration
	// Debounce coalesces object events before a pass (0: none).
	Debounce time.Duration
	// Events records events; nil means the manager's recorder.
	Events record.EventRecorder
	// RestGC, when positive, is the Go GC target percentage while the
	// speaker is quiet; during bursts of passes it is BusyGC (at least
	// RestGC). Zero leaves the garbage collector alone.
	RestGC, BusyGC int
}

// Setup wires the layer 2 reconciler, the announcer, membership and the
// ServiceL2Status writer into mgr.
func Setup(mgr manager.Manager, o Options) error {
	if o.Events == nil {
		o.Events = mgr.GetEventRecorderFor("metallb-speaker")
	}
	// Events wait while passes run back to back (a burst of Services):
	// announcements and status objects first.
	events := eventq.NewDeferred(o.Events, mgr.GetScheme())
	if err := mgr.Add(events); err != nil {
		return err
	}
	o.Events = events
	m := metrics.NewSpeaker(o.Registry)
	k8sMetrics := metrics.NewK8sClient(o.Registry)
	kick := make(chan struct{}, 1)
	notify := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	acfg := o.Announcer
	acfg.Recorder = m
	acfg.Logger = o.Log
	acfg.Notify = notify
	ann, err := announcer.New(acfg)
	if err != nil {
		return err
	}
	status := NewStatusWriter(mgr.GetClient(), o.Namespace, o.Node, o.Log)
	bgpStatus := NewBGPStatusWriter(mgr.GetClient(), o.Namespace, o.Node, o.Log)
	// After a burst of passes, the heap the burst grew goes back to the
	// operating system once the speaker is quiet.
	// The pages of the binary that only start-up (discovery, cache sync)
	// or the burst touched leave the resident set then too: they stay in
	// the page cache, and the steady state faults back the few it uses.
	mem := &procmem.Releaser{AfterRelease: func() { procmem.TrimLogged(o.Log) }}
	status.Busy, bgpStatus.Busy = mem.Touch, mem.Touch
	if o.RestGC > 0 {
		mem.SetGC = func(p int) { debug.SetGCPercent(p) }
		mem.RestGC, mem.BusyGC = o.RestGC, max(o.BusyGC, o.RestGC)
	}
	if err := mgr.Add(mem); err != nil {
		return err
	}
	stateOpts := confstate.SpeakerOptions(o.Namespace, o.Node)
	stateOpts.Log = o.Log
	state := confstate.New(mgr.GetClient(), mgr.GetAPIReader(), stateOpts)
	backend := gobgp.New(gobgp.Options{NodeName: o.Node, Logger: o.Log, Recorder: metrics.NewBGP(o.Registry)})
	stores, err := NewStores(context.Background(), mgr.GetCache())
	if err != nil {
		return err
	}
	r := &Reconciler{
		Client:          mgr.GetClient(),
		Stores:          stores,
		Namespace:       o.Namespace,
		Node:            o.Node,
		LBClass:         o.LBClass,
		IgnoreExcludeLB: o.IgnoreExcludeLB,
		Announcer:       ann,
		Status:          status,
		BGP:             backend,
		BGPStatus:       bgpStatus,
		Events:          o.Events,
		Metrics:         m,
		Config:          k8sMetrics,
		State:           state,
		Log:             o.Log,
		HoldDown:        o.HoldDown,
		Now:             time.Now,
		Pass: func() {
			events.Wrote()
			mem.Touch()
		},
	}
	if o.Members != nil {
		r.Members = o.Members
	}
	for _, run := range []manager.Runnable{
		always(ann.Run),
		always(status.Start),
		always(bgpStatus.Start),
		always(backend.Run),
		state,
		&sessionWatcher{reader: mgr.GetClient(), backend: backend, events: o.Events, log: o.Log, namespace: o.Namespace, node: o.Node, state: state},
		always(func(ctx context.Context) error {
			owner := wiring.PodOwner(ctx, mgr.GetAPIReader(), o.Namespace, o.PodName)
			status.SetOwner(owner)
			bgpStatus.SetOwner(owner)
			state.SetOwner(owner)
			<-ctx.Done()
			return nil
		}),
	} {
		if err := mgr.Add(run); err != nil {
			return err
		}
	}
	var changes <-chan struct{}
	if o.Members != nil {
		if err := mgr.Add(always(o.Members.Run)); err != nil {
			return err
		}
		changes = o.Members.Changes()
	}

	// Object events are coalesced for a short while: a burst of Services
	// costs a few passes, not one per object. Membership changes (a dead
	// node) and announcer notifications skip the wait.
	toSync := debounced(func() time.Duration { return r.window(o.Debounce) }, o.Debounce)
	inNS := predicate.NewPredicateFuncs(func(obj client.Object) bool { return obj.GetNamespace() == o.Namespace })
	b := builder.ControllerManagedBy(mgr).
		Named("layer2").
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, NeedLeaderElection: ptrFalse()}).
		Watches(&corev1.Service{}, toSync).
		Watches(&discoveryv1.EndpointSlice{}, toSync).
		Watches(&corev1.Node{}, toSync, builder.WithPredicates(nodeChanged())).
		Watches(&v1beta1.IPAddressPool{}, toSync, builder.WithPredicates(inNS, predicate.GenerationChangedPredicate{})).
		Watches(&v1beta1.L2Advertisement{}, toSync, builder.WithPredicates(inNS, predicate.GenerationChangedPredicate{})).
		Watches(&v1beta1.BGPAdvertisement{}, toSync, builder.WithPredicates(inNS, predicate.GenerationChangedPredicate{})).
		Watches(&v1beta2.BGPPeer{}, toSync, builder.WithPredicates(inNS, predicate.GenerationChangedPredicate{})).
		Watches(&v1beta1.BFDProfile{}, toSync, builder.WithPredicates(inNS, predicate.GenerationChangedPredicate{})).
		Watches(&v1beta1.Community{}, toSync, builder.WithPredicates(inNS, predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, toSync, builder.WithPredicates(inNS)).
		WatchesRawSource(kicks(kick, changes)).
		// Another speaker acting on a stale view may delete this node's
		// status objects: the writer puts them back at once.
		WatchesRawSource(source.Kind(mgr.GetCache(), client.Object(&v1beta1.ServiceL2Status{}), pokeOnDelete(status))).
		WatchesRawSource(source.Kind(mgr.GetCache(), client.Object(&v1beta1.ServiceBGPStatus{}), pokeOnDelete(bgpStatus)))
	if err := b.Complete(r); err != nil {
		return err
	}
	if o.Members != nil && o.MemberLabels != nil {
		peers := &peerReconciler{client: mgr.GetClient(), namespace: o.Namespace, selector: o.MemberLabels, members: o.Members}
		err := builder.ControllerManagedBy(mgr).
			Named("memberlist-peers").
			WithOptions(controller.Options{MaxConcurrentReconciles: 1, NeedLeaderElection: ptrFalse()}).
			Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
				return []reconcile.Request{syncKey}
			}), builder.WithPredicates(inNS)).
			Complete(peers)
		if err != nil {
			return err
		}
	}
	return nil
}

// debounced enqueues the sync key for every object event, through a
// coalescer: at once after a quiet spell, otherwise at the end of the
// current window, so a burst costs one pass per window instead of one per
// object.
func debounced(base func() time.Duration, limit time.Duration) handler.EventHandler {
	c := &coalescer{}
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if d := c.delay(time.Now(), base(), limit); d > 0 {
			q.AddAfter(syncKey, d)
			return
		}
		q.Add(syncKey)
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, _ event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		UpdateFunc: func(_ context.Context, _ event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		DeleteFunc: func(_ context.Context, _ event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		GenericFunc: func(_ context.Context, _ event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
	}
}

// pokeOnDelete wakes a status writer when one of the objects it manages
// may have been deleted by someone else.
func pokeOnDelete(w *StatusWriter) handler.EventHandler {
	return handler.Funcs{
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.deletedElsewhere(e.Object)
		},
	}
}

// kicks turns announcer notifications and membership changes into syncs.
func kicks(kick <-chan struct{}, changes <-chan struct{}) source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-kick:
				case <-changes: // nil channel when membership is off: never ready
				}
				q.Add(syncKey)
			}
		}()
		return nil
	})
}

// nodeChanged passes Node events that matter for announcements: creation,
// deletion, label changes, NetworkUnavailable and out-of-service changes,
// not the heartbeats that update a Node every few seconds.
func nodeChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Node)
			n, ok2 := e.ObjectNew.(*corev1.Node)
			if !ok1 || !ok2 {
				return true
			}
			po, pn := toPlanNode(o), toPlanNode(n)
			return !labels.Equals(o.Labels, n.Labels) || po.NetworkUnavailable != pn.NetworkUnavailable || po.OutOfService != pn.OutOfService
		},
	}
}

// peerReconciler feeds the speaker Pods' IPs to membership.
type peerReconciler struct {
	client    client.Client
	namespace string
	selector  labels.Selector
	members   *membership.Membership
}

func (p *peerReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var pods corev1.PodList
	if err := p.client.List(ctx, &pods, client.InNamespace(p.namespace), client.MatchingLabelsSelector{Selector: p.selector}); err != nil {
		return reconcile.Result{}, err
	}
	var addrs []string
	for _, pod := range pods.Items {
		if pod.Status.PodIP != "" {
			addrs = append(addrs, pod.Status.PodIP)
		}
	}
	slices.Sort(addrs)
	p.members.SetPeers(slices.Compact(addrs))
	// Re-list now and then: a speaker that restarted with the same IP needs
	// a new join even if its Pod object did not change.
	return reconcile.Result{RequeueAfter: time.Minute}, nil
}

type runnable struct{ f func(context.Context) error }

func (r runnable) Start(ctx context.Context) error { return r.f(ctx) }
func (runnable) NeedLeaderElection() bool          { return false }

func always(f func(context.Context) error) manager.Runnable { return runnable{f} }

func ptrFalse() *bool { b := false; return &b }

package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/internal/core/ipam"
	"github.com/ferrolb/ferrolb/internal/k8s/confstate"
	"github.com/ferrolb/ferrolb/internal/k8s/eventq"
	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
	"github.com/ferrolb/ferrolb/internal/metrics"
)

// Options configures the controller's reconcilers.
type Options struct {
	// Namespace holds the metallb.io configuration objects.
	Namespace string
	// LBClass is the --lb-class value ("" = Services without a class).
	LBClass string
	Log     *slog.Logger
	// Registry receives the metallb_* metrics.
	Registry prometheus.Registerer
	// Workers is the number of Services converged in parallel (their API
	// writes overlap; decisions are serialised by the engine).
	Workers int
	// Events records events; nil means the manager's recorder.
	Events record.EventRecorder
	// PodName is this controller's Pod, the owner of its
	// ConfigurationState object (empty: no owner).
	PodName string
}

// Setup registers the configuration and Service reconcilers with mgr.
func Setup(mgr manager.Manager, o Options) (*assign.Engine, error) {
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Events == nil {
		o.Events = mgr.GetEventRecorderFor("metallb-controller")
	}
	svcEvents := eventq.NewDeferred(o.Events, mgr.GetScheme())
	engine := assign.NewEngine(o.LBClass)
	requeue := &Requeuer{}
	k8sMetrics := metrics.NewK8sClient(o.Registry)
	usage := &usagePublisher{
		engine: engine,
		out:    metrics.NewAllocator(o.Registry),
		dirty:  make(chan struct{}, 1),
		status: &poolStatusWriter{client: mgr.GetClient(), namespace: o.Namespace, log: o.Log},
	}

	svc := &ServiceReconciler{
		Client:   mgr.GetClient(),
		Engine:   engine,
		Events:   svcEvents,
		Wrote:    svcEvents.Wrote,
		Log:      o.Log,
		Requeue:  requeue,
		Recorder: k8sMetrics,
	}
	err := builder.ControllerManagedBy(mgr).
		Named("service").
		For(&corev1.Service{}).
		WatchesRawSource(requeue.Source()).
		WithOptions(controller.Options{MaxConcurrentReconciles: o.Workers}).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			res, err := svc.Reconcile(ctx, req)
			usage.touch()
			return res, err
		}))
	if err != nil {
		return nil, err
	}

	stateOpts := confstate.ControllerOptions(o.Namespace)
	stateOpts.Log = o.Log
	state := confstate.New(mgr.GetClient(), mgr.GetAPIReader(), stateOpts)
	cfg := &ConfigReconciler{
		State:     state,
		Client:    mgr.GetClient(),
		Namespace: o.Namespace,
		Engine:    engine,
		Requeue:   requeue,
		Events:    o.Events,
		Log:       o.Log,
		Recorder:  k8sMetrics,
		OnChange:  usage.touch,
	}
	toConfig := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{configKey}
	})
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == cfg.Namespace })
	err = builder.ControllerManagedBy(mgr).
		Named("config").
		Watches(&v1beta1.IPAddressPool{}, toConfig, builder.WithPredicates(inNamespace, predicate.GenerationChangedPredicate{})).
		Watches(&v1beta1.Community{}, toConfig, builder.WithPredicates(inNamespace, predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, toConfig, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		Complete(cfg)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(usage); err != nil {
		return nil, err
	}
	if err := mgr.Add(state); err != nil {
		return nil, err
	}
	if o.PodName != "" {
		err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
			state.SetOwner(wiring.PodOwner(ctx, mgr.GetAPIReader(), o.Namespace, o.PodName))
			return nil
		}))
		if err != nil {
			return nil, err
		}
	}
	if err := mgr.Add(svcEvents); err != nil {
		return nil, err
	}
	return engine, nil
}

// usagePublisher refreshes the allocator gauges and the pools' status at
// most once a second, after something changed. It runs on the leader only.
type usagePublisher struct {
	engine *assign.Engine
	out    *metrics.Allocator
	status *poolStatusWriter
	dirty  chan struct{}
}

func (u *usagePublisher) touch() {
	if u.dirty == nil {
		return
	}
	select {
	case u.dirty <- struct{}{}:
	default:
	}
}

// Start implements manager.Runnable.
func (u *usagePublisher) Start(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	pending := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-u.dirty:
			pending = true
		case <-tick.C:
			if pending {
				stats := u.engine.Usage()
				u.out.SetPools(usageOf(stats))
				u.status.write(ctx, stats)
				pending = false
			}
		}
	}
}

var _ manager.Runnable = (*usagePublisher)(nil)

// usageOf converts the engine's pool statistics into gauge values.
func usageOf(stats []ipam.PoolStats) map[string]metrics.PoolUsage {
	out := map[string]metrics.PoolUsage{}
	for _, st := range stats {
		out[st.Name] = metrics.PoolUsage{
			Total:   st.Capacity().Float64(),
			TotalV4: st.CapacityV4.Float64(),
			TotalV6: st.CapacityV6.Float64(),
			InUse:   float64(st.InUse()),
			InUseV4: float64(st.InUseV4),
			InUseV6: float64(st.InUseV6),
		}
	}
	return out
}

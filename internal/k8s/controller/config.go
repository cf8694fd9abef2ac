package controller

import (
	"context"
	"log/slog"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/internal/k8s/confstate"
	"github.com/ferrolb/ferrolb/internal/k8s/snapshot"
)

// configKey is the single queue key of the configuration reconciler: every
// watched object maps to it, so changes coalesce into one recompile.
var configKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "metallb-config"}}

// ConfigRecorder receives the configuration state for metrics.
type ConfigRecorder interface {
	ConfigLoaded(stale bool)
}

// ConfigReconciler compiles the pools (with communities and namespaces)
// through the one config compiler and hands them to the engine. A bad
// object never takes down good ones: config.Resolve keeps the last valid
// version of every object, and the errors are reported as events and logs.
type ConfigReconciler struct {
	Client    client.Client
	Namespace string
	Engine    *assign.Engine
	Requeue   *Requeuer
	Events    record.EventRecorder
	Log       *slog.Logger
	Recorder  ConfigRecorder
	// State, if set, receives the verdict for the ConfigurationState
	// object.
	State *confstate.Reporter

	// OnChange, if set, is called after the pools changed (pool status and
	// metrics refresh).
	OnChange func()

	lastGood *config.Snapshot
	pools    []*model.Pool
	reported map[string]bool // errors already announced by an event
}

var _ reconcile.Reconciler = (*ConfigReconciler)(nil)

// Reconcile implements reconcile.Reconciler.
func (r *ConfigReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var pools v1beta1.IPAddressPoolList
	if err := r.Client.List(ctx, &pools, client.InNamespace(r.Namespace)); err != nil {
		return reconcile.Result{}, err
	}
	var comms v1beta1.CommunityList
	if err := r.Client.List(ctx, &comms, client.InNamespace(r.Namespace)); err != nil {
		return reconcile.Result{}, err
	}
	var nss corev1.NamespaceList
	if err := r.Client.List(ctx, &nss); err != nil {
		return reconcile.Result{}, err
	}
	snap := snapshot.Build(snapshot.Objects{
		Pools:       pools.Items,
		Communities: comms.Items,
		Namespaces:  nss.Items,
	})
	cfg, used, errs := config.Resolve(snap, r.lastGood)
	r.report(pools.Items, errs)
	if r.Recorder != nil {
		r.Recorder.ConfigLoaded(len(errs) > 0)
	}
	r.lastGood = &used

	next := make([]*model.Pool, 0, len(cfg.Pools))
	for _, name := range sortedKeys(cfg.Pools) {
		next = append(next, cfg.Pools[name])
	}
	first := !r.Engine.Loaded()
	if !first && reflect.DeepEqual(next, r.pools) {
		return reconcile.Result{}, nil
	}
	r.pools = next

	var svcs corev1.ServiceList
	if err := r.Client.List(ctx, &svcs); err != nil {
		return reconcile.Result{}, err
	}
	if first {
		existing := make([]*assign.Service, len(svcs.Items))
		for i := range svcs.Items {
			existing[i] = toService(&svcs.Items[i])
		}
		r.Engine.Load(next, existing)
		r.Log.Info("configuration loaded, existing assignments re-learned", "pools", len(next), "services", len(svcs.Items))
	} else {
		r.Engine.SetPools(next)
		r.Log.Info("pools changed, reconverging services", "pools", len(next))
	}
	keys := make([]string, len(svcs.Items))
	for i := range svcs.Items {
		keys[i] = svcs.Items[i].Namespace + "/" + svcs.Items[i].Name
	}
	// Order does not matter: every held assignment stays recorded in the
	// allocator until its own Service is converged, so a waiting Service
	// can never take it.
	r.Requeue.Enqueue(keys...)
	if r.OnChange != nil {
		r.OnChange()
	}
	return reconcile.Result{}, nil
}

// report logs every configuration error and emits one Warning event per
// new error on the object at fault.
func (r *ConfigReconciler) report(pools []v1beta1.IPAddressPool, errs config.Errors) {
	seen := map[string]bool{}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Error()
		seen[msg] = true
		msgs = append(msgs, msg)
		r.Log.Error("invalid configuration", "kind", e.Kind, "name", e.Name, "field", e.Field, "error", e.Message)
		if r.reported[msg] {
			continue
		}
		for i := range pools {
			if e.Kind == "IPAddressPool" && pools[i].Name == e.Name {
				r.Events.Event(&pools[i], corev1.EventTypeWarning, "InvalidConfiguration", msg)
			}
		}
	}
	r.reported = seen
	if r.State != nil {
		r.State.SetConfigErrors(confstate.TypeControllerValid, msgs)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

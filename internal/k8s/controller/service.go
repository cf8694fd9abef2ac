package controller

import (
	"context"
	"log/slog"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ferrolb/ferrolb/internal/core/assign"
)

// Recorder receives the controller's counters; internal/metrics implements
// it with Prometheus.
type Recorder interface {
	ServiceReconciled(err error)
}

// ServiceReconciler converges one Service at a time: cache -> engine ->
// status patch. Several may run at once: the engine serialises the
// decisions, the API writes run in parallel.
type ServiceReconciler struct {
	Client   client.Client
	Engine   *assign.Engine
	Events   record.EventRecorder
	Log      *slog.Logger
	Requeue  *Requeuer
	Recorder Recorder
	// Wrote, if set, is called after each Service write (it holds events
	// back during bursts).
	Wrote func()
}

var _ reconcile.Reconciler = (*ServiceReconciler)(nil)

// Reconcile implements reconcile.Reconciler.
func (r *ServiceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, err error) {
	defer func() {
		if r.Recorder != nil {
			r.Recorder.ServiceReconciled(err)
		}
	}()
	key := req.Namespace + "/" + req.Name
	var svc corev1.Service
	if err := r.Client.Get(ctx, req.NamespacedName, &svc); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		if r.Engine.Forget(key) {
			r.Log.Info("service deleted, addresses released", "service", key)
			r.Requeue.Enqueue(r.Engine.Pending()...)
		}
		return reconcile.Result{}, nil
	}

	in := toService(&svc)
	out := r.Engine.Converge(in)
	if out.Ignore {
		return reconcile.Result{}, nil
	}
	patch, err := statusPatch(&svc, out, metav1.Now())
	if err != nil {
		return reconcile.Result{}, err
	}
	if patch != nil {
		for _, k := range assign.DeprecatedAnnotations(in) {
			r.Events.Event(&svc, corev1.EventTypeWarning, assign.EventDeprecatedAnnotation, "Service uses deprecated annotation "+k)
		}
		if r.Wrote != nil {
			r.Wrote()
		}
		if err := r.Client.Status().Patch(ctx, &svc, client.RawPatch(types.StrategicMergePatchType, patch)); err != nil {
			if apierrors.IsNotFound(err) {
				return reconcile.Result{}, nil // deleted meanwhile; the delete event follows
			}
			return reconcile.Result{}, err
		}
		for _, ev := range out.Events {
			typ := corev1.EventTypeNormal
			if ev.Warning {
				typ = corev1.EventTypeWarning
			}
			r.Events.Event(&svc, typ, ev.Reason, ev.Message)
		}
		r.logOutcome(key, out)
	}
	if out.Released {
		r.Requeue.Enqueue(r.Engine.Pending()...)
	}
	return reconcile.Result{}, nil
}

func (r *ServiceReconciler) logOutcome(key string, out assign.Outcome) {
	switch {
	case len(out.IPs) > 0:
		ips := make([]string, len(out.IPs))
		for i, ip := range out.IPs {
			ips[i] = ip.String()
		}
		r.Log.Info("service addresses set", "service", key, "ip", strings.Join(ips, ","), "pool", out.Pool)
	case out.Condition != nil:
		r.Log.Info("service has no address", "service", key, "reason", out.Condition.Reason, "message", out.Condition.Message)
	default:
		r.Log.Info("service is no longer a load balancer", "service", key)
	}
}

package migration

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/ferrolb/ferrolb/internal/core/assign"
)

// ingressWatch watches the Services of a namespace from a resource version
// on and records every change of the load-balancer status of the Services
// it guards: a watch sees each write, so a status cleared and written back
// between two polls is caught too.
type ingressWatch struct {
	cs    kubernetes.Interface
	ns    string
	start time.Time
	// want is the status each guarded Service must keep.
	want map[string][]corev1.LoadBalancerIngress

	mu         sync.Mutex
	violations []string
	// writes counts the changes seen per guarded Service; assigned
	// records those seen with AddressAssigned=True (the controller's
	// writes), which proves the watch was not blind.
	writes   map[string]int
	assigned map[string]bool
	relisted int

	cancel context.CancelFunc
	done   chan struct{}
}

// watchIngress starts watching namespace ns after resourceVersion rv.
func watchIngress(cs kubernetes.Interface, ns, rv string, want map[string][]corev1.LoadBalancerIngress) *ingressWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &ingressWatch{cs: cs, ns: ns, start: time.Now(), want: want,
		writes: map[string]int{}, assigned: map[string]bool{}, cancel: cancel, done: make(chan struct{})}
	go w.run(ctx, rv)
	return w
}

func (w *ingressWatch) run(ctx context.Context, rv string) {
	defer close(w.done)
	for ctx.Err() == nil {
		wi, err := w.cs.CoreV1().Services(w.ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() == nil {
				w.note("watch: %v", err)
				sleep(ctx, 500*time.Millisecond)
			}
			continue
		}
		rv = w.drain(ctx, wi, rv)
	}
}

// drain handles one watch's events and returns the resource version to go
// on from.
func (w *ingressWatch) drain(ctx context.Context, wi watch.Interface, rv string) string {
	defer wi.Stop()
	for {
		select {
		case <-ctx.Done():
			return rv
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return rv
			}
			switch ev.Type {
			case watch.Added, watch.Modified, watch.Deleted:
				svc, ok := ev.Object.(*corev1.Service)
				if !ok {
					continue
				}
				rv = svc.ResourceVersion
				w.check(ev.Type, svc)
			case watch.Bookmark:
				if m, err := metaOf(ev.Object); err == nil {
					rv = m.GetResourceVersion()
				}
			case watch.Error:
				err := apierrors.FromObject(ev.Object)
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					// The history is gone: compare the present state and go
					// on from there (counted, and reported if it happens).
					return w.relist(ctx, rv)
				}
				w.note("watch error: %v", err)
				return rv
			}
		}
	}
}

func (w *ingressWatch) relist(ctx context.Context, rv string) string {
	list, err := w.cs.CoreV1().Services(w.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		if ctx.Err() == nil {
			w.note("re-listing after an expired watch: %v", err)
			sleep(ctx, 500*time.Millisecond)
		}
		return rv
	}
	w.mu.Lock()
	w.relisted++
	w.mu.Unlock()
	seen := map[string]bool{}
	for i := range list.Items {
		seen[list.Items[i].Name] = true
		w.check(watch.Modified, &list.Items[i])
	}
	for name := range w.want {
		if !seen[name] {
			w.note("%s is gone (re-list)", name)
		}
	}
	return list.ResourceVersion
}

func (w *ingressWatch) check(typ watch.EventType, svc *corev1.Service) {
	want, guarded := w.want[svc.Name]
	if !guarded {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	at := time.Since(w.start).Round(time.Millisecond)
	if typ == watch.Deleted {
		w.violations = append(w.violations, fmt.Sprintf("+%v %s deleted", at, svc.Name))
		return
	}
	w.writes[svc.Name]++
	if !equality.Semantic.DeepEqual(normal(svc.Status.LoadBalancer.Ingress), normal(want)) {
		w.violations = append(w.violations, fmt.Sprintf("+%v %s (resourceVersion %s): ingress %s, want %s",
			at, svc.Name, svc.ResourceVersion, describeIngress(svc.Status.LoadBalancer.Ingress), describeIngress(want)))
	}
	if c := condition(svc); c != nil && c.Status == metav1.ConditionTrue {
		w.assigned[svc.Name] = true
	}
}

func (w *ingressWatch) note(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, fmt.Sprintf("+%v ", time.Since(w.start).Round(time.Millisecond))+fmt.Sprintf(format, args...))
}

// stop ends the watch (bounded) and returns what it recorded.
func (w *ingressWatch) stop() (violations []string, assigned map[string]bool, relisted int) {
	w.cancel()
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		w.note("the watch did not stop within 10 s")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.violations), w.assigned, w.relisted
}

// normal treats an empty ingress list and a missing one alike.
func normal(in []corev1.LoadBalancerIngress) []corev1.LoadBalancerIngress {
	if len(in) == 0 {
		return nil
	}
	return in
}

func describeIngress(in []corev1.LoadBalancerIngress) string {
	if len(in) == 0 {
		return "[]"
	}
	var out []string
	for _, i := range in {
		s := i.IP
		if i.IPMode != nil {
			s += " (" + string(*i.IPMode) + ")"
		}
		if i.Hostname != "" {
			s += " hostname " + i.Hostname
		}
		if len(i.Ports) > 0 {
			s += fmt.Sprintf(" ports %v", i.Ports)
		}
		out = append(out, s)
	}
	return fmt.Sprint(out)
}

// condition returns the Service's metallb.io/AddressAssigned condition.
func condition(svc *corev1.Service) *metav1.Condition {
	for i := range svc.Status.Conditions {
		if svc.Status.Conditions[i].Type == assign.ConditionType {
			return &svc.Status.Conditions[i]
		}
	}
	return nil
}

func metaOf(obj any) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return m, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

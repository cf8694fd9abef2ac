package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// ipWatch follows every change of the Services of one namespace, so that a
// duplicate that lasts only a moment is caught too, not only one left in
// the final state. It records each moment an address was held by two
// Services, and each moment a pinned Service showed other addresses than
// the ones it must keep.
type ipWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	current  map[string][]string // Service -> ingress IPs, as last seen
	pinned   map[string][]string
	events   int
	problems []string
}

// watchIPs starts following the Services of namespace ns; stop ends it.
func watchIPs(t *testing.T, ns string) *ipWatch {
	t.Helper()
	cs, err := kubernetes.NewForConfig(clus.Config)
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs.CoreV1().Services(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing services: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &ipWatch{cancel: cancel, done: make(chan struct{}), current: map[string][]string{}, pinned: map[string][]string{}}
	for i := range list.Items {
		w.observe(watch.Added, &list.Items[i])
	}
	go w.run(ctx, cs, ns, list.ResourceVersion)
	t.Cleanup(func() { w.stop() })
	return w
}

// pin records that Service name must show exactly ips from now on (until
// it is deleted).
func (w *ipWatch) pin(name string, ips []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pinned[name] = ips
}

func (w *ipWatch) run(ctx context.Context, cs kubernetes.Interface, ns, rv string) {
	defer close(w.done)
	for ctx.Err() == nil {
		wi, err := cs.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() == nil {
				w.problem("watch: %v", err)
			}
			return
		}
		rv = w.drain(ctx, wi, rv)
		wi.Stop()
	}
}

// drain consumes one watch until it ends and returns the last resource
// version seen, from which the next watch resumes.
func (w *ipWatch) drain(ctx context.Context, wi watch.Interface, rv string) string {
	for {
		select {
		case <-ctx.Done():
			return rv
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return rv
			}
			if ev.Type == watch.Error {
				w.problem("watch error: %v", ev.Object)
				return rv
			}
			svc, isSvc := ev.Object.(*corev1.Service)
			if !isSvc {
				continue
			}
			rv = svc.ResourceVersion
			if ev.Type != watch.Bookmark {
				w.observe(ev.Type, svc)
			}
		}
	}
}

func (w *ipWatch) observe(typ watch.EventType, svc *corev1.Service) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events++
	name := svc.Name
	if typ == watch.Deleted {
		delete(w.current, name)
		delete(w.pinned, name)
		return
	}
	ips := cluster.IngressIPs(svc)
	w.current[name] = ips
	if want, ok := w.pinned[name]; ok && !slices.Equal(ips, want) {
		w.problems = append(w.problems, fmt.Sprintf("%s showed %v, must keep %v (resourceVersion %s)", name, ips, want, svc.ResourceVersion))
	}
	for other, theirs := range w.current {
		if other == name {
			continue
		}
		for _, ip := range ips {
			if slices.Contains(theirs, ip) {
				w.problems = append(w.problems, fmt.Sprintf("%s held by both %s and %s (resourceVersion %s)", ip, name, other, svc.ResourceVersion))
			}
		}
	}
}

func (w *ipWatch) problem(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
}

// stop ends the watch and returns the problems seen and the number of
// observed changes.
func (w *ipWatch) stop() (problems []string, events int) {
	w.cancel()
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		w.problem("watch did not end within 10 s")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.problems), w.events
}

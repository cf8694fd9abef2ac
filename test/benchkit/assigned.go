package benchkit

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Assigned counts the workload's Services (named by ServiceName) of a
// namespace that have an ingress IP, as an informer sees them.
type Assigned struct {
	mu    sync.Mutex
	names map[string]bool
	ips   map[netip.Addr]bool // their ingress IPs
	want  int
	done  chan struct{} // closed when all want are seen
	at    time.Time     // when that happened; read after done
}

// WatchAssigned starts an informer on ns's Services (until ctx ends),
// waiting for want of them with an IP, and returns once it has synced.
func WatchAssigned(ctx context.Context, cs kubernetes.Interface, ns string, want int) (*Assigned, error) {
	a := &Assigned{names: map[string]bool{}, ips: map[netip.Addr]bool{}, want: want, done: make(chan struct{})}
	if err := WatchServices(ctx, cs, ns, a.observe); err != nil {
		return nil, err
	}
	return a, nil
}

// WatchServices starts an informer on ns's Services (until ctx ends)
// that calls fn with each Service added or updated, and returns once it
// has synced.
func WatchServices(ctx context.Context, cs kubernetes.Interface, ns string, fn func(*corev1.Service)) error {
	observe := func(obj any) {
		if svc, ok := obj.(*corev1.Service); ok {
			fn(svc)
		}
	}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().Services().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
	}); err != nil {
		return err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return errors.New("service informer did not sync")
	}
	return nil
}

// Count is how many have an IP so far.
func (a *Assigned) Count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.names)
}

// HasIP tells whether ip is the ingress IP of an assigned Service.
func (a *Assigned) HasIP(ip netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ips[ip]
}

// Done is closed once all the wanted Services have an IP.
func (a *Assigned) Done() <-chan struct{} { return a.done }

// At is when the last wanted Service was seen with an IP; valid once
// Done is closed.
func (a *Assigned) At() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.at
}

func (a *Assigned) observe(svc *corev1.Service) {
	if len(svc.Status.LoadBalancer.Ingress) == 0 || !strings.HasPrefix(svc.Name, servicePrefix) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.names[svc.Name] {
		return
	}
	a.names[svc.Name] = true
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if ip, err := netip.ParseAddr(in.IP); err == nil {
			a.ips[ip] = true
		}
	}
	if len(a.names) == a.want {
		a.at = time.Now()
		close(a.done)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// workload creates Services svc-0 .. svc-(n-1) in benchNS with
// concurrency goroutines, each followed by its EndpointSlice (one ready
// endpoint per node of nodes) when nodes is set, and by the status the
// controller would write (poolIP(i) from pool "scale") when writeStatus
// is set. The first error stops everything.
type workload struct {
	cs          kubernetes.Interface
	n           int
	concurrency int
	nodes       []string
	podIPs      []string
	writeStatus bool
}

func (w *workload) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w.concurrency {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < w.n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := w.one(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func (w *workload) one(ctx context.Context, i int) error {
	name := "svc-" + strconv.Itoa(i)
	svc, err := w.cs.CoreV1().Services(benchNS).Create(ctx, cluster.LoadBalancer(benchNS, name), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	if len(w.nodes) > 0 {
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: benchNS,
				Name:      name + "-bench",
				Labels:    map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "benchbgp.ferrolb.io"},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(int32(lab.BackendPort))}},
		}
		for k, node := range w.nodes {
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{w.podIPs[k]},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
				NodeName:   ptr.To(node),
			})
		}
		if _, err := w.cs.DiscoveryV1().EndpointSlices(benchNS).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	if !w.writeStatus {
		return nil
	}
	ip := poolIP(i).String()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}},"status":{"loadBalancer":{"ingress":[{"ip":%q}]},"conditions":[{"type":%q,"status":"True","reason":%q,"message":%q,"observedGeneration":%d,"lastTransitionTime":%q}]}}`,
		assign.AnnotationAllocatedFromPool, "scale", ip, assign.ConditionType, assign.ReasonAssigned,
		fmt.Sprintf("assigned %s from IPAddressPool %q", ip, "scale"), svc.Generation, time.Now().UTC().Format(time.RFC3339))
	_, err = w.cs.CoreV1().Services(benchNS).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	return err
}

// assigned counts the Services of benchNS named svc-* that have an
// ingress IP.
type assigned struct {
	mu    sync.Mutex
	names map[string]bool
	want  int
	done  chan struct{} // closed when all want are seen
	at    time.Time     // when that happened; read after done
}

func (a *assigned) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.names)
}

func (a *assigned) observe(obj any) {
	svc, ok := obj.(*corev1.Service)
	if !ok || len(svc.Status.LoadBalancer.Ingress) == 0 || len(svc.Name) < 4 || svc.Name[:4] != "svc-" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.names[svc.Name] {
		return
	}
	a.names[svc.Name] = true
	if len(a.names) == a.want {
		a.at = time.Now()
		close(a.done)
	}
}

// watchAssigned starts an informer on benchNS's Services (until ctx ends)
// and returns once it has synced.
func watchAssigned(ctx context.Context, cs kubernetes.Interface, want int) (*assigned, error) {
	a := &assigned{names: map[string]bool{}, want: want, done: make(chan struct{})}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(benchNS))
	inf := f.Core().V1().Services().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.observe,
		UpdateFunc: func(_, obj any) { a.observe(obj) },
	}); err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, errors.New("service informer did not sync")
	}
	return a, nil
}

// baselineRun times a plain client on a fresh API server creating the
// Services (and, if slices, one EndpointSlice each) and writing the
// statuses the controller would, until an informer has seen every IP.
func baselineRun(ctx context.Context, o options, slices bool) (time.Duration, string, error) {
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return 0, "", err
	}
	defer func() {
		c.Stop()
		if o.keepDir {
			progress("  cluster files kept in %s", c.Dir)
		} else {
			_ = os.RemoveAll(c.Dir)
		}
	}()
	cs, err := clientset(c.Config)
	if err != nil {
		return 0, "", err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, o.phaseTimeout)
	defer cancel()
	seen, err := watchAssigned(ctx, cs, o.services)
	if err != nil {
		return 0, "", err
	}
	w := &workload{cs: cs, n: o.services, concurrency: o.concurrency, writeStatus: true}
	if slices {
		for i := 1; i <= 3; i++ {
			w.nodes = append(w.nodes, lab.NodeName(i))
			w.podIPs = append(w.podIPs, lab.PodIPv4(i).String())
		}
	}
	cpu0 := benchkit.SampleChildren()
	start := time.Now()
	if err := w.run(ctx); err != nil {
		return 0, "", err
	}
	select {
	case <-seen.done:
	case <-ctx.Done():
		return 0, "", fmt.Errorf("%d/%d statuses seen: %w", seen.count(), o.services, ctx.Err())
	}
	d := seen.at.Sub(start)
	cpu := benchkit.CPUSummary(cpu0, benchkit.SampleChildren())
	progress("  %d Services written in %s; CPU: %s", o.services, secs(d), cpu)
	return d, cpu, nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

const (
	benchNS  = "bench" // the measured Services live here
	poolName = "bench"
	// The pool takes 198.18.0.0/16, so cluster IPs come from the other
	// half of the benchmark range 198.18.0.0/15.
	serviceCIDRs = "198.19.0.0/16,2001:db8:ffff::/108"
)

var poolYAML = []byte(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: ` + poolName + `
  namespace: ` + cluster.Namespace + `
spec:
  addresses: [198.18.0.0/16]
`)

// builtBinDir holds the controller binary built for this run; main
// removes it at the end.
var builtBinDir string

// env is one fresh cluster and an unthrottled clientset for it.
type env struct {
	c  *cluster.Cluster
	cs kubernetes.Interface
	o  options
}

// newEnv starts a cluster with the bench namespace; close stops it.
func newEnv(ctx context.Context, o options) (*env, error) {
	c, err := cluster.Start(ctx, cluster.Options{API: kubeapi.Options{ServiceCIDRs: serviceCIDRs}})
	if err != nil {
		return nil, err
	}
	e := &env{c: c, o: o}
	progress("  cluster (kubeconfig, logs) in %s", c.Dir)
	if e.cs, err = benchkit.Clientset(c.Config); err != nil {
		e.close()
		return nil, err
	}
	if err := benchkit.CreateNamespace(ctx, e.cs, benchNS); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) close() {
	e.c.Stop()
	if e.o.keepLogs {
		progress("logs kept in %s", e.c.Dir)
	} else {
		_ = os.RemoveAll(e.c.Dir)
	}
}

// startController applies the pool, starts the controller and waits until
// it has assigned a probe Service in "default": configuration loaded,
// leader elected, caches synced.
func (e *env) startController(ctx context.Context) (*cluster.Proc, error) {
	if err := e.c.ApplyYAML(ctx, poolYAML); err != nil {
		return nil, err
	}
	ctl, err := e.c.StartController("controller", e.o.controllerArgs...)
	if err != nil {
		return nil, err
	}
	if bin, err := cluster.Binary("./cmd/controller"); err == nil { // built once by StartController
		builtBinDir = filepath.Dir(bin)
	}
	probe, err := e.cs.CoreV1().Services("default").Create(ctx, cluster.LoadBalancer("default", "probe"), metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.o.phaseTimeout)
	defer cancel()
	for {
		if ctl.Exited() {
			return nil, fmt.Errorf("controller exited; log ends with:\n%s", ctl.Tail(20))
		}
		s, err := e.cs.CoreV1().Services("default").Get(ctx, probe.Name, metav1.GetOptions{})
		if err == nil && len(s.Status.LoadBalancer.Ingress) > 0 {
			return ctl, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("probe Service not assigned: %w; controller log ends with:\n%s", ctx.Err(), ctl.Tail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// assignLoad creates n Services in benchNS (see createAll; write is the
// direct client's status writer, nil when the controller assigns) and
// returns once an informer has seen all n with an ingress IP. ctl, if set,
// is watched for an early exit.
func (e *env) assignLoad(ctx context.Context, n int, ctl *cluster.Proc, write func(context.Context, *corev1.Service, int) error) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, e.o.phaseTimeout)
	defer cancel()
	seen, err := benchkit.WatchAssigned(ctx, e.cs, benchNS, n)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	created := make(chan error, 1)
	go func() { created <- e.createAll(ctx, n, write) }()

	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-created:
			if err != nil {
				return 0, err
			}
			progress("  all requests answered after %s", secs(time.Since(start)))
			created = nil
		case <-seen.Done():
			return time.Since(start), nil
		case <-tick.C:
			progress("  %d/%d with an IP after %s", seen.Count(), n, secs(time.Since(start)))
			if ctl != nil && ctl.Exited() {
				return 0, fmt.Errorf("controller exited; log ends with:\n%s", ctl.Tail(20))
			}
		case <-ctx.Done():
			return 0, fmt.Errorf("%d/%d Services with an IP: %w", seen.Count(), n, ctx.Err())
		}
	}
}

// createAll creates Services benchkit.ServiceName(0 .. n-1) with o.concurrency
// goroutines. If write is set, each created Service is handed at once to
// o.concurrency other goroutines that call write on it: the same shape as
// the controller's run (creators, and 16 workers behind an unbounded
// queue). The first error stops everything.
func (e *env) createAll(ctx context.Context, n int, write func(context.Context, *corev1.Service, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type created struct {
		svc *corev1.Service
		i   int
	}
	queue := make(chan created, n) // never full: creators do not wait for writers
	var next atomic.Int64
	var creators, writers sync.WaitGroup
	for range e.o.concurrency {
		creators.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				svc, err := e.cs.CoreV1().Services(benchNS).Create(ctx, cluster.LoadBalancer(benchNS, benchkit.ServiceName(i)), metav1.CreateOptions{})
				if err != nil {
					cancel(err)
					return
				}
				if write != nil {
					queue <- created{svc, i}
				}
			}
		})
		if write != nil {
			writers.Go(func() {
				for c := range queue {
					if ctx.Err() != nil {
						continue // drain
					}
					if err := write(ctx, c.svc, c.i); err != nil {
						cancel(err)
					}
				}
			})
		}
	}
	creators.Wait()
	close(queue)
	writers.Wait()
	return context.Cause(ctx) // nil unless a request failed or time ran out
}

// writeStatus is the direct client's stand-in for the controller: the same
// strategic merge patch on the status subresource (IP, pool annotation,
// condition) that the controller sends, and with -direct-events also the
// event the controller records.
func (e *env) writeStatus(ctx context.Context, svc *corev1.Service, i int) error {
	ip := fmt.Sprintf("198.18.%d.%d", i/256%256, i%256)
	err := benchkit.WriteStatus(ctx, e.cs, svc, ip, poolName)
	if err != nil || !e.o.directEvents {
		return err
	}
	// The Normal IPAllocated event the controller records (as MetalLB does).
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNS, Name: svc.Name + "." + strconv.FormatInt(now.UnixNano(), 16)},
		InvolvedObject: corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: benchNS, Name: svc.Name,
			UID: svc.UID, ResourceVersion: svc.ResourceVersion},
		Type: corev1.EventTypeNormal, Reason: assign.EventIPAllocated, Message: fmt.Sprintf("Assigned IP [%q]", ip),
		Source:         corev1.EventSource{Component: "metallb-controller"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	_, err = e.cs.CoreV1().Events(benchNS).Create(ctx, ev, metav1.CreateOptions{})
	return err
}

// controllerRun times the controller assigning o.services Services.
func controllerRun(ctx context.Context, o options) (time.Duration, error) {
	e, err := newEnv(ctx, o)
	if err != nil {
		return 0, err
	}
	defer e.close()
	ctl, err := e.startController(ctx)
	if err != nil {
		return 0, err
	}
	d, err := e.assignLoad(ctx, o.services, ctl, nil)
	if err == nil {
		progress("  controller: all %d assigned in %s; %s", o.services, secs(d), apiWrites(ctx, e.cs))
	}
	return d, err
}

// directRun times a plain client creating o.services Services and writing
// their statuses itself, with no controller running.
func directRun(ctx context.Context, o options) (time.Duration, error) {
	e, err := newEnv(ctx, o)
	if err != nil {
		return 0, err
	}
	defer e.close()
	d, err := e.assignLoad(ctx, o.services, nil, e.writeStatus)
	if err == nil {
		progress("  direct: all %d written in %s; %s", o.services, secs(d), apiWrites(ctx, e.cs))
	}
	return d, err
}

type memory struct{ idle, settled, peak uint64 }

// memoryRun reads the controller's RSS before and after it assigned
// o.memoryServices Services.
func memoryRun(ctx context.Context, o options) (memory, error) {
	var m memory
	e, err := newEnv(ctx, o)
	if err != nil {
		return m, err
	}
	defer e.close()
	ctl, err := e.startController(ctx)
	if err != nil {
		return m, err
	}
	if m.idle, err = ctl.RSS(); err != nil {
		return m, err
	}
	if _, err := e.assignLoad(ctx, o.memoryServices, ctl, nil); err != nil {
		return m, err
	}
	progress("  all assigned; settling for %s", o.settle)
	select {
	case <-ctx.Done():
		return m, ctx.Err()
	case <-time.After(o.settle):
	}
	if m.settled, err = ctl.RSS(); err != nil {
		return m, err
	}
	m.peak, err = ctl.PeakRSS()
	return m, err
}

// apiWrites summarises the API server's own metrics: each write (verb and
// resource) done at least 100 times, with its count and mean latency. It
// shows where a run's time went; errors just yield a note.
func apiWrites(ctx context.Context, cs kubernetes.Interface) string {
	m, err := benchkit.APIMetrics(ctx, cs)
	if err != nil {
		return "API metrics unavailable: " + err.Error()
	}
	return "API writes: " + benchkit.SummarizeWriteLatencies(m, 100)
}

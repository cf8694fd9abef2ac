package benchkit

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// servicePrefix starts the name of every workload Service.
const servicePrefix = "svc-"

// ServiceName is the name of the workload's i-th Service: "svc-<i>".
func ServiceName(i int) string { return servicePrefix + strconv.Itoa(i) }

// Backend is a ready endpoint of a workload Service: a pod IP on a node.
type Backend struct{ Node, IP string }

// NodeBackends lists one backend per node of a lab, at its pod address.
func NodeBackends(l *lab.Lab) []Backend {
	var out []Backend
	for _, nd := range l.Nodes {
		out = append(out, Backend{Node: nd.Name, IP: nd.PodIPv4.String()})
	}
	return out
}

// PlanBackends lists the backends NodeBackends gives for a lab of n
// nodes, without a lab (node1 .. node<n>, the lab's address plan).
func PlanBackends(n int) []Backend {
	var out []Backend
	for i := 1; i <= n; i++ {
		out = append(out, Backend{Node: lab.NodeName(i), IP: lab.PodIPv4(i).String()})
	}
	return out
}

// Workload creates the LoadBalancer Services ServiceName(0) ..
// ServiceName(N-1) in Namespace with Concurrency goroutines, each
// followed by its EndpointSlice when Endpoints is set, and by the status
// the controller would write when StatusIP is set. The first error stops
// everything.
type Workload struct {
	Client      kubernetes.Interface
	Namespace   string
	N           int
	Concurrency int
	// Endpoints, if set, gives the ready endpoints (port lab.BackendPort)
	// of Service i's EndpointSlice, labelled as managed by ManagedBy.
	Endpoints func(i int) []Backend
	ManagedBy string
	// StatusIP, if set, gives the IP written in Service i's status, as
	// allocated from the IPAddressPool Pool.
	StatusIP func(i int) netip.Addr
	Pool     string
}

// Run creates the Services; it returns the first error.
func (w *Workload) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w.Concurrency {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < w.N && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := w.one(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx) // nil unless a request failed or time ran out
}

func (w *Workload) one(ctx context.Context, i int) error {
	name := ServiceName(i)
	svc, err := w.Client.CoreV1().Services(w.Namespace).Create(ctx, cluster.LoadBalancer(w.Namespace, name), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	if w.Endpoints != nil {
		if err := w.createSlice(ctx, name, w.Endpoints(i)); err != nil {
			return err
		}
	}
	if w.StatusIP == nil {
		return nil
	}
	return WriteStatus(ctx, w.Client, svc, w.StatusIP(i).String(), w.Pool)
}

// createSlice creates an IPv4 EndpointSlice for the Service name with a
// ready endpoint per backend.
func (w *Workload) createSlice(ctx context.Context, name string, backends []Backend) error {
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: w.Namespace,
			Name:      name + "-bench",
			Labels:    map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: w.ManagedBy},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(int32(lab.BackendPort))}},
	}
	for _, b := range backends {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{b.IP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			NodeName:   ptr.To(b.Node),
		})
	}
	_, err := w.Client.DiscoveryV1().EndpointSlices(w.Namespace).Create(ctx, slice, metav1.CreateOptions{})
	return err
}

// WriteStatus writes what the controller writes for svc when it assigns
// ip from pool: the same strategic merge patch of the status subresource
// (ingress IP, pool annotation, condition).
func WriteStatus(ctx context.Context, cs kubernetes.Interface, svc *corev1.Service, ip, pool string) error {
	patch := StatusPatch(ip, pool, svc.Generation, time.Now())
	_, err := cs.CoreV1().Services(svc.Namespace).Patch(ctx, svc.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// StatusPatch is the controller's status patch for a Service of the
// given generation assigned ip from pool at time now.
func StatusPatch(ip, pool string, generation int64, now time.Time) []byte {
	return fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}},"status":{"loadBalancer":{"ingress":[{"ip":%q}]},"conditions":[{"type":%q,"status":"True","reason":%q,"message":%q,"observedGeneration":%d,"lastTransitionTime":%q}]}}`,
		assign.AnnotationAllocatedFromPool, pool, ip, assign.ConditionType, assign.ReasonAssigned,
		fmt.Sprintf("assigned %s from IPAddressPool %q", ip, pool), generation, now.UTC().Format(time.RFC3339))
}

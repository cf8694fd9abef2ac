package benchkit

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/ferrolb/ferrolb/internal/core/assign"
)

func TestStatusPatch(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	var got struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Status struct {
			LoadBalancer corev1.LoadBalancerStatus `json:"loadBalancer"`
			Conditions   []metav1.Condition        `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(StatusPatch("198.19.0.1", "scale", 3, at), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{assign.AnnotationAllocatedFromPool: "scale"}, got.Metadata.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if len(got.Status.LoadBalancer.Ingress) != 1 || got.Status.LoadBalancer.Ingress[0].IP != "198.19.0.1" {
		t.Errorf("ingress %+v", got.Status.LoadBalancer.Ingress)
	}
	want := []metav1.Condition{{
		Type: assign.ConditionType, Status: metav1.ConditionTrue, Reason: assign.ReasonAssigned,
		Message: `assigned 198.19.0.1 from IPAddressPool "scale"`, ObservedGeneration: 3,
		LastTransitionTime: metav1.NewTime(at.UTC()),
	}}
	if diff := cmp.Diff(want, got.Status.Conditions); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
}

func TestWorkload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := fake.NewClientset()
	backends := PlanBackends(3)
	w := &Workload{
		Client: cs, Namespace: "bench", N: 7, Concurrency: 3,
		Endpoints: func(i int) []Backend { return backends[i%3 : i%3+1] },
		ManagedBy: "test.ferrolb.io",
		StatusIP:  func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 19, 0, byte(i + 1)}) },
		Pool:      "scale",
	}
	seen, err := WatchAssigned(ctx, cs, "bench", w.N)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-seen.Done():
	case <-ctx.Done():
		t.Fatalf("%d/%d Services seen with an IP", seen.Count(), w.N)
	}
	if seen.At().IsZero() {
		t.Error("At is zero once Done")
	}
	for i := range w.N {
		svc, err := cs.CoreV1().Services("bench").Get(ctx, ServiceName(i), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ing := svc.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != w.StatusIP(i).String() {
			t.Errorf("%s: ingress %+v; want %s", svc.Name, ing, w.StatusIP(i))
		}
		slice, err := cs.DiscoveryV1().EndpointSlices("bench").Get(ctx, ServiceName(i)+"-bench", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(slice.Endpoints) != 1 || *slice.Endpoints[0].NodeName != backends[i%3].Node || slice.Endpoints[0].Addresses[0] != backends[i%3].IP {
			t.Errorf("%s: endpoints %+v; want one on %+v", slice.Name, slice.Endpoints, backends[i%3])
		}
		if got := slice.Labels["kubernetes.io/service-name"]; got != svc.Name {
			t.Errorf("%s: service-name label %q", slice.Name, got)
		}
	}
}

func TestAssignedIgnoresOtherServices(t *testing.T) {
	a := &Assigned{names: map[string]bool{}, ips: map[netip.Addr]bool{}, want: 2, done: make(chan struct{})}
	lb := func(name, ip string) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if ip != "" {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
		}
		return s
	}
	a.observe(lb("probe", "198.19.255.254")) // not a workload Service
	a.observe(lb("svc-0", ""))               // no IP yet
	a.observe(lb("svc-0", "198.19.0.1"))
	a.observe(lb("svc-0", "198.19.0.1")) // counted once
	if a.Count() != 1 {
		t.Fatalf("Count = %d; want 1", a.Count())
	}
	for ip, want := range map[string]bool{"198.19.0.1": true, "198.19.255.254": false, "198.19.0.2": false} {
		if got := a.HasIP(netip.MustParseAddr(ip)); got != want {
			t.Errorf("HasIP(%s) = %v; want %v", ip, got, want)
		}
	}
	a.observe(lb("svc-1", "198.19.0.2"))
	if !a.HasIP(netip.MustParseAddr("198.19.0.2")) {
		t.Error("HasIP(198.19.0.2) = false after svc-1 got it")
	}
	select {
	case <-a.Done():
	default:
		t.Error("not done after both Services had an IP")
	}
}

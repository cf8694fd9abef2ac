package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// The checkers below decide whether the scenarios pass: they must be able
// to say no.

func svcWith(name string, ips ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, ip := range ips {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return s
}

func TestIPWatchObserve(t *testing.T) {
	type step struct {
		typ watch.EventType
		svc *corev1.Service
	}
	tests := []struct {
		name         string
		pin          map[string][]string
		steps        []step
		wantProblems int
	}{
		{
			name: "distinct addresses",
			steps: []step{
				{watch.Added, svcWith("a", "192.0.2.1")},
				{watch.Added, svcWith("b", "192.0.2.2")},
			},
		},
		{
			name: "a moment of duplication is caught",
			steps: []step{
				{watch.Added, svcWith("a", "192.0.2.1")},
				{watch.Modified, svcWith("b", "192.0.2.1")},
				{watch.Modified, svcWith("b", "192.0.2.2")},
			},
			wantProblems: 1,
		},
		{
			name: "an address freed by a deletion may be reused",
			steps: []step{
				{watch.Added, svcWith("a", "192.0.2.1")},
				{watch.Deleted, svcWith("a", "192.0.2.1")},
				{watch.Modified, svcWith("b", "192.0.2.1")},
			},
		},
		{
			name: "a pinned Service that loses its address is caught",
			pin:  map[string][]string{"a": {"192.0.2.1"}},
			steps: []step{
				{watch.Modified, svcWith("a")},
				{watch.Modified, svcWith("a", "192.0.2.1")},
			},
			wantProblems: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &ipWatch{current: map[string][]string{}, pinned: map[string][]string{}}
			for n, ips := range tc.pin {
				w.pin(n, ips)
			}
			for _, s := range tc.steps {
				w.observe(s.typ, s.svc)
			}
			if len(w.problems) != tc.wantProblems || w.events != len(tc.steps) {
				t.Errorf("problems %q, events %d; want %d problems, %d events", w.problems, w.events, tc.wantProblems, len(tc.steps))
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	svcs := map[string]*corev1.Service{
		"a": svcWith("a", "192.0.2.1"),
		"b": svcWith("b", "192.0.2.2", "2001:db8::1"),
		"c": svcWith("c"),
	}
	if d := duplicates(svcs); len(d) != 0 {
		t.Errorf("duplicates = %v, want none", d)
	}
	svcs["c"] = svcWith("c", "2001:db8::1")
	if d := duplicates(svcs); len(d) != 1 {
		t.Errorf("duplicates = %v, want 2001:db8::1 held by b and c", d)
	}
}

func TestSamples(t *testing.T) {
	text := `# HELP metallb_allocator_addresses_total Number of usable IP addresses, per pool
# TYPE metallb_allocator_addresses_total gauge
metallb_allocator_addresses_total{pool="a"} 16
metallb_allocator_addresses_total{pool="b"} 1.8446744073709552e+19
metallb_k8s_client_config_loaded_bool 1
broken_line
`
	want := map[string]float64{
		`metallb_allocator_addresses_total{pool="a"}`: 16,
		`metallb_allocator_addresses_total{pool="b"}`: 1.8446744073709552e+19,
		`metallb_k8s_client_config_loaded_bool`:       1,
	}
	if diff := cmp.Diff(want, samples(text)); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}

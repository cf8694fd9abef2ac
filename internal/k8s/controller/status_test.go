package controller

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/internal/core/assign"
)

func TestStatusPatch(t *testing.T) {
	now := metav1.Now()
	earlier := metav1.NewTime(now.Add(-3600e9))
	assigned := assign.Outcome{
		IPs:       []netip.Addr{netip.MustParseAddr("192.0.2.1")},
		Pool:      "p",
		Condition: &assign.Condition{Status: true, Reason: "Assigned", Message: "m"},
	}
	settled := func() *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{assign.AnnotationAllocatedFromPool: "p"}},
			Status: corev1.ServiceStatus{
				// The API server defaults ipMode to VIP.
				LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1", IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}},
				Conditions:   []metav1.Condition{{Type: assign.ConditionType, Status: "True", Reason: "Assigned", Message: "m", LastTransitionTime: earlier}},
			},
		}
	}
	tests := []struct {
		name string
		svc  *corev1.Service
		out  assign.Outcome
		want string // JSON, "" = no patch
	}{
		{name: "settled: no write", svc: settled(), out: assigned},
		{name: "fresh Service", svc: &corev1.Service{}, out: assigned,
			want: `{"metadata":{"annotations":{"metallb.io/ip-allocated-from-pool":"p"}},"status":{"conditions":[{"lastTransitionTime":"` + now.UTC().Format("2006-01-02T15:04:05Z") + `","message":"m","reason":"Assigned","status":"True","type":"metallb.io/AddressAssigned"}],"loadBalancer":{"ingress":[{"ip":"192.0.2.1"}]}}}`},
		{name: "proxy ipMode is rewritten", svc: func() *corev1.Service {
			s := settled()
			s.Status.LoadBalancer.Ingress[0].IPMode = ptr.To(corev1.LoadBalancerIPModeProxy)
			return s
		}(), out: assigned, want: `{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"}]}}}`},
		{name: "message change keeps the transition time", svc: settled(),
			out:  assign.Outcome{IPs: assigned.IPs, Pool: "p", Condition: &assign.Condition{Status: true, Reason: "Assigned", Message: "m2"}},
			want: `{"status":{"conditions":[{"lastTransitionTime":"` + earlier.UTC().Format("2006-01-02T15:04:05Z") + `","message":"m2","reason":"Assigned","status":"True","type":"metallb.io/AddressAssigned"}]}}`},
		{name: "no longer a load balancer: everything removed", svc: settled(), out: assign.Outcome{},
			want: `{"metadata":{"annotations":{"metallb.io/ip-allocated-from-pool":null}},"status":{"conditions":[{"$patch":"delete","type":"metallb.io/AddressAssigned"}],"loadBalancer":{"ingress":[]}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := statusPatch(tc.svc, tc.out, now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if got != nil {
					t.Fatalf("unexpected patch %s", got)
				}
				return
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.want), &w); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("patch (-want +got):\n%s", diff)
			}
		})
	}
}

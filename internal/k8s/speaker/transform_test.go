package speaker

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func fullService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "ns", UID: "u1", ResourceVersion: "42",
			Labels:          map[string]string{"app": "web"},
			Annotations:     map[string]string{"metallb.io/address-pool": "p", lastApplied: `{"big":"json"}`},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
			OwnerReferences: []metav1.OwnerReference{{Name: "o"}},
		},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
			LoadBalancerClass: ptr.To("c"), ClusterIP: "198.51.100.9", ClusterIPs: []string{"198.51.100.9"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30080}},
			Selector: map[string]string{"app": "web"},
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {IP: "2001:db8::1"}}}},
	}
}

func fullSlice() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-x", Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "web"},
			Annotations: map[string]string{"a": "b"}, OwnerReferences: []metav1.OwnerReference{{Name: "web"}},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"198.51.100.20"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true)},
				NodeName: ptr.To("n1"), Zone: ptr.To("z"), TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "web-1"}},
			{Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}, NodeName: ptr.To("n2")},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
}

// The trimmed objects plan exactly as the originals, keep what events
// name an object by, and lose the bulk; trimming twice changes nothing.
func TestTrimKeepsWhatThePlannerReads(t *testing.T) {
	svc, sl := fullService(), fullSlice()
	ts, err := TrimService(svc)
	if err != nil {
		t.Fatal(err)
	}
	tsl, _ := TrimEndpointSlice(sl)
	tSvc, tSl := ts.(*corev1.Service), tsl.(*discoveryv1.EndpointSlice)
	want := toPlanService(svc, []*discoveryv1.EndpointSlice{sl})
	want.Annotations = map[string]string{"metallb.io/address-pool": "p"} // kubectl's copy goes
	if d := cmp.Diff(want, toPlanService(tSvc, []*discoveryv1.EndpointSlice{tSl}), cmpopts.EquateComparable(netip.Addr{})); d != "" {
		t.Errorf("planner input changed (-original +trimmed):\n%s", d)
	}
	if !handles(tSvc, "c") || handles(tSvc, "") {
		t.Error("load balancer class lost")
	}
	if tSvc.UID != "u1" || tSvc.ResourceVersion != "42" || tSvc.Name != "web" || tSvc.Namespace != "ns" {
		t.Errorf("identity lost: %+v", tSvc.ObjectMeta)
	}
	if len(tSvc.Spec.Ports) != 0 || tSvc.Spec.Selector != nil || tSvc.Spec.ClusterIP != "" || tSvc.ManagedFields != nil ||
		tSvc.OwnerReferences != nil || tSvc.Annotations[lastApplied] != "" {
		t.Errorf("Service not trimmed: %+v", tSvc)
	}
	if svc.Annotations[lastApplied] == "" {
		t.Error("the original Service was changed")
	}
	if tSl.Ports != nil || tSl.Endpoints[0].TargetRef != nil || tSl.Endpoints[0].Zone != nil || tSl.Annotations != nil || tSl.OwnerReferences != nil {
		t.Errorf("EndpointSlice not trimmed: %+v", tSl)
	}
	again, _ := TrimService(tSvc)
	if d := cmp.Diff(tSvc, again); d != "" {
		t.Errorf("trimming twice changed the Service:\n%s", d)
	}
	againSl, _ := TrimEndpointSlice(tSl)
	if d := cmp.Diff(tSl, againSl); d != "" {
		t.Errorf("trimming twice changed the slice:\n%s", d)
	}
	// Anything else passes through.
	if out, _ := TrimService(sl); out != any(sl) {
		t.Error("a non-Service was changed")
	}
}

func TestTrimNodeKeepsLabelsAndNetworkUnavailable(t *testing.T) {
	for _, unavailable := range []corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse} {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}, Annotations: map[string]string{"x": "y"}},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{
				{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule},
			}},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{
					{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"},
					{Type: corev1.NodeNetworkUnavailable, Status: unavailable, Reason: "RouteCreated", Message: "m"},
				},
				Images:   []corev1.ContainerImage{{Names: []string{"registry.example/app:1"}, SizeBytes: 1 << 20}},
				NodeInfo: corev1.NodeSystemInfo{KernelVersion: "6.1"},
			},
		}
		out, _ := TrimNode(n)
		tn := out.(*corev1.Node)
		if d := cmp.Diff(toPlanNode(n), toPlanNode(tn)); d != "" {
			t.Errorf("NetworkUnavailable=%s: planner input changed (-original +trimmed):\n%s", unavailable, d)
		}
		if tn.Status.Images != nil || tn.Status.NodeInfo.KernelVersion != "" || len(tn.Status.Conditions) != 1 || tn.Annotations != nil {
			t.Errorf("Node not trimmed: %+v", tn)
		}
	}
}

// The out-of-service taint survives trimming and takes the node out; other
// taints are dropped.
func TestTrimNodeKeepsOutOfService(t *testing.T) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule},
			{Key: "node.kubernetes.io/out-of-service", Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute},
		}},
	}
	if !toPlanNode(n).OutOfService {
		t.Fatalf("toPlanNode missed the out-of-service taint")
	}
	out, _ := TrimNode(n)
	tn := out.(*corev1.Node)
	if !toPlanNode(tn).OutOfService || len(tn.Spec.Taints) != 1 {
		t.Errorf("trimmed taints %+v: want only out-of-service", tn.Spec.Taints)
	}
}

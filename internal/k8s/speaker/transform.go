package speaker

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/ferrolb/ferrolb/internal/core/plan"
)

// The speaker caches every Service, EndpointSlice and Node of the cluster
// but reads only a few of their fields (convert.go). These transforms,
// applied before objects enter the informer caches, keep those fields
// and what events need to name an object, and drop the rest: ports,
// selectors and cluster IPs of Services, ports and target references of
// endpoints, and a Node's image list and node info, which in a large
// cluster weigh more than everything the speaker uses. They are
// idempotent, and the speaker never writes these objects back.

// lastApplied is kubectl's copy of the whole object, often the largest
// annotation of a Service.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// trimMeta keeps the identity, labels and annotations of m.
func trimMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp,
		Labels: m.Labels, Annotations: m.Annotations,
	}
	if _, ok := out.Annotations[lastApplied]; ok {
		a := make(map[string]string, len(out.Annotations)-1)
		for k, v := range out.Annotations {
			if k != lastApplied {
				a[k] = v
			}
		}
		out.Annotations = a
	}
	return out
}

// TrimService keeps what announcing a Service needs: type, class,
// traffic policy, ingress IPs, labels and annotations.
func TrimService(obj any) (any, error) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	return &corev1.Service{
		TypeMeta:   s.TypeMeta,
		ObjectMeta: trimMeta(s.ObjectMeta),
		Spec: corev1.ServiceSpec{
			Type:                  s.Spec.Type,
			ExternalTrafficPolicy: s.Spec.ExternalTrafficPolicy,
			LoadBalancerClass:     s.Spec.LoadBalancerClass,
		},
		Status: corev1.ServiceStatus{LoadBalancer: s.Status.LoadBalancer},
	}, nil
}

// TrimEndpointSlice keeps, per endpoint, its addresses, conditions and
// node.
func TrimEndpointSlice(obj any) (any, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	out := &discoveryv1.EndpointSlice{
		TypeMeta:    s.TypeMeta,
		ObjectMeta:  trimMeta(s.ObjectMeta),
		AddressType: s.AddressType,
		Endpoints:   make([]discoveryv1.Endpoint, len(s.Endpoints)),
	}
	out.Annotations = nil
	for i, e := range s.Endpoints {
		out.Endpoints[i] = discoveryv1.Endpoint{Addresses: e.Addresses, Conditions: e.Conditions, NodeName: e.NodeName}
	}
	return out, nil
}

// TrimNode keeps a Node's labels, its NetworkUnavailable condition and its
// out-of-service taint.
func TrimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	out := &corev1.Node{TypeMeta: n.TypeMeta, ObjectMeta: trimMeta(n.ObjectMeta)}
	out.Annotations = nil
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable {
			out.Status.Conditions = append(out.Status.Conditions, corev1.NodeCondition{Type: c.Type, Status: c.Status})
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Key == plan.TaintOutOfService {
			out.Spec.Taints = append(out.Spec.Taints, corev1.Taint{Key: t.Key, Effect: t.Effect})
		}
	}
	return out, nil
}

var _ toolscache.TransformFunc = TrimService

package speaker

import (
	"context"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// statusObject is what the writer needs of an existing status object.
type statusObject struct {
	Name   string
	Labels map[string]string
	// Node, ServiceName, ServiceNamespace and the kind's list (interfaces
	// or peers) as found in the object's status.
	Node, ServiceName, ServiceNamespace string
	List                                []string
}

// statusKind adapts the writer to ServiceL2Status or ServiceBGPStatus.
type statusKind interface {
	name() string
	generateName() string
	list(ctx context.Context, c client.Client, namespace string) ([]statusObject, error)
	object(namespace, name string) client.Object
	// status is the merge-patch body of the object's status (fields that
	// must be cleared are explicitly null).
	status(node, svcNamespace, svcName string, spec StatusSpec) map[string]any
	want(spec StatusSpec) []string
}

type l2Kind struct{}

func (l2Kind) name() string         { return "ServiceL2Status" }
func (l2Kind) generateName() string { return "l2-" }
func (l2Kind) want(s StatusSpec) []string {
	return s.Interfaces
}

func (l2Kind) list(ctx context.Context, c client.Client, ns string) ([]statusObject, error) {
	var list v1beta1.ServiceL2StatusList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	out := make([]statusObject, len(list.Items))
	for i, o := range list.Items {
		var names []string
		for _, ifc := range o.Status.Interfaces {
			names = append(names, ifc.Name)
		}
		out[i] = statusObject{Name: o.Name, Labels: o.Labels, Node: o.Status.Node,
			ServiceName: o.Status.ServiceName, ServiceNamespace: o.Status.ServiceNamespace, List: names}
	}
	return out, nil
}

func (l2Kind) object(ns, name string) client.Object {
	return &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func (l2Kind) status(node, ns, name string, spec StatusSpec) map[string]any {
	st := map[string]any{"node": node, "serviceName": name, "serviceNamespace": ns, "interfaces": nil}
	if len(spec.Interfaces) > 0 {
		ifcs := make([]map[string]string, len(spec.Interfaces))
		for i, n := range spec.Interfaces {
			ifcs[i] = map[string]string{"name": n}
		}
		st["interfaces"] = ifcs
	}
	return st
}

type bgpKind struct{}

func (bgpKind) name() string               { return "ServiceBGPStatus" }
func (bgpKind) generateName() string       { return "bgp-" }
func (bgpKind) want(s StatusSpec) []string { return s.Peers }

func (bgpKind) list(ctx context.Context, c client.Client, ns string) ([]statusObject, error) {
	var list v1beta1.ServiceBGPStatusList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	out := make([]statusObject, len(list.Items))
	for i, o := range list.Items {
		out[i] = statusObject{Name: o.Name, Labels: o.Labels, Node: o.Status.Node,
			ServiceName: o.Status.ServiceName, ServiceNamespace: o.Status.ServiceNamespace, List: o.Status.Peers}
	}
	return out, nil
}

func (bgpKind) object(ns, name string) client.Object {
	return &v1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func (bgpKind) status(node, ns, name string, spec StatusSpec) map[string]any {
	st := map[string]any{"node": node, "serviceName": name, "serviceNamespace": ns, "peers": nil}
	if len(spec.Peers) > 0 {
		st["peers"] = spec.Peers
	}
	return st
}

// matches reports whether an existing object already says what spec says.
func matches(k statusKind, o statusObject, node string, spec StatusSpec) bool {
	ns, name, _ := strings.Cut(spec.Service, "/")
	return o.Node == node && o.ServiceName == name && o.ServiceNamespace == ns && slices.Equal(o.List, k.want(spec))
}

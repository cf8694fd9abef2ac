package lab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// startBackend serves the node's name, as the whole body of every answer,
// on port BackendPort (IPv4 and IPv6) inside the node's pod namespace. The
// server runs in the lab's process; only its socket lives in the pod.
func startBackend(node *Node) (*http.Server, error) {
	ln, err := listenIn(node.PodNS, "[::]:"+strconv.Itoa(BackendPort))
	if err != nil {
		return nil, err
	}
	name := node.Name
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, name)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

// endpointSliceManager is the endpointslice.kubernetes.io/managed-by value
// of the slices Backends writes.
const endpointSliceManager = "lab.ferrolb.io"

// Backends publishes the backend pods of the named nodes as the endpoints
// of svc, the way the EndpointSlice controller would: one slice per IP
// family of the Service (IPv4 when it has none yet), named
// <service>-lab-ipv4/-ipv6, labelled kubernetes.io/service-name, each
// endpoint ready and carrying its nodeName. Every Service port maps to the
// backends' port 80. No node means no endpoint. Calling it again replaces
// the endpoints.
func (l *Lab) Backends(ctx context.Context, svc *corev1.Service, nodes ...string) error {
	var picked []*Node
	for _, name := range nodes {
		n, err := l.Node(name)
		if err != nil {
			return err
		}
		picked = append(picked, n)
	}
	families := svc.Spec.IPFamilies
	if len(families) == 0 {
		families = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	var ports []discoveryv1.EndpointPort
	for _, p := range svc.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ports = append(ports, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Protocol: ptr.To(proto), Port: ptr.To(int32(BackendPort))})
	}
	for _, fam := range families {
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: svc.Namespace,
				Name:      fmt.Sprintf("%s-lab-%s", svc.Name, map[corev1.IPFamily]string{corev1.IPv4Protocol: "ipv4", corev1.IPv6Protocol: "ipv6"}[fam]),
				Labels: map[string]string{
					discoveryv1.LabelServiceName: svc.Name,
					discoveryv1.LabelManagedBy:   endpointSliceManager,
				},
			},
			AddressType: discoveryv1.AddressType(fam),
			Ports:       ports,
		}
		for _, n := range picked {
			addr := n.PodIPv4
			if fam == corev1.IPv6Protocol {
				addr = n.PodIPv6
			}
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{addr.String()},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
				NodeName:   ptr.To(n.Name),
			})
		}
		if err := upsert(ctx, l.Cluster.Client, slice); err != nil {
			return fmt.Errorf("lab: endpoints of %s/%s: %w", svc.Namespace, svc.Name, err)
		}
	}
	return nil
}

// upsert creates obj, or replaces the existing object of that name.
func upsert(ctx context.Context, c client.Client, obj client.Object) error {
	err := c.Create(ctx, obj)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	cur := obj.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
		return err
	}
	obj.SetResourceVersion(cur.GetResourceVersion())
	return c.Update(ctx, obj)
}

package speaker

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/ferrolb/ferrolb/internal/core/plan"
)

// toPlanService copies what the planner reads out of a Service and its
// EndpointSlices.
func toPlanService(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) plan.Service {
	s := plan.Service{
		Key:                   svc.Namespace + "/" + svc.Name,
		Labels:                svc.Labels,
		Annotations:           svc.Annotations,
		Type:                  string(svc.Spec.Type),
		ExternalTrafficPolicy: string(svc.Spec.ExternalTrafficPolicy),
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ip, err := netip.ParseAddr(in.IP)
		if err != nil {
			ip = netip.Addr{}
		}
		s.IPs = append(s.IPs, ip)
	}
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			e := plan.Endpoint{Ready: ep.Conditions.Ready, Serving: ep.Conditions.Serving, NoAddresses: len(ep.Addresses) == 0}
			if ep.NodeName != nil {
				e.Node = *ep.NodeName
			}
			s.Endpoints = append(s.Endpoints, e)
		}
	}
	return s
}

func toPlanNode(n *corev1.Node) plan.Node {
	pn := plan.Node{Name: n.Name, Labels: n.Labels}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable && c.Status == corev1.ConditionTrue {
			pn.NetworkUnavailable = true
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Key == plan.TaintOutOfService {
			pn.OutOfService = true
		}
	}
	return pn
}

// handles reports whether the Service's class is the speaker's.
func handles(svc *corev1.Service, lbClass string) bool {
	if lbClass == "" {
		return svc.Spec.LoadBalancerClass == nil
	}
	return svc.Spec.LoadBalancerClass != nil && *svc.Spec.LoadBalancerClass == lbClass
}

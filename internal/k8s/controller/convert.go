package controller

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/internal/core/model"
)

// toService copies the fields the engine reads out of a corev1.Service.
func toService(svc *corev1.Service) *assign.Service {
	s := &assign.Service{
		Namespace:             svc.Namespace,
		Name:                  svc.Name,
		Labels:                svc.Labels,
		Annotations:           svc.Annotations,
		Type:                  string(svc.Spec.Type),
		LoadBalancerClass:     svc.Spec.LoadBalancerClass,
		LoadBalancerIP:        svc.Spec.LoadBalancerIP,
		ClusterIPs:            svc.Spec.ClusterIPs,
		ExternalTrafficPolicy: string(svc.Spec.ExternalTrafficPolicy),
		Selector:              svc.Spec.Selector,
	}
	if len(s.ClusterIPs) == 0 && svc.Spec.ClusterIP != "" {
		s.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
	if svc.Spec.IPFamilyPolicy != nil {
		s.IPFamilyPolicy = string(*svc.Spec.IPFamilyPolicy)
	}
	for _, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		s.Ports = append(s.Ports, model.Port{Protocol: proto, Port: p.Port})
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			s.Ingress = append(s.Ingress, in.IP)
		}
	}
	return s
}

package controller

import (
	"encoding/json"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/internal/core/assign"
)

// statusPatch builds the strategic merge patch (for the status subresource,
// which for Services also persists metadata) that makes svc match the
// outcome, or nil when svc already matches.
func statusPatch(svc *corev1.Service, out assign.Outcome, now metav1.Time) ([]byte, error) {
	wantIPs := make([]string, len(out.IPs))
	for i, ip := range out.IPs {
		wantIPs[i] = ip.String()
	}
	var haveIPs []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		haveIPs = append(haveIPs, in.IP)
	}
	ingressOK := slices.Equal(wantIPs, haveIPs) && ingressClean(svc)

	havePool, hasPool := svc.Annotations[assign.AnnotationAllocatedFromPool]
	poolOK := (out.Pool == "" && !hasPool) || (out.Pool != "" && havePool == out.Pool)

	var old *metav1.Condition
	for i := range svc.Status.Conditions {
		if svc.Status.Conditions[i].Type == assign.ConditionType {
			old = &svc.Status.Conditions[i]
		}
	}
	condOK := (out.Condition == nil && old == nil) ||
		(out.Condition != nil && old != nil && old.Status == condStatus(out.Condition) &&
			old.Reason == out.Condition.Reason && old.Message == out.Condition.Message &&
			old.ObservedGeneration == svc.Generation)
	if ingressOK && poolOK && condOK {
		return nil, nil
	}

	p := map[string]any{}
	status := map[string]any{}
	if !ingressOK {
		ingress := make([]map[string]string, len(wantIPs))
		for i, ip := range wantIPs {
			ingress[i] = map[string]string{"ip": ip}
		}
		status["loadBalancer"] = map[string]any{"ingress": ingress}
	}
	if !poolOK {
		var v any
		if out.Pool != "" {
			v = out.Pool
		}
		p["metadata"] = map[string]any{"annotations": map[string]any{assign.AnnotationAllocatedFromPool: v}}
	}
	if !condOK {
		if out.Condition == nil {
			status["conditions"] = []map[string]any{{"type": assign.ConditionType, "$patch": "delete"}}
		} else {
			ts := now
			if old != nil && old.Status == condStatus(out.Condition) {
				ts = old.LastTransitionTime
			}
			status["conditions"] = []metav1.Condition{{
				Type:               assign.ConditionType,
				Status:             condStatus(out.Condition),
				Reason:             out.Condition.Reason,
				Message:            out.Condition.Message,
				ObservedGeneration: svc.Generation,
				LastTransitionTime: ts,
			}}
		}
	}
	if len(status) > 0 {
		p["status"] = status
	}
	return json.Marshal(p)
}

// ingressClean reports whether every ingress entry carries only an IP (no
// hostname, ports or proxy ipMode left over from another writer).
func ingressClean(svc *corev1.Service) bool {
	for _, in := range svc.Status.LoadBalancer.Ingress {
		// The API server defaults ipMode to VIP, which is what we mean too.
		if in.Hostname != "" || len(in.Ports) > 0 || (in.IPMode != nil && *in.IPMode != corev1.LoadBalancerIPModeVIP) {
			return false
		}
		if _, err := netip.ParseAddr(in.IP); err != nil {
			return false
		}
	}
	return true
}

func condStatus(c *assign.Condition) metav1.ConditionStatus {
	if c.Status {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}

package assign

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Service is a Kubernetes Service as plain values: the fields the
// controller reads, nothing more.
type Service struct {
	Namespace   string
	Name        string
	Labels      map[string]string
	Annotations map[string]string

	Type              string // spec.type
	LoadBalancerClass *string
	LoadBalancerIP    string   // deprecated spec.loadBalancerIP
	ClusterIPs        []string // spec.clusterIPs (or [spec.clusterIP])
	IPFamilyPolicy    string   // spec.ipFamilyPolicy ("" = SingleStack)
	// ExternalTrafficPolicy "Local" makes the pod selector part of the
	// sharing key.
	ExternalTrafficPolicy string
	Selector              map[string]string
	Ports                 []model.Port

	// Ingress holds the IPs currently in status.loadBalancer.ingress.
	Ingress []string
}

// Key is the "namespace/name" identity used by the allocator.
func (s *Service) Key() string { return s.Namespace + "/" + s.Name }

// request is what the Service asks for, parsed from its annotations and
// fields.
type request struct {
	pool       string       // requested pool ("" = any)
	ips        []netip.Addr // requested IPs (nil = any)
	sharingKey string
}

// parseRequest reads the metallb.io annotations and spec.loadBalancerIP.
// Errors name the annotation and what is wrong with it.
func parseRequest(s *Service) (request, error) {
	var r request
	r.pool, _ = lookup(s.Annotations, AnnotationAddressPool, DeprecatedAnnotationAddressPool)
	r.pool = strings.TrimSpace(r.pool)
	r.sharingKey, _ = lookup(s.Annotations, AnnotationAllowSharedIP, DeprecatedAnnotationAllowSharedIP)

	raw, has := s.Annotations[AnnotationLoadBalancerIPs]
	key := AnnotationLoadBalancerIPs
	if !has {
		raw, has = s.Annotations[DeprecatedAnnotationLoadBalancerIPs]
		key = DeprecatedAnnotationLoadBalancerIPs
	}
	lbIP := strings.TrimSpace(s.LoadBalancerIP)
	if has && lbIP != "" {
		return r, fmt.Errorf("service can not have both %s and spec.loadBalancerIP", key)
	}
	if has {
		for _, part := range strings.Split(raw, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			ip, err := netip.ParseAddr(part)
			if err != nil {
				return r, fmt.Errorf("annotation %s: %q is not an IP address", key, part)
			}
			r.ips = append(r.ips, ip.Unmap())
		}
		if len(r.ips) == 0 {
			return r, fmt.Errorf("annotation %s is empty", key)
		}
	} else if lbIP != "" {
		ip, err := netip.ParseAddr(lbIP)
		if err != nil {
			return r, fmt.Errorf("spec.loadBalancerIP: %q is not an IP address", lbIP)
		}
		r.ips = []netip.Addr{ip.Unmap()}
	}
	switch len(r.ips) {
	case 0, 1:
	case 2:
		if model.FamilyOf(r.ips[0]) == model.FamilyOf(r.ips[1]) {
			return r, fmt.Errorf("annotation %s: two IPs must be of different families, got %s and %s", key, r.ips[0], r.ips[1])
		}
	default:
		return r, fmt.Errorf("annotation %s: at most 2 IPs (one per family), got %d", key, len(r.ips))
	}
	return r, nil
}

// families derives the Service's address families from its cluster IPs,
// primary first.
func families(s *Service) ([]model.Family, error) {
	var fams []model.Family
	for _, c := range s.ClusterIPs {
		if c == "" || c == "None" {
			continue
		}
		ip, err := netip.ParseAddr(c)
		if err != nil {
			return nil, fmt.Errorf("cluster IP %q is not an IP address", c)
		}
		f := model.FamilyOf(ip)
		if !slices.Contains(fams, f) {
			fams = append(fams, f)
		}
	}
	return fams, nil
}

// policy maps spec.ipFamilyPolicy, defaulting to SingleStack.
func policy(s *Service) model.FamilyPolicy {
	switch model.FamilyPolicy(s.IPFamilyPolicy) {
	case model.PreferDualStack:
		return model.PreferDualStack
	case model.RequireDualStack:
		return model.RequireDualStack
	}
	return model.SingleStack
}

// backendKey is the sharing backend key: the pod selector, canonically
// rendered, for externalTrafficPolicy Local; empty for Cluster.
func backendKey(s *Service) string {
	if s.ExternalTrafficPolicy != "Local" {
		return ""
	}
	keys := slices.Sorted(maps.Keys(s.Selector))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s.Selector[k]
	}
	return strings.Join(parts, ",")
}

// ingressIPs parses the current status IPs; unparsable entries are
// reported so the status can be rewritten.
func ingressIPs(s *Service) ([]netip.Addr, error) {
	var ips []netip.Addr
	for _, raw := range s.Ingress {
		ip, err := netip.ParseAddr(raw)
		if err != nil {
			return nil, fmt.Errorf("status.loadBalancer.ingress holds %q, which is not an IP address", raw)
		}
		ips = append(ips, ip.Unmap())
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
	return ips, nil
}

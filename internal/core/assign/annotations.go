package assign

// Annotation keys of the MetalLB API. The metallb.io/ keys are written and
// preferred; the metallb.universe.tf/ keys are still read.
const (
	AnnotationAddressPool       = "metallb.io/address-pool"
	AnnotationLoadBalancerIPs   = "metallb.io/loadBalancerIPs"
	AnnotationAllowSharedIP     = "metallb.io/allow-shared-ip"
	AnnotationAllocatedFromPool = "metallb.io/ip-allocated-from-pool"

	DeprecatedAnnotationAddressPool     = "metallb.universe.tf/address-pool"
	DeprecatedAnnotationLoadBalancerIPs = "metallb.universe.tf/loadBalancerIPs"
	DeprecatedAnnotationAllowSharedIP   = "metallb.universe.tf/allow-shared-ip"

	// DeprecatedPrefix marks annotations that earn a deprecatedAnnotation
	// warning event.
	DeprecatedPrefix = "metallb.universe.tf/"
)

// lookup returns the value of the preferred key if present (even empty),
// else that of the deprecated key.
func lookup(ann map[string]string, key, deprecated string) (string, bool) {
	if v, ok := ann[key]; ok {
		return v, true
	}
	v, ok := ann[deprecated]
	return v, ok
}

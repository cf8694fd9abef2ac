package assign

import "net/netip"

// ConditionType is the Service status condition this project maintains on
// every LoadBalancer Service it handles: True when the Service holds the
// addresses it asks for, False with a reason and a message saying exactly
// why not.
const ConditionType = "metallb.io/AddressAssigned"

// Condition reasons set by the engine besides the allocator's own reasons
// (see ipam.Reason).
const (
	ReasonAssigned            = "Assigned"
	ReasonNoClusterIP         = "NoClusterIP"
	ReasonNotEnoughClusterIPs = "NotEnoughClusterIPs"
	ReasonNoPoolsConfigured   = "NoPoolsConfigured"
	ReasonInvalidRequest      = "InvalidRequest"
)

// Event reasons, as MetalLB emits them.
const (
	EventIPAllocated            = "IPAllocated"
	EventAllocationFailed       = "AllocationFailed"
	EventClearAssignment        = "ClearAssignment"
	EventLoadBalancerFailed     = "LoadBalancerFailed"
	EventAdditionalAssignFailed = "AdditionalAssignFailed"
	EventNotEnoughClusterIPs    = "not enough clusterips"
	EventDeprecatedAnnotation   = "deprecatedAnnotation"
)

// Condition is the desired state of ConditionType.
type Condition struct {
	Status  bool
	Reason  string
	Message string
}

// Event is one Kubernetes event to record on the Service.
type Event struct {
	Warning bool
	Reason  string
	Message string
}

// Outcome is what the Service should look like after a converge.
type Outcome struct {
	// Ignore means the Service is not ours (another loadBalancerClass) or
	// the configuration is not loaded yet: leave it untouched.
	Ignore bool
	// IPs to publish in status.loadBalancer.ingress, IPv4 first.
	IPs []netip.Addr
	// Pool the IPs come from ("" when IPs is empty); written to the
	// metallb.io/ip-allocated-from-pool annotation.
	Pool string
	// Condition to set; nil removes it (the Service is no longer a
	// LoadBalancer).
	Condition *Condition
	Events    []Event
	// Released reports that addresses went back to the allocator, so
	// Services waiting for an address deserve another try.
	Released bool
}

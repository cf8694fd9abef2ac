package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IPAddressPoolSpec lists the addresses a pool hands out and who may use
// them.
type IPAddressPoolSpec struct {
	// Addresses are the ranges of the pool, each either a CIDR
	// ("203.0.113.0/24", "2001:db8::/120") or an inclusive range of two
	// addresses of one family ("203.0.113.10-203.0.113.20"). IPv4 and IPv6
	// entries may be mixed to build a dual-stack pool.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:items:MinLength=1
	Addresses []string `json:"addresses"`

	// AutoAssign lets the controller pick this pool for Services that do
	// not ask for a pool or an address. When false the pool is only used
	// on explicit request.
	// +optional
	// +kubebuilder:default:=true
	AutoAssign *bool `json:"autoAssign,omitempty"`

	// AvoidBuggyIPs keeps IPv4 addresses ending in .0 or .255 out of
	// allocation, for clients that mishandle them.
	// +optional
	// +kubebuilder:default:=false
	AvoidBuggyIPs bool `json:"avoidBuggyIPs,omitempty"`

	// ServiceAllocation restricts the pool to some namespaces or Services
	// and sets its priority among pools. Unset means any Service may use
	// it when it is picked by the generic fallback.
	// +optional
	ServiceAllocation *ServiceAllocation `json:"serviceAllocation,omitempty"`
}

// ServiceAllocation ties a pool to a set of namespaces and/or Services.
type ServiceAllocation struct {
	// Priority orders the pools that match a Service: the lowest positive
	// value is tried first; 0 means no priority and sorts after every
	// positive value.
	// +optional
	Priority int `json:"priority,omitempty"`

	// Namespaces lists the namespaces whose Services may use the pool.
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// NamespaceSelectors select, by namespace labels, further namespaces
	// whose Services may use the pool.
	// +optional
	NamespaceSelectors []metav1.LabelSelector `json:"namespaceSelectors,omitempty"`

	// ServiceSelectors admit Services whose labels match any of these
	// selectors.
	// +optional
	ServiceSelectors []metav1.LabelSelector `json:"serviceSelectors,omitempty"`
}

// IPAddressPoolStatus counts the pool's addresses per family, as seen by
// the controller.
type IPAddressPoolStatus struct {
	// AssignedIPv4 is the number of IPv4 addresses of the pool given to
	// Services.
	AssignedIPv4 int64 `json:"assignedIPv4"`

	// AssignedIPv6 is the number of IPv6 addresses of the pool given to
	// Services.
	AssignedIPv6 int64 `json:"assignedIPv6"`

	// AvailableIPv4 is the number of IPv4 addresses still free.
	AvailableIPv4 int64 `json:"availableIPv4"`

	// AvailableIPv6 is the number of IPv6 addresses still free (capped at
	// the largest int64 for very large prefixes: see
	// AvailableIPv6Exact).
	AvailableIPv6 int64 `json:"availableIPv6"`

	// AvailableIPv6Exact is AvailableIPv6 in decimal, exact whatever the
	// size of the pool (a /64 has 18446744073709551616 addresses). Set
	// when the pool has IPv6 addresses. An addition of this project.
	// +optional
	AvailableIPv6Exact string `json:"availableIPv6Exact,omitempty"`
}

// IPAddressPool is a set of addresses the controller may assign to
// LoadBalancer Services.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Auto Assign",type=boolean,JSONPath=`.spec.autoAssign`
// +kubebuilder:printcolumn:name="Avoid Buggy IPs",type=boolean,JSONPath=`.spec.avoidBuggyIPs`
// +kubebuilder:printcolumn:name="Addresses",type=string,JSONPath=`.spec.addresses`
type IPAddressPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired pool.
	Spec IPAddressPoolSpec `json:"spec"`
	// Status is the usage the controller observed.
	// +optional
	Status IPAddressPoolStatus `json:"status,omitempty"`
}

// IPAddressPoolList is a list of IPAddressPool.
//
// +kubebuilder:object:root=true
type IPAddressPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAddressPool `json:"items"`
}

func init() {
	SchemeBuilder.Register(&IPAddressPool{}, &IPAddressPoolList{})
}

package plan

import (
	"net/netip"

	"github.com/ferrolb/ferrolb/internal/core/config"
)

// Keys read from Kubernetes objects.
const (
	// LabelExcludeFromLB on a Node (any value) keeps it from announcing.
	LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"
	// TaintOutOfService on a Node (any value and effect) keeps it from
	// announcing: an operator (or automation) declared the node shut down
	// (Kubernetes' non-graceful node shutdown). It moves the node's IPs
	// even when membership is off and nothing else would notice the death.
	TaintOutOfService = "node.kubernetes.io/out-of-service"

	// AnnotationAllowSharedIP and its deprecated spelling: the same keys as
	// package assign (a test checks), repeated here so the speaker does not
	// link the allocator.
	AnnotationAllowSharedIP           = "metallb.io/allow-shared-ip"
	DeprecatedAnnotationAllowSharedIP = "metallb.universe.tf/allow-shared-ip"

	// TypeLoadBalancer is the only spec.type that is announced.
	TypeLoadBalancer = "LoadBalancer"
	// TrafficPolicyLocal is spec.externalTrafficPolicy Local; anything else
	// counts as Cluster.
	TrafficPolicyLocal = "Local"
)

// Input is one consistent snapshot of everything Desired reads. Desired
// does not modify it.
type Input struct {
	// Node is the name of the node this speaker runs on.
	Node string
	// Config is the compiled configuration (nil: none loaded yet).
	Config *config.Config
	// Nodes are the cluster's Node objects (names unique; of duplicates
	// the first is used).
	Nodes []Node
	// Speakers holds the names of the nodes whose speaker is alive
	// (membership), with value true. Nil means membership is disabled and
	// every Node has a speaker. A speaker without a Node object is ignored.
	Speakers map[string]bool
	// IgnoreExcludeLB disregards LabelExcludeFromLB (--ignore-exclude-lb).
	IgnoreExcludeLB bool
	// Services are the Services this speaker handles (already filtered by
	// loadBalancerClass). Keys must be unique; of duplicates only the first
	// (in slice order) is used.
	Services []Service
}

// Node is a cluster node as the election sees it.
type Node struct {
	Name   string
	Labels map[string]string
	// NetworkUnavailable is the NetworkUnavailable condition being True.
	NetworkUnavailable bool
	// OutOfService is the TaintOutOfService taint being on the Node.
	OutOfService bool
}

// Service is a Service with its endpoints, as the speaker sees it.
type Service struct {
	// Key is "namespace/name".
	Key         string
	Labels      map[string]string
	Annotations map[string]string
	// Type is spec.type.
	Type string
	// ExternalTrafficPolicy is spec.externalTrafficPolicy.
	ExternalTrafficPolicy string
	// IPs are the addresses of status.loadBalancer.ingress, in order; an
	// invalid (zero) Addr stands for an entry that does not parse.
	IPs []netip.Addr
	// Endpoints of all the Service's EndpointSlices.
	Endpoints []Endpoint
}

// Endpoint is one endpoint of an EndpointSlice.
type Endpoint struct {
	// Node is the endpoint's nodeName ("" when unset).
	Node    string
	Ready   *bool // conditions.ready
	Serving *bool // conditions.serving
	// NoAddresses is true when the endpoint lists no address. BGP does not
	// count such an endpoint (layer 2 ignores the field). The zero value,
	// "has addresses", is what the API server guarantees for real
	// EndpointSlices, so converters that do not set it stay correct.
	NoAddresses bool
}

// CanServe reports whether the endpoint can take traffic: ready unset or
// true, or serving true.
func (e Endpoint) CanServe() bool {
	return e.Ready == nil || *e.Ready || (e.Serving != nil && *e.Serving)
}

// sharingKey returns the allow-shared-ip value, preferring the metallb.io
// key when present (even empty).
func (s *Service) sharingKey() string {
	if v, ok := s.Annotations[AnnotationAllowSharedIP]; ok {
		return v
	}
	return s.Annotations[DeprecatedAnnotationAllowSharedIP]
}

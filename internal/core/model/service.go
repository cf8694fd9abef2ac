package model

// Port is one (protocol, port) pair of a Service; two Services sharing an IP
// must not use the same pair.
type Port struct {
	Protocol string // "TCP", "UDP", "SCTP"
	Port     int32
}

// Service is what the allocator needs to know about a LoadBalancer Service.
type Service struct {
	// Key is "namespace/name".
	Key       string
	Namespace string
	Labels    map[string]string
	// Families are the families of the Service's cluster IPs, primary first
	// (one entry for single-stack, two for dual-stack).
	Families []Family
	Policy   FamilyPolicy
	// SharingKey is the allow-shared-ip annotation ("" = does not share).
	SharingKey string
	// BackendKey is the pod selector for externalTrafficPolicy Local, ""
	// for Cluster. Services sharing an IP must have equal backend keys.
	BackendKey string
	Ports      []Port
}

// Package v1beta1 holds the metallb.io/v1beta1 API types: address pools,
// L2 and BGP advertisements, BFD profiles, community aliases, the
// deprecated v1beta1 BGPPeer (converted to and from the v1beta2 hub), and
// the status-only kinds the controller and speakers write
// (ServiceL2Status, ServiceBGPStatus, ConfigurationState).
//
// The kubebuilder markers on these types are the source of the CRD
// manifests in config/crd/bases: per-object rules (ranges, enums, CEL) live
// in the schema so that the API server rejects malformed objects on its
// own. Cross-object rules belong to the configuration compiler
// (internal/core/config). Run `make generate` after editing a type.
//
// +kubebuilder:object:generate=true
// +groupName=metallb.io
package v1beta1

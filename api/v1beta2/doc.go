// Package v1beta2 holds metallb.io/v1beta2: the BGPPeer kind in its
// storage version. It is the conversion hub; the deprecated v1beta1 BGPPeer
// converts to and from it (see package v1beta1).
//
// +kubebuilder:object:generate=true
// +groupName=metallb.io
package v1beta2

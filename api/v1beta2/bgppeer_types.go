package v1beta2

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DynamicASNMode accepts a peer by the class of its ASN instead of a fixed
// number.
// +kubebuilder:validation:Enum=internal;external
type DynamicASNMode string

const (
	// InternalASNMode accepts a peer whose ASN equals myASN (iBGP).
	InternalASNMode DynamicASNMode = "internal"
	// ExternalASNMode accepts a peer whose ASN differs from myASN (eBGP).
	ExternalASNMode DynamicASNMode = "external"
)

// BGPPeerSpec describes one BGP session, opened from every selected node.
//
// +kubebuilder:validation:XValidation:rule="(has(self.peerASN) && self.peerASN != 0) != (has(self.dynamicASN) && size(self.dynamicASN) != 0)",message="exactly one of peerASN and dynamicASN must be set"
// +kubebuilder:validation:XValidation:rule="(has(self.peerAddress) && size(self.peerAddress) != 0) != (has(self.interface) && size(self.interface) != 0)",message="exactly one of peerAddress and interface must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.password) || size(self.password) == 0 || !has(self.passwordSecret) || !has(self.passwordSecret.name) || size(self.passwordSecret.name) == 0",message="password and passwordSecret are mutually exclusive"
// +kubebuilder:validation:XValidation:rule="(has(self.enableGracefulRestart) && has(oldSelf.enableGracefulRestart)) || (has(self.enableGracefulRestart) && self.enableGracefulRestart) == (has(oldSelf.enableGracefulRestart) && oldSelf.enableGracefulRestart)",message="EnableGracefulRestart cannot be changed after creation",fieldPath=".enableGracefulRestart"
// +kubebuilder:validation:XValidation:rule="!has(self.ebgpMultiHop) || !self.ebgpMultiHop || !has(self.peerASN) || self.peerASN != self.myASN",message="ebgpMultiHop cannot be set for an iBGP peer (peerASN equal to myASN)"
type BGPPeerSpec struct {
	// MyASN is the autonomous system number of the local end.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	MyASN uint32 `json:"myASN"`

	// ASN is the autonomous system number the peer must present. Exactly
	// one of peerASN and dynamicASN is required.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"peerASN,omitempty"`

	// DynamicASN accepts any peer ASN of a class instead of a fixed
	// number: "internal" (same as myASN) or "external" (different).
	// +optional
	DynamicASN DynamicASNMode `json:"dynamicASN,omitempty"`

	// LocalASN replaces myASN towards this peer only (the local AS is
	// neither prepended nor kept in the path).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	LocalASN uint32 `json:"localASN,omitempty"`

	// Address is the IP address of the peer. Exactly one of peerAddress
	// and interface is required.
	// +optional
	Address string `json:"peerAddress,omitempty"`

	// Interface opens an unnumbered session over this node interface,
	// using the link-local address of the router on the other side.
	// +optional
	Interface string `json:"interface,omitempty"`

	// SrcAddress is the local address the session is opened from.
	// +optional
	SrcAddress string `json:"sourceAddress,omitempty"`

	// Port is the peer's TCP port.
	// +optional
	// +kubebuilder:default:=179
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16384
	Port uint16 `json:"peerPort,omitempty"`

	// HoldTime is the proposed BGP hold time. Unset derives it from the
	// keepalive time, or uses the implementation default.
	// +optional
	HoldTime *metav1.Duration `json:"holdTime,omitempty"`

	// KeepaliveTime is the interval between keepalive messages. Unset
	// derives it from the hold time.
	// +optional
	KeepaliveTime *metav1.Duration `json:"keepaliveTime,omitempty"`

	// ConnectTime is the wait between two connection attempts: a whole
	// number of seconds from 1s to 65535s.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self).getSeconds() >= 1 && duration(self).getSeconds() <= 65535",message="connectTime must be between 1s and 65535s"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="connectTime must be a whole number of seconds"
	ConnectTime *metav1.Duration `json:"connectTime,omitempty"`

	// RouterID is the BGP identifier to use, written as an IPv4 address.
	// +optional
	RouterID string `json:"routerID,omitempty"`

	// NodeSelectors pick the nodes that open this session; a node
	// matching any selector qualifies. Empty means every node.
	// +optional
	NodeSelectors []metav1.LabelSelector `json:"nodeSelectors,omitempty"`

	// Password is the TCP MD5 password of the session, in clear text.
	// +optional
	Password string `json:"password,omitempty"`

	// PasswordSecret names a Secret of type kubernetes.io/basic-auth, in
	// the MetalLB namespace, whose "password" key holds the TCP MD5
	// password. Cannot be combined with password.
	// +optional
	PasswordSecret corev1.SecretReference `json:"passwordSecret,omitempty"`

	// BFDProfile names the BFDProfile used to watch the session with BFD.
	// +optional
	BFDProfile string `json:"bfdProfile,omitempty"`

	// EnableGracefulRestart turns on BGP graceful restart for the session.
	// It is fixed when the peer is created; an absent field counts as
	// false, so it can be neither added as true nor removed later.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="EnableGracefulRestart cannot be changed after creation"
	EnableGracefulRestart bool `json:"enableGracefulRestart,omitempty"`

	// EBGPMultiHop allows an eBGP peer that is more than one hop away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`

	// VRFName is the host VRF the session is opened in; empty is the
	// default VRF.
	// +optional
	VRFName string `json:"vrf,omitempty"`

	// DisableMP is deprecated and has no effect: each address family
	// already runs in its own session unless dualStackAddressFamily is
	// set.
	// +optional
	// +kubebuilder:default:=false
	DisableMP bool `json:"disableMP,omitempty"`

	// DualStackAddressFamily carries both IPv4 and IPv6 routes over this
	// one session.
	// +optional
	// +kubebuilder:default:=false
	DualStackAddressFamily bool `json:"dualStackAddressFamily,omitempty"`
}

// BGPPeerStatus is empty: the object carries no observed state.
type BGPPeerStatus struct{}

// BGPPeer is a BGP router the speakers open sessions with.
//
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.peerAddress`
// +kubebuilder:printcolumn:name="ASN",type=string,JSONPath=`.spec.peerASN`
// +kubebuilder:printcolumn:name="BFD Profile",type=string,JSONPath=`.spec.bfdProfile`
// +kubebuilder:printcolumn:name="Multi Hops",type=string,JSONPath=`.spec.ebgpMultiHop`
type BGPPeer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired session.
	Spec BGPPeerSpec `json:"spec"`
	// Status is always empty.
	// +optional
	Status BGPPeerStatus `json:"status,omitempty"`
}

// BGPPeerList is a list of BGPPeer.
//
// +kubebuilder:object:root=true
type BGPPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPPeer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BGPPeer{}, &BGPPeerList{})
}

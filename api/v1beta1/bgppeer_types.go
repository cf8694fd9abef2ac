package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BGPPeerSpec is the v1beta1 shape of a BGP session. It lacks the newer
// fields of v1beta2 (dynamic ASN, interfaces, secrets, VRF, ...).
type BGPPeerSpec struct {
	// MyASN is the autonomous system number of the local end.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	MyASN uint32 `json:"myASN"`

	// ASN is the autonomous system number of the peer.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"peerASN"`

	// Address is the IP address of the peer.
	Address string `json:"peerAddress"`

	// SrcAddress is the local address the session is opened from.
	// +optional
	SrcAddress string `json:"sourceAddress,omitempty"`

	// Port is the peer's TCP port; 0 means the BGP port, 179.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16384
	Port uint16 `json:"peerPort,omitempty"`

	// HoldTime is the proposed BGP hold time.
	// +optional
	HoldTime metav1.Duration `json:"holdTime,omitempty"`

	// KeepaliveTime is the interval between keepalive messages.
	// +optional
	KeepaliveTime metav1.Duration `json:"keepaliveTime,omitempty"`

	// RouterID is the BGP identifier to use, written as an IPv4 address.
	// +optional
	RouterID string `json:"routerID,omitempty"`

	// NodeSelectors pick the nodes that open this session; empty means
	// every node.
	// +optional
	NodeSelectors []NodeSelector `json:"nodeSelectors,omitempty"`

	// Password is the TCP MD5 password of the session, in clear text.
	// +optional
	Password string `json:"password,omitempty"`

	// BFDProfile names the BFDProfile used to watch the session with BFD.
	// +optional
	BFDProfile string `json:"bfdProfile,omitempty"`

	// EBGPMultiHop allows an eBGP peer that is more than one hop away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`
}

// NodeSelector is the v1beta1 spelling of a label selector.
type NodeSelector struct {
	// MatchLabels must all be present on the node with these values.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`

	// MatchExpressions must all hold for the node's labels.
	// +optional
	MatchExpressions []MatchExpression `json:"matchExpressions,omitempty"`
}

// MatchExpression is one requirement on a label: Key, an operator (In,
// NotIn, Exists, DoesNotExist) and its values.
type MatchExpression struct {
	// Key is the label name.
	Key string `json:"key"`

	// Operator relates the label to the values.
	Operator string `json:"operator"`

	// Values are compared with the label value.
	// +kubebuilder:validation:MinItems=1
	Values []string `json:"values"`
}

// BGPPeerStatus is empty: the object carries no observed state.
type BGPPeerStatus struct{}

// BGPPeer is the deprecated v1beta1 form of a BGP peer. It is served for
// old clients and converted to v1beta2, the stored version.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:deprecatedversion:warning="v1beta1 is deprecated, please use v1beta2"
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

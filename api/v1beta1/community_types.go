package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CommunitySpec lists named BGP community values.
type CommunitySpec struct {
	// Communities are the aliases this object defines. An alias name must
	// be unique across all Community objects.
	// +optional
	Communities []CommunityAlias `json:"communities,omitempty"`
}

// CommunityAlias gives a name to a community value.
type CommunityAlias struct {
	// Name is the alias BGPAdvertisements use in place of the value.
	// +optional
	Name string `json:"name,omitempty"`

	// Value is the community: "ASN:value" (two 16-bit numbers) or
	// "large:global:local1:local2" (three 32-bit numbers).
	// +optional
	Value string `json:"value,omitempty"`
}

// CommunityStatus is empty: the object carries no observed state.
type CommunityStatus struct{}

// Community defines aliases for BGP community values.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type Community struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the aliases.
	Spec CommunitySpec `json:"spec,omitempty"`
	// Status is always empty.
	// +optional
	Status CommunityStatus `json:"status,omitempty"`
}

// CommunityList is a list of Community.
//
// +kubebuilder:object:root=true
type CommunityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Community `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Community{}, &CommunityList{})
}

package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConfigurationResult summarises the conditions of a ConfigurationState.
// +kubebuilder:validation:Enum=Valid;Invalid;Unknown
type ConfigurationResult string

const (
	// ConfigurationValid: conditions were reported and none is a failed
	// configuration check.
	ConfigurationValid ConfigurationResult = "Valid"
	// ConfigurationInvalid: some component rejected the configuration.
	ConfigurationInvalid ConfigurationResult = "Invalid"
	// ConfigurationUnknown: no component has reported yet.
	ConfigurationUnknown ConfigurationResult = "Unknown"
)

// ConfigurationStateStatus is what one component thinks of the current
// configuration.
type ConfigurationStateStatus struct {
	// Result is Valid, Invalid or Unknown, derived from the conditions.
	// +optional
	Result ConfigurationResult `json:"result,omitempty"`

	// ErrorSummary joins, one per line, the messages of the conditions
	// that report a configuration error.
	// +optional
	ErrorSummary string `json:"errorSummary,omitempty"`

	// Conditions hold one entry per reporting reconciler.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ConfigurationState reports whether the controller or the speaker of a
// node accepted the configuration. It has no spec.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Result",type=string,JSONPath=`.status.result`
// +kubebuilder:printcolumn:name="ErrorSummary",type=string,JSONPath=`.status.errorSummary`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ConfigurationState struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Status is the verdict and the conditions behind it.
	// +optional
	Status ConfigurationStateStatus `json:"status,omitempty"`
}

// ConfigurationStateList is a list of ConfigurationState.
//
// +kubebuilder:object:root=true
type ConfigurationStateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ConfigurationState `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ConfigurationState{}, &ConfigurationStateList{})
}

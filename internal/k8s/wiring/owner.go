package wiring

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PodOwner returns an owner reference to the component's own Pod, for the
// objects it writes (status objects, ConfigurationState), or nil when the
// name is empty or the Pod cannot be read (the objects are then unowned).
func PodOwner(ctx context.Context, r client.Reader, namespace, name string) *metav1.OwnerReference {
	if name == "" {
		return nil
	}
	var p corev1.Pod
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &p); err != nil {
		return nil
	}
	return &metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: p.Name, UID: p.UID}
}

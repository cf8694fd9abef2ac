package controller

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// MemberlistSecretKey is the key of the memberlist Secret that holds the
// shared encryption secret.
const MemberlistSecretKey = "secretkey"

// EnsureMemberlistSecret creates the memberlist Secret (16 random bytes,
// base64 without padding) unless it exists. It is never rotated. When the
// controller's Deployment can be read, the Secret is owned by it. Reads go
// straight to the API (r), so no cluster-wide Secret cache is started.
func EnsureMemberlistSecret(ctx context.Context, r client.Reader, w client.Writer, namespace, name, deployment string) error {
	var existing corev1.Secret
	err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &existing)
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading memberlist secret: %w", err)
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Data:       map[string][]byte{MemberlistSecretKey: []byte(base64.RawStdEncoding.EncodeToString(raw))},
	}
	if deployment != "" {
		var dep appsv1.Deployment
		if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: deployment}, &dep); err == nil {
			sec.OwnerReferences = []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID,
			}}
		}
	}
	if err := w.Create(ctx, sec); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating memberlist secret: %w", err)
	}
	return nil
}

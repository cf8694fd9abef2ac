package certs

import (
	"bytes"
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// injectWebhooks sets caBundle on every webhook of the
// ValidatingWebhookConfiguration name. It reports whether it wrote, and
// found=false when the configuration does not exist.
func injectWebhooks(ctx context.Context, cs kubernetes.Interface, name string, bundle []byte) (wrote, found bool, err error) {
	api := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	wrote, found, err = injectInto(ctx, name, api.Get, api.Update, func(vwc *admissionregistrationv1.ValidatingWebhookConfiguration) bool {
		changed := false
		for i := range vwc.Webhooks {
			if cc := &vwc.Webhooks[i].ClientConfig; !bytes.Equal(cc.CABundle, bundle) {
				cc.CABundle = bundle
				changed = true
			}
		}
		return changed
	})
	if err != nil {
		return false, found, fmt.Errorf("injecting the CA into ValidatingWebhookConfiguration %s: %w", name, err)
	}
	return wrote, found, nil
}

// injectConversion sets the caBundle of the conversion webhook of CRD
// name. A CRD without webhook conversion is left alone (found is still
// true); found=false when the CRD does not exist.
func injectConversion(ctx context.Context, cs apiextensions.Interface, name string, bundle []byte) (wrote, found bool, err error) {
	api := cs.ApiextensionsV1().CustomResourceDefinitions()
	wrote, found, err = injectInto(ctx, name, api.Get, api.Update, func(crd *apiextensionsv1.CustomResourceDefinition) bool {
		conv := crd.Spec.Conversion
		if conv == nil || conv.Strategy != apiextensionsv1.WebhookConverter || conv.Webhook == nil || conv.Webhook.ClientConfig == nil {
			return false
		}
		if bytes.Equal(conv.Webhook.ClientConfig.CABundle, bundle) {
			return false
		}
		conv.Webhook.ClientConfig.CABundle = bundle
		return true
	})
	if err != nil {
		return false, found, fmt.Errorf("injecting the CA into CRD %s: %w", name, err)
	}
	return wrote, found, nil
}

// injectInto reads the cluster-scoped object name, lets set change it
// (set reports whether it did) and writes it back when changed, retrying
// on conflicts. found is false when the object does not exist.
func injectInto[T any](ctx context.Context, name string,
	get func(context.Context, string, metav1.GetOptions) (T, error),
	update func(context.Context, T, metav1.UpdateOptions) (T, error),
	set func(T) bool,
) (wrote, found bool, err error) {
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		wrote, found = false, true
		obj, err := get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			found = false
			return nil
		}
		if err != nil {
			return err
		}
		if !set(obj) {
			return nil
		}
		if _, err := update(ctx, obj, metav1.UpdateOptions{}); err != nil {
			return err
		}
		wrote = true
		return nil
	})
	return wrote, found, err
}

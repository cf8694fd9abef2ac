package certs

import (
	"bytes"
	"context"
	"fmt"

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
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		wrote, found = false, true
		vwc, err := api.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			found = false
			return nil
		}
		if err != nil {
			return err
		}
		changed := false
		for i := range vwc.Webhooks {
			if cc := &vwc.Webhooks[i].ClientConfig; !bytes.Equal(cc.CABundle, bundle) {
				cc.CABundle = bundle
				changed = true
			}
		}
		if !changed {
			return nil
		}
		if _, err := api.Update(ctx, vwc, metav1.UpdateOptions{}); err != nil {
			return err
		}
		wrote = true
		return nil
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
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		wrote, found = false, true
		crd, err := api.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			found = false
			return nil
		}
		if err != nil {
			return err
		}
		conv := crd.Spec.Conversion
		if conv == nil || conv.Strategy != apiextensionsv1.WebhookConverter || conv.Webhook == nil || conv.Webhook.ClientConfig == nil {
			return nil
		}
		if bytes.Equal(conv.Webhook.ClientConfig.CABundle, bundle) {
			return nil
		}
		conv.Webhook.ClientConfig.CABundle = bundle
		if _, err := api.Update(ctx, crd, metav1.UpdateOptions{}); err != nil {
			return err
		}
		wrote = true
		return nil
	})
	if err != nil {
		return false, found, fmt.Errorf("injecting the CA into CRD %s: %w", name, err)
	}
	return wrote, found, nil
}

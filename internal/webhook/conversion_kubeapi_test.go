package webhook_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/internal/webhook/certs"
)

// conversions counts the conversion requests served in this process.
func conversions(t *testing.T) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_webhook_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == webhook.ConvertPath {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// useConversionWebhook points the bgppeers CRD's conversion at e's server
// (without a CA bundle: the rotator injects it) until the test ends.
func useConversionWebhook(t *testing.T, e *env) apiextensions.Interface {
	t.Helper()
	cs, err := apiextensions.NewForConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	setConversion := func(ctx context.Context, conv *apiextensionsv1.CustomResourceConversion) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			crd, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, webhook.BGPPeerCRD, metav1.GetOptions{})
			if err != nil {
				return err
			}
			crd.Spec.Conversion = conv
			_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, crd, metav1.UpdateOptions{})
			return err
		})
	}
	url := e.url(webhook.ConvertPath)
	err = setConversion(ctx(t), &apiextensionsv1.CustomResourceConversion{
		Strategy: apiextensionsv1.WebhookConverter,
		Webhook: &apiextensionsv1.WebhookConversion{
			ClientConfig:             &apiextensionsv1.WebhookClientConfig{URL: &url},
			ConversionReviewVersions: []string{"v1beta1", "v1beta2"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := setConversion(ctx, &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}); err != nil {
			t.Errorf("restoring the CRD's conversion: %v", err)
		}
	})
	return cs
}

// waitInjected waits until the CRD's conversion webhook and every webhook
// of e's configuration carry the CA bundle of the certificate Secret.
func waitInjected(t *testing.T, e *env, cs apiextensions.Interface) []byte {
	t.Helper()
	var last string
	for range 150 {
		sec := &corev1.Secret{}
		if err := e.c.Get(ctx(t), client.ObjectKey{Namespace: e.ns, Name: webhook.SecretName}, sec); err != nil {
			t.Fatal(err)
		}
		bundle := sec.Data[certs.KeyCACert]
		last = injected(t, e, cs, bundle)
		if last == "" {
			return bundle
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("CA bundle not injected within 30s: %s", last)
	return nil
}

// injected says what does not carry bundle yet, or "".
func injected(t *testing.T, e *env, cs apiextensions.Interface, bundle []byte) string {
	t.Helper()
	if len(bundle) == 0 {
		return "Secret has no ca.crt"
	}
	if cs != nil {
		crd, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx(t), webhook.BGPPeerCRD, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cc := crd.Spec.Conversion.Webhook.ClientConfig; !bytes.Equal(cc.CABundle, bundle) {
			return "CRD conversion caBundle differs from the Secret's ca.crt"
		}
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := e.c.Get(ctx(t), client.ObjectKey{Name: e.vwc}, vwc); err != nil {
		t.Fatal(err)
	}
	if len(vwc.Webhooks) != len(webhook.Hooks) {
		return "webhook configuration lost webhooks"
	}
	for _, w := range vwc.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, bundle) {
			return "webhook " + w.Name + " caBundle differs from the Secret's ca.crt"
		}
	}
	return ""
}

func TestBGPPeerConversion(t *testing.T) {
	e := newEnv(t, envOptions{})
	cs := useConversionWebhook(t, e)
	waitInjected(t, e, cs)

	// Wait until the API server uses the webhook: reading a v1beta2 object
	// as v1beta1 then calls it.
	probe := peer(e.ns, "probe", "198.51.100.99")
	allowed(t, e.c.Create(ctx(t), probe))
	start := conversions(t)
	for i := 0; ; i++ {
		old := &v1beta1.BGPPeer{}
		err := e.c.Get(ctx(t), client.ObjectKeyFromObject(probe), old)
		if err == nil && conversions(t) > start {
			break
		}
		if i == 100 {
			t.Fatalf("the API server does not call the conversion webhook (last error %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Run("v1beta1 to v1beta2 and back", func(t *testing.T) {
		before := conversions(t)
		oldSpec := v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "198.51.100.10", SrcAddress: "198.51.100.200", Port: 1179,
			HoldTime: metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: metav1.Duration{Duration: 30 * time.Second},
			RouterID: "198.18.0.1",
			NodeSelectors: []v1beta1.NodeSelector{{
				MatchLabels:      map[string]string{"rack": "a"},
				MatchExpressions: []v1beta1.MatchExpression{{Key: "zone", Operator: "In", Values: []string{"z1", "z2"}}},
			}},
			Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
		}
		old := &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "from-v1beta1"}, Spec: oldSpec}
		allowed(t, e.c.Create(ctx(t), old))

		got := &v1beta2.BGPPeer{}
		if err := e.c.Get(ctx(t), client.ObjectKeyFromObject(old), got); err != nil {
			t.Fatal(err)
		}
		want := v1beta2.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "198.51.100.10", SrcAddress: "198.51.100.200", Port: 1179,
			HoldTime: &metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: &metav1.Duration{Duration: 30 * time.Second},
			RouterID: "198.18.0.1",
			NodeSelectors: []metav1.LabelSelector{{
				MatchLabels:      map[string]string{"rack": "a"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpIn, Values: []string{"z1", "z2"}}},
			}},
			Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
		}
		if diff := cmp.Diff(want, got.Spec); diff != "" {
			t.Errorf("read as v1beta2 (-want +got):\n%s", diff)
		}
		back := &v1beta1.BGPPeer{}
		if err := e.c.Get(ctx(t), client.ObjectKeyFromObject(old), back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(oldSpec, back.Spec); diff != "" {
			t.Errorf("read back as v1beta1 (-want +got):\n%s", diff)
		}
		if conversions(t) <= before {
			t.Error("no conversion request reached the webhook")
		}
	})

	t.Run("v1beta2 to v1beta1 drops what v1beta1 cannot say", func(t *testing.T) {
		p := peer(e.ns, "from-v1beta2", "198.51.100.11")
		p.Spec.HoldTime = &metav1.Duration{Duration: 30 * time.Second}
		p.Spec.ConnectTime = &metav1.Duration{Duration: 5 * time.Second}
		p.Spec.VRFName = "red"
		p.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"rack": "b"}}}
		allowed(t, e.c.Create(ctx(t), p))

		got := &v1beta1.BGPPeer{}
		if err := e.c.Get(ctx(t), client.ObjectKeyFromObject(p), got); err != nil {
			t.Fatal(err)
		}
		want := v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 64513, Address: "198.51.100.11", Port: 179, // the v1beta2 schema's default
			HoldTime:      metav1.Duration{Duration: 30 * time.Second},
			NodeSelectors: []v1beta1.NodeSelector{{MatchLabels: map[string]string{"rack": "b"}}},
		}
		if diff := cmp.Diff(want, got.Spec); diff != "" {
			t.Errorf("read as v1beta1 (-want +got):\n%s", diff)
		}
		// The stored object keeps every v1beta2 field.
		stored := &v1beta2.BGPPeer{}
		if err := e.c.Get(ctx(t), client.ObjectKeyFromObject(p), stored); err != nil {
			t.Fatal(err)
		}
		if stored.Spec.VRFName != "red" || stored.Spec.ConnectTime == nil || stored.Spec.ConnectTime.Duration != 5*time.Second {
			t.Errorf("stored v1beta2 spec lost fields: %+v", stored.Spec)
		}
	})

	t.Run("v1beta1 creates are validated after conversion", func(t *testing.T) {
		bad := &v1beta1.BGPPeer{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "v1-bad"},
			Spec: v1beta1.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: "198.51.100.12",
				HoldTime: metav1.Duration{Duration: 2 * time.Second}},
		}
		denied(t, e.c.Create(ctx(t), bad), "bgppeersvalidationwebhook.metallb.io", `BGPPeer "v1-bad": spec.holdTime:`)
	})
}

package controller

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// TestWebhookOutage installs the shipped ValidatingWebhookConfiguration
// with nothing serving it (MetalLB's most common install failure) and
// checks what the design promises: configuration changes are not
// blocked, the CRD schemas still reject malformed objects, and the
// controller reports the cross-object error the webhook would have caught
// in its ConfigurationState, while good pools keep working.
func TestWebhookOutage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	root, err := kubeapi.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "webhook", "validating_webhook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vwc admissionv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict(raw, &vwc); err != nil {
		t.Fatal(err)
	}
	if len(vwc.Webhooks) != 6 {
		t.Fatalf("the shipped configuration has %d webhooks, want 6", len(vwc.Webhooks))
	}
	if err := e.c.Create(ctx, &vwc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.c.Delete(context.Background(), &vwc) })

	e.start("outage")
	e.pool(cluster.Namespace, "outage-good", "198.18.40.0/30")
	e.service("first")
	e.waitAssigned(30*time.Second, "first")

	// Malformed objects: the API server's schema validation answers, with
	// or without a webhook.
	bfd := &v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: "outage-bad"},
		Spec: v1beta1.BFDProfileSpec{ReceiveInterval: ptr.To(uint32(5))}}
	if err := e.c.Create(ctx, bfd); err == nil || !strings.Contains(err.Error(), "receiveInterval") {
		t.Errorf("a BFDProfile with receiveInterval 5 was not rejected by the schema: %v", err)
	}
	peer := &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: "outage-bad"},
		Spec: v1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, Address: "198.18.40.9", Port: 20000}}
	if err := e.c.Create(ctx, peer); err == nil || !strings.Contains(err.Error(), "peerPort") {
		t.Errorf("a BGPPeer with peerPort 20000 was not rejected by the schema: %v", err)
	}

	// A cross-object error only the webhook or the compiler sees: with the
	// webhook unreachable the object goes in (fail open)...
	e.pool(cluster.Namespace, "outage-overlap", "198.18.40.2/31")
	// ... and the controller reports it where an operator looks.
	e.eventually(30*time.Second, "ConfigurationState controller reports the overlap", func() (bool, string) {
		var st v1beta1.ConfigurationState
		if err := e.c.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: "controller"}, &st); err != nil {
			return false, err.Error()
		}
		ok := st.Status.Result == v1beta1.ConfigurationInvalid &&
			strings.Contains(st.Status.ErrorSummary, "outage-overlap") && strings.Contains(st.Status.ErrorSummary, "overlap")
		return ok, string(st.Status.Result) + ": " + st.Status.ErrorSummary
	})
	// The good pool keeps serving.
	e.service("second")
	svcs := e.waitAssigned(30*time.Second, "first", "second")
	for _, n := range []string{"first", "second"} {
		ip := cluster.IngressIPs(svcs[n])[0]
		if !strings.HasPrefix(ip, "198.18.40.") {
			t.Errorf("%s got %s, not an address of the good pool", n, ip)
		}
	}

	// Fixing the configuration clears the report.
	var bad v1beta1.IPAddressPool
	if err := e.c.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: "outage-overlap"}, &bad); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Delete(ctx, &bad); err != nil {
		t.Fatal(err)
	}
	e.eventually(30*time.Second, "ConfigurationState controller valid again", func() (bool, string) {
		var st v1beta1.ConfigurationState
		if err := e.c.Get(ctx, types.NamespacedName{Namespace: cluster.Namespace, Name: "controller"}, &st); err != nil {
			return false, err.Error()
		}
		return st.Status.Result == v1beta1.ConfigurationValid, string(st.Status.Result) + ": " + st.Status.ErrorSummary
	})
}

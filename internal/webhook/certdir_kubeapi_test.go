package webhook_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/internal/webhook/certs"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// With --disable-cert-rotation the server uses the files of --cert-dir as
// given and nothing writes a Secret; --webhook-http2 offers h2.
func TestDisabledCertRotationServesCertDir(t *testing.T) {
	cfg := kubeapi.Shared(t)
	data, _, err := certs.Plan(nil, certs.Params{
		IPs:        []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		CALifetime: time.Hour, CertLifetime: time.Hour, Lookahead: time.Minute,
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, k := range []string{certs.KeyCert, certs.KeyKey} {
		if err := os.WriteFile(filepath.Join(dir, k), data[k], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{cfg: cfg, ns: "own-certs"}
	if e.c, err = client.New(cfg, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	e.startManager(t, webhook.ServingOptions{
		Namespace: e.ns, Host: "127.0.0.1", Port: port, HTTP2: true,
		DisableCertRotation: true, CertDir: dir, Log: testLog(),
	}, false)

	var last error
	connected := false
	for range 100 {
		st, err := dialTLS(port, data[certs.KeyCACert])
		if err == nil {
			if st.NegotiatedProtocol != "h2" {
				t.Errorf("negotiated %q with HTTP2 enabled, want h2", st.NegotiatedProtocol)
			}
			if got, want := st.PeerCertificates[0].SerialNumber, serialOf(t, data[certs.KeyCert]); got.Cmp(want) != 0 {
				t.Errorf("served serial %x, want the cert-dir's %x", got, want)
			}
			connected = true
			break
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	if !connected {
		t.Fatalf("the webhook server did not serve within 10s: %v", last)
	}
	// Nothing manages a Secret.
	time.Sleep(time.Second)
	sec := &corev1.Secret{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: webhook.SecretName}, sec); err == nil {
		t.Error("a certificate Secret was written although rotation is disabled")
	}
}

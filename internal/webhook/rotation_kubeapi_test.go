package webhook_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/internal/webhook/certs"
)

// secretData reads the certificate Secret (nil if absent).
func (e *env) secretData(t *testing.T) map[string][]byte {
	t.Helper()
	sec := &corev1.Secret{}
	err := e.c.Get(ctx(t), client.ObjectKey{Namespace: e.ns, Name: webhook.SecretName}, sec)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return sec.Data
}

func serialOf(t *testing.T, certPEM []byte) *big.Int {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("tls.crt holds no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber
}

// dialTLS dials the server on port, verifying its certificate against
// bundle for 127.0.0.1 the way the API server does and offering h2 and
// HTTP/1.1, and returns the connection's state.
func dialTLS(port int, bundle []byte) (tls.ConnectionState, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(bundle) {
		return tls.ConnectionState{}, fmt.Errorf("no CA in the bundle")
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", port),
		&tls.Config{RootCAs: roots, ServerName: "127.0.0.1", NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

// served dials a replica (see dialTLS) and returns the serial served.
func served(port int, bundle []byte) (*big.Int, error) {
	st, err := dialTLS(port, bundle)
	if err != nil {
		return nil, err
	}
	if st.NegotiatedProtocol != "http/1.1" {
		return nil, fmt.Errorf("negotiated %q, want HTTP/1.1 only", st.NegotiatedProtocol)
	}
	return st.PeerCertificates[0].SerialNumber, nil
}

// waitServes waits until the replica on port serves the certificate the
// Secret holds now, and that it differs from not (when not is set).
func (e *env) waitServes(t *testing.T, port int, not *big.Int) *big.Int {
	t.Helper()
	var last string
	for range 200 {
		data := e.secretData(t)
		if data != nil {
			want := serialOf(t, data[certs.KeyCert])
			got, err := served(port, data[certs.KeyCACert])
			switch {
			case err != nil:
				last = err.Error()
			case got.Cmp(want) != 0:
				last = fmt.Sprintf("serves %x, Secret holds %x", got, want)
			case not != nil && got.Cmp(not) == 0:
				last = fmt.Sprintf("still serves %x", got)
			default:
				return got
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("port %d: not serving the Secret's certificate within 40s: %s", port, last)
	return nil
}

// editWebhooks applies edit to the clientConfig of every webhook (i is
// its index in webhook.Hooks) of e's configuration and writes it back.
func (e *env) editWebhooks(t *testing.T, edit func(i int, cc *admissionregistrationv1.WebhookClientConfig)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := e.c.Get(ctx(t), client.ObjectKey{Name: e.vwc}, vwc); err != nil {
			return err
		}
		for i := range vwc.Webhooks {
			edit(i, &vwc.Webhooks[i].ClientConfig)
		}
		return e.c.Update(ctx(t), vwc)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCertificateRotation(t *testing.T) {
	e := newEnv(t, envOptions{serving: func(o *webhook.ServingOptions) {
		// Renewed about 6 s after each issue, checked every second.
		o.CertLifetime = 20 * time.Second
		o.Lookahead = 14 * time.Second
		o.CheckInterval = time.Second
	}})
	cs := useConversionWebhook(t, e)
	bundle := waitInjected(t, e, cs)
	first := e.waitServes(t, e.port, nil)

	t.Run("renewed within the lookahead and served", func(t *testing.T) {
		second := e.waitServes(t, e.port, first)
		if got := e.secretData(t)[certs.KeyCACert]; !bytes.Equal(got, bundle) {
			t.Error("renewing the serving certificate changed the CA bundle")
		}
		if second.Cmp(first) == 0 {
			t.Fatal("serial unchanged")
		}
		e.waitServing(t) // the API server accepts the new certificate
	})

	t.Run("bundle injected again after a manifest re-apply", func(t *testing.T) {
		e.editWebhooks(t, func(_ int, cc *admissionregistrationv1.WebhookClientConfig) { cc.CABundle = nil })
		waitInjected(t, e, cs)
		e.waitServing(t)
	})

	t.Run("deleted Secret recreated with a new CA", func(t *testing.T) {
		if err := e.c.Delete(ctx(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: webhook.SecretName}}); err != nil {
			t.Fatal(err)
		}
		var now []byte
		for range 150 {
			if data := e.secretData(t); data != nil && !bytes.Equal(data[certs.KeyCACert], bundle) {
				now = data[certs.KeyCACert]
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if now == nil {
			t.Fatal("Secret not recreated with a new CA within 30s")
		}
		waitInjected(t, e, cs)
		e.waitServes(t, e.port, nil)
		e.waitServing(t)
	})
}

func TestReplicasShareTheCertificate(t *testing.T) {
	e := newEnv(t, envOptions{replicas: 2, serving: func(o *webhook.ServingOptions) {
		o.CertLifetime = 20 * time.Second
		o.Lookahead = 14 * time.Second
		o.CheckInterval = time.Second
	}})
	// Replica 0 leads (it wrote the Secret before replica 1 started); both
	// serve the Secret's certificate.
	first := e.waitServes(t, e.replicas[0].port, nil)
	e.waitServes(t, e.replicas[1].port, nil)
	e.waitServes(t, e.replicas[1].port, first) // renewed by the leader, loaded by the other

	// The leader goes away; replica 1 keeps serving, takes the lead and
	// keeps renewing.
	e.replicas[0].stop()
	atStop := serialOf(t, e.secretData(t)[certs.KeyCert])
	e.port = e.replicas[1].port
	e.editWebhooks(t, func(i int, cc *admissionregistrationv1.WebhookClientConfig) {
		u := e.url(webhook.Hooks[i].Path)
		cc.URL = &u
	})
	e.waitServes(t, e.replicas[1].port, atStop)
	e.waitServing(t)
}

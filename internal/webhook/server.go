package webhook

import (
	"crypto/tls"
	"log/slog"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	"github.com/ferrolb/ferrolb/internal/core/config"
)

// ServerOptions configures the webhook server.
type ServerOptions struct {
	// Host is the listen address ("" = all); Port zero means Port (9443).
	Host string
	Port int
	// HTTP2 allows HTTP/2 (--webhook-http2); otherwise HTTP/1.1 only.
	HTTP2 bool
	// GetCertificate serves the certificate from memory; nil means the
	// tls.crt and tls.key files of CertDir (--disable-cert-rotation).
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	CertDir        string
	// TLSOpts (the --tls-* flags) are applied first.
	TLSOpts []func(*tls.Config)
}

// NewServer returns the webhook server (a manager runnable that runs on
// every replica, leader or not). Pass it as manager.Options.WebhookServer,
// then call Register.
func NewServer(o ServerOptions) crwebhook.Server {
	if o.Port == 0 {
		o.Port = Port
	}
	opts := append([]func(*tls.Config){}, o.TLSOpts...)
	opts = append(opts, func(c *tls.Config) {
		if o.HTTP2 {
			c.NextProtos = []string{"h2", "http/1.1"}
		} else {
			c.NextProtos = []string{"http/1.1"}
		}
		if o.GetCertificate != nil {
			c.GetCertificate = o.GetCertificate
		}
	})
	return crwebhook.NewServer(crwebhook.Options{
		Host:    o.Host,
		Port:    o.Port,
		CertDir: o.CertDir,
		TLSOpts: opts,
	})
}

// Options configures Register.
type Options struct {
	// Namespace is the controller's namespace.
	Namespace string
	// Reader lists objects uncached (manager.GetAPIReader()).
	Reader client.Reader
	// Scheme knows both BGPPeer versions (wiring.Scheme()), for conversion.
	Scheme *runtime.Scheme
	Log    *slog.Logger
}

// Register adds the validating webhooks (Hooks) and the BGPPeer
// conversion webhook (ConvertPath) to srv.
func Register(srv crwebhook.Server, o Options) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	v := &Validator{Reader: o.Reader, Namespace: o.Namespace, Log: o.Log}
	for _, h := range Hooks {
		wh := &admission.Webhook{Handler: v.Handler(config.Kind(h.Kind))}
		srv.Register(h.Path, wh.WithRecoverPanic(true))
	}
	srv.Register(ConvertPath, conversion.NewWebhookHandler(o.Scheme))
}

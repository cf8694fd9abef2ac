package webhook

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ferrolb/ferrolb/internal/webhook/certs"
)

// ServingOptions configures the webhook server and its certificate.
type ServingOptions struct {
	// Namespace is the controller's namespace (configuration objects and
	// the certificate Secret live there).
	Namespace string
	// Host and Port to listen on ("" = all addresses; 0 = 9443).
	Host string
	Port int
	// HTTP2 allows HTTP/2 (--webhook-http2).
	HTTP2 bool
	// TLSOpts (the --tls-* flags) apply to the server.
	TLSOpts []func(*tls.Config)

	// DisableCertRotation serves tls.crt/tls.key from CertDir as given
	// (--disable-cert-rotation); otherwise the certificate comes from the
	// Secret and CertDir is unused.
	DisableCertRotation bool
	CertDir             string

	// SecretName (--webhook-secret) holds the certificate; ServiceName
	// (--cert-service-name) gives its DNS names; ExtraDNSNames and ExtraIPs
	// are added to them (tests reach the server on 127.0.0.1).
	SecretName, ServiceName string
	ExtraDNSNames           []string
	ExtraIPs                []netip.Addr
	// WebhookConfig and CRD receive the CA bundle; empty means
	// ConfigurationName and BGPPeerCRD.
	WebhookConfig, CRD string
	// Zero values mean the certs package's defaults (12 h, 10 y, 1 y, 90 d).
	CheckInterval, CALifetime, CertLifetime, Lookahead time.Duration

	Log *slog.Logger
}

// Serving is the webhook server with its certificate management: create it
// before the manager (pass Server() as manager.Options.WebhookServer),
// then call Setup.
type Serving struct {
	o       ServingOptions
	cfg     *rest.Config
	server  crwebhook.Server
	store   *certs.Store
	rotator *certs.Rotator
}

// NewServing checks the options and builds the server. It starts nothing.
func NewServing(cfg *rest.Config, o ServingOptions) (*Serving, error) {
	if o.Namespace == "" {
		return nil, fmt.Errorf("webhook: namespace required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SecretName == "" {
		o.SecretName = SecretName
	}
	if o.ServiceName == "" {
		o.ServiceName = ServiceName
	}
	if o.WebhookConfig == "" {
		o.WebhookConfig = ConfigurationName
	}
	if o.CRD == "" {
		o.CRD = BGPPeerCRD
	}
	s := &Serving{o: o, cfg: cfg}
	so := ServerOptions{Host: o.Host, Port: o.Port, HTTP2: o.HTTP2, CertDir: o.CertDir, TLSOpts: o.TLSOpts}
	if !o.DisableCertRotation {
		store, err := certs.NewStore(cfg, o.Namespace, o.SecretName, o.Log)
		if err != nil {
			return nil, err
		}
		rot, err := certs.NewRotator(cfg, certs.RotatorOptions{
			Namespace:     o.Namespace,
			SecretName:    o.SecretName,
			WebhookConfig: o.WebhookConfig,
			CRD:           o.CRD,
			Params: certs.Params{
				DNSNames:     append(certs.ServiceDNSNames(o.ServiceName, o.Namespace), o.ExtraDNSNames...),
				IPs:          o.ExtraIPs,
				CALifetime:   o.CALifetime,
				CertLifetime: o.CertLifetime,
				Lookahead:    o.Lookahead,
			},
			CheckInterval: o.CheckInterval,
			Log:           o.Log,
		})
		if err != nil {
			return nil, err
		}
		s.store, s.rotator = store, rot
		so.GetCertificate = store.GetCertificate
	}
	s.server = NewServer(so)
	if s.store != nil {
		s.server = &afterCert{Server: s.server, store: s.store}
	}
	return s, nil
}

// afterCert opens the port only once a certificate is loaded, so that the
// API server meets a closed port (which the failure policy handles) rather
// than failed TLS handshakes while the leader creates the Secret.
type afterCert struct {
	crwebhook.Server
	store *certs.Store
}

func (a *afterCert) Start(ctx context.Context) error {
	select {
	case <-a.store.Loaded():
	case <-ctx.Done():
		return nil
	}
	return a.Server.Start(ctx)
}

// Server is the webhook server, for manager.Options.WebhookServer.
func (s *Serving) Server() crwebhook.Server { return s.server }

// Setup registers the webhooks on the server and, unless certificate
// rotation is disabled, adds the certificate Store (every replica) and
// Rotator (leader only) to mgr, with a readiness check that passes once a
// certificate is loaded. mgr must have been created with Server().
func (s *Serving) Setup(mgr manager.Manager) error {
	if mgr.GetWebhookServer() != s.server {
		return fmt.Errorf("webhook: the manager was not created with this Serving's server")
	}
	Register(s.server, Options{Namespace: s.o.Namespace, Reader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(), Log: s.o.Log})
	if s.store == nil {
		return nil
	}
	if err := mgr.Add(s.store); err != nil {
		return err
	}
	if err := mgr.Add(s.rotator); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("webhook-certificate", s.store.Ready)
}

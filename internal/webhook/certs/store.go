package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Store holds the serving certificate of this replica, loaded from the
// certificate Secret. Start watches the Secret; GetCertificate serves the
// latest valid pair. It runs on every replica, leader or not.
type Store struct {
	cs        kubernetes.Interface
	namespace string
	secret    string
	log       *slog.Logger

	cert   atomic.Pointer[tls.Certificate]
	mu     sync.Mutex    // serialises Load: compare-and-store of the PEM below
	pem    []byte        // tls.crt of the loaded pair
	loaded chan struct{} // closed by the first successful Load
}

// NewStore returns a Store for Secret namespace/secret. It starts nothing.
func NewStore(cfg *rest.Config, namespace, secret string, log *slog.Logger) (*Store, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{cs: cs, namespace: namespace, secret: secret, log: log, loaded: make(chan struct{})}, nil
}

// Start watches the Secret and loads every new certificate until ctx ends.
// A deleted or broken Secret leaves the last good certificate in place.
func (s *Store) Start(ctx context.Context) error {
	watchNamed(ctx, s.cs.CoreV1().RESTClient(), "secrets", s.namespace, s.secret, &corev1.Secret{}, func(obj any) {
		sec, ok := obj.(*corev1.Secret)
		if !ok {
			return // deleted: keep serving what we have
		}
		if err := s.Load(sec.Data); err != nil && len(sec.Data[KeyCert]) > 0 {
			s.log.Warn("webhook certificate secret holds no usable certificate", "secret", s.secret, "error", err)
		}
	})
	return nil
}

// NeedLeaderElection is false: every replica serves webhooks.
func (*Store) NeedLeaderElection() bool { return false }

// Load installs the tls.crt/tls.key pair of data, if it differs from the
// current one and is valid.
func (s *Store) Load(data map[string][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	certPEM := data[KeyCert]
	if s.cert.Load() != nil && bytes.Equal(certPEM, s.pem) {
		return nil
	}
	pair, err := tls.X509KeyPair(certPEM, data[KeyKey])
	if err != nil {
		return err
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return err
		}
	}
	if s.cert.Swap(&pair) == nil {
		close(s.loaded)
	}
	s.pem = bytes.Clone(certPEM)
	s.log.Info("webhook serving certificate loaded", "secret", s.secret, "serial", pair.Leaf.SerialNumber.Text(16), "notAfter", pair.Leaf.NotAfter)
	return nil
}

// Loaded is closed once a certificate is loaded.
func (s *Store) Loaded() <-chan struct{} { return s.loaded }

// GetCertificate serves the current pair (for tls.Config.GetCertificate).
func (s *Store) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := s.cert.Load(); c != nil {
		return c, nil
	}
	return nil, errNoCert
}

var errNoCert = errors.New("webhook serving certificate not loaded yet")

// Ready is a healthz checker: it fails until a certificate is loaded.
func (s *Store) Ready(*http.Request) error {
	if s.cert.Load() == nil {
		return errNoCert
	}
	return nil
}

var _ manager.LeaderElectionRunnable = (*Store)(nil)
var _ manager.Runnable = (*Store)(nil)

package certs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Defaults (MetalLB's).
const (
	DefaultCheckInterval = 12 * time.Hour
	DefaultCALifetime    = 10 * 365 * 24 * time.Hour
	DefaultCertLifetime  = 365 * 24 * time.Hour
	DefaultLookahead     = 90 * 24 * time.Hour
)

// ServiceDNSNames returns the names under which the API server reaches
// Service service of namespace: <service>.<namespace>.svc and its
// .cluster.local form.
func ServiceDNSNames(service, namespace string) []string {
	base := service + "." + namespace + ".svc"
	return []string{base, base + ".cluster.local"}
}

// RotatorOptions configures a Rotator.
type RotatorOptions struct {
	// Namespace and SecretName locate the certificate Secret.
	Namespace, SecretName string
	// WebhookConfig is the ValidatingWebhookConfiguration whose webhooks
	// get the CA bundle, and CRD the CustomResourceDefinition whose
	// conversion webhook gets it; empty names are skipped. Objects that do
	// not exist are skipped too (and handled once they appear).
	WebhookConfig, CRD string
	// Params is the wanted certificate (zero lifetimes and lookahead take
	// the defaults).
	Params Params
	// CheckInterval is how often the certificate is checked without any
	// change to the watched objects; zero means DefaultCheckInterval.
	CheckInterval time.Duration
	Log           *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Rotator keeps the certificate Secret valid and the CA bundle injected.
// Run it on the leader only (NeedLeaderElection is true).
type Rotator struct {
	o      RotatorOptions
	cs     kubernetes.Interface
	apiext apiextensions.Interface
}

// NewRotator checks the options and returns a Rotator. It starts nothing.
func NewRotator(cfg *rest.Config, o RotatorOptions) (*Rotator, error) {
	if o.Params.CALifetime == 0 {
		o.Params.CALifetime = DefaultCALifetime
	}
	if o.Params.CertLifetime == 0 {
		o.Params.CertLifetime = DefaultCertLifetime
	}
	if o.Params.Lookahead == 0 {
		o.Params.Lookahead = DefaultLookahead
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Namespace == "" || o.SecretName == "" {
		return nil, errors.New("certs: the Secret's namespace and name are required")
	}
	if err := o.Params.validate(); err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	apiext, err := apiextensions.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	return &Rotator{o: o, cs: cs, apiext: apiext}, nil
}

// NeedLeaderElection is true: one replica writes the Secret.
func (*Rotator) NeedLeaderElection() bool { return true }

// Retry back-off after a failed check.
const (
	minRetry = time.Second
	maxRetry = time.Minute
)

// Start checks now, then every CheckInterval and whenever the Secret, the
// ValidatingWebhookConfiguration or the CRD changes, until ctx ends. A
// failed check is retried with exponential back-off.
func (r *Rotator) Start(ctx context.Context) error {
	trigger := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	watch(func() {
		watchNamed(ctx, r.cs.CoreV1().RESTClient(), "secrets", r.o.Namespace, r.o.SecretName, &corev1.Secret{}, poke)
	})
	if r.o.WebhookConfig != "" {
		watch(func() {
			watchNamed(ctx, r.cs.AdmissionregistrationV1().RESTClient(), "validatingwebhookconfigurations", "", r.o.WebhookConfig,
				&admissionregistrationv1.ValidatingWebhookConfiguration{}, poke)
		})
	}
	if r.o.CRD != "" {
		watch(func() {
			watchNamed(ctx, r.apiext.ApiextensionsV1().RESTClient(), "customresourcedefinitions", "", r.o.CRD,
				&apiextensionsv1.CustomResourceDefinition{}, poke)
		})
	}

	tick := time.NewTicker(r.o.CheckInterval)
	defer tick.Stop()
	backoff := minRetry
	for {
		var retry <-chan time.Time
		if err := r.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.o.Log.Error("webhook certificate check failed", "secret", r.o.SecretName, "retryIn", backoff, "error", err)
			retry = time.After(backoff)
			backoff = min(2*backoff, maxRetry)
		} else {
			backoff = minRetry
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-trigger:
		case <-retry:
		}
	}
}

// Sync checks the Secret once: makes sure the CA bundle is injected, then
// writes what needs renewing. A new CA bundle is thus injected before the
// Secret that uses it is written.
func (r *Rotator) Sync(ctx context.Context) error {
	secrets := r.cs.CoreV1().Secrets(r.o.Namespace)
	sec, err := secrets.Get(ctx, r.o.SecretName, metav1.GetOptions{})
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Secret %s/%s: %w", r.o.Namespace, r.o.SecretName, err)
	}
	var cur map[string][]byte
	if exists {
		cur = sec.Data
	}
	next, reason, err := Plan(cur, r.o.Params, r.o.Now())
	if err != nil {
		return err
	}
	if err := r.inject(ctx, next[KeyCACert]); err != nil {
		return err
	}
	if reason == "" {
		return nil
	}
	if exists {
		sec.Data = next
		_, err = secrets.Update(ctx, sec, metav1.UpdateOptions{})
	} else {
		_, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: r.o.Namespace, Name: r.o.SecretName},
			Type:       corev1.SecretTypeOpaque,
			Data:       next,
		}, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("writing Secret %s/%s: %w", r.o.Namespace, r.o.SecretName, err)
	}
	r.o.Log.Info("webhook certificate renewed", "secret", r.o.SecretName, "reason", reason)
	return nil
}

func (r *Rotator) inject(ctx context.Context, bundle []byte) error {
	if r.o.WebhookConfig != "" {
		wrote, found, err := injectWebhooks(ctx, r.cs, r.o.WebhookConfig, bundle)
		if err != nil {
			return err
		}
		r.logInjection("ValidatingWebhookConfiguration", r.o.WebhookConfig, wrote, found)
	}
	if r.o.CRD != "" {
		wrote, found, err := injectConversion(ctx, r.apiext, r.o.CRD, bundle)
		if err != nil {
			return err
		}
		r.logInjection("CustomResourceDefinition", r.o.CRD, wrote, found)
	}
	return nil
}

func (r *Rotator) logInjection(kind, name string, wrote, found bool) {
	switch {
	case wrote:
		r.o.Log.Info("CA bundle injected", "kind", kind, "name", name)
	case !found:
		r.o.Log.Debug("CA bundle not injected: object not found", "kind", kind, "name", name)
	}
}

var _ manager.LeaderElectionRunnable = (*Rotator)(nil)
var _ manager.Runnable = (*Rotator)(nil)

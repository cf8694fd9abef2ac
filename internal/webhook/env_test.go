package webhook_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/k8s/wiring"
	"github.com/ferrolb/ferrolb/internal/webhook"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestMain(m *testing.M) {
	flag.Parse()
	wiring.Loggers(testLog())
	kubeapi.Main(m)
}

// testLog writes to stderr with -v, else nowhere.
func testLog() *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// warnLog collects the warnings the API server returns.
type warnLog struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

// take returns the warnings received since the last call.
func (w *warnLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// env is one controller's webhook serving against the shared API server:
// its own namespace, port and ValidatingWebhookConfiguration (whose
// clientConfig is a URL on 127.0.0.1).
type env struct {
	cfg   *rest.Config
	c     client.Client
	warn  *warnLog
	ns    string
	port  int // the port the webhook configuration calls
	vwc   string
	probe int
	// replicas holds every replica's port and stop function.
	replicas []replica
}

type replica struct {
	port int
	stop func()
}

type envOptions struct {
	// before creates objects before the webhooks are registered (so they
	// may be invalid).
	before func(ctx context.Context, c client.Client, ns string)
	// serving tweaks the options of the webhook serving.
	serving func(*webhook.ServingOptions)
	// replicas is the number of managers (default 1); with more than one,
	// they elect a leader. The webhook configuration calls the first.
	replicas int
}

var envCount struct {
	mu sync.Mutex
	n  int
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The client of its own below records the API server's warnings.
	cfg, _ := cluster.SharedClient(t)
	envCount.mu.Lock()
	envCount.n++
	n := envCount.n
	envCount.mu.Unlock()

	e := &env{cfg: cfg, warn: &warnLog{}, ns: fmt.Sprintf("metallb-%d", n), vwc: fmt.Sprintf("metallb-webhook-configuration-%d", n)}
	ccfg := rest.CopyConfig(cfg)
	ccfg.WarningHandler = e.warn
	var err error
	e.c, err = client.New(ccfg, client.Options{Scheme: wiring.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	if o.before != nil {
		o.before(ctx, e.c, e.ns)
	}
	if o.replicas == 0 {
		o.replicas = 1
	}
	for range o.replicas {
		e.replicas = append(e.replicas, replica{port: freePort(t)})
	}
	e.port = e.replicas[0].port

	vwc := e.configuration()
	if err := e.c.Create(ctx, vwc); err != nil {
		t.Fatal(err)
	}

	for i := range e.replicas {
		so := webhook.ServingOptions{
			Namespace:     e.ns,
			Host:          "127.0.0.1",
			Port:          e.replicas[i].port,
			ExtraIPs:      []netip.Addr{netip.MustParseAddr("127.0.0.1")},
			WebhookConfig: e.vwc,
			Log:           testLog().With("env", n, "replica", i),
		}
		if o.serving != nil {
			o.serving(&so)
		}
		e.replicas[i].stop = e.startManager(t, so, o.replicas > 1)
		if i == 0 && o.replicas > 1 {
			e.waitSecret(t) // written by the leader: replica 0 leads
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Unregister first: nothing may call a stopped server.
		if err := e.c.Delete(ctx, vwc); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting the webhook configuration: %v", err)
		}
		for _, r := range e.replicas {
			r.stop()
		}
	})
	e.waitServing(t)
	return e
}

// startManager runs a manager with the webhook serving until the returned
// function is called (which waits for it to stop).
func (e *env) startManager(t *testing.T, so webhook.ServingOptions, leaderElection bool) (stop func()) {
	t.Helper()
	serving, err := webhook.NewServing(e.cfg, so)
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(e.cfg, manager.Options{
		Scheme:                        wiring.Scheme(),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		WebhookServer:                 serving.Server(),
		LeaderElection:                leaderElection,
		LeaderElectionID:              "webhook-test",
		LeaderElectionNamespace:       e.ns,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := serving.Setup(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("manager: %v", err)
				}
			case <-time.After(90 * time.Second):
				t.Error("manager did not stop within 90s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitSecret waits until the certificate Secret holds a certificate.
func (e *env) waitSecret(t *testing.T) {
	t.Helper()
	for range 150 {
		sec := &corev1.Secret{}
		err := e.c.Get(ctx(t), client.ObjectKey{Namespace: e.ns, Name: webhook.SecretName}, sec)
		if err == nil && len(sec.Data["tls.crt"]) > 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("certificate Secret not written within 30s")
}

func (e *env) url(path string) string {
	return fmt.Sprintf("https://127.0.0.1:%d%s", e.port, path)
}

// configuration is e's ValidatingWebhookConfiguration (failure policy
// Fail), calling the webhooks at e.url.
func (e *env) configuration() *admissionregistrationv1.ValidatingWebhookConfiguration {
	return webhook.Configuration(e.vwc, admissionregistrationv1.Fail, func(path string) admissionregistrationv1.WebhookClientConfig {
		u := e.url(path)
		return admissionregistrationv1.WebhookClientConfig{URL: &u}
	})
}

// waitServing waits until the API server calls the webhooks successfully:
// a pool created outside the namespace is denied by the webhook (before
// the CA is injected and the certificate served, the call itself fails;
// before the API server's informer has seen the new webhook configuration,
// the pool is created, and removed again).
func (e *env) waitServing(t *testing.T) {
	t.Helper()
	want := fmt.Sprintf("resource must be created in %s namespace", e.ns)
	var last error
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		e.probe++
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		last = e.c.Create(ctx, pool("default", fmt.Sprintf("probe-%s-%d", e.ns, e.probe), "203.0.113.255/32"))
		cancel()
		if last != nil && strings.Contains(last.Error(), want) {
			return
		}
		if last == nil {
			last = fmt.Errorf("a pool outside %s was created: the webhook is not registered yet", e.ns)
			p := pool("default", fmt.Sprintf("probe-%s-%d", e.ns, e.probe), "203.0.113.255/32")
			if err := e.c.Delete(context.Background(), p); err != nil {
				t.Fatalf("removing probe pool: %v", err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("webhooks not served within 45s; last error: %v", last)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func pool(ns, name string, addrs ...string) *v1beta1.IPAddressPool {
	return &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs},
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// denied fails unless err is a webhook denial whose message contains every
// string of want.
func denied(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("allowed; want a denial containing %q", want)
	}
	msg := err.Error()
	if !strings.Contains(msg, "denied the request") {
		t.Fatalf("error %q is not a webhook denial", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("denial %q does not contain %q", msg, w)
		}
	}
}

func allowed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("denied: %v", err)
	}
}

package crdtest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

const ns = "metallb-system"

func TestMain(m *testing.M) { kubeapi.Main(m) }

var install struct {
	once sync.Once
	err  error
}

// warnings collects the warnings the API server returns.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) contains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// env is a typed client on the shared API server, with the CRDs installed
// and the MetalLB namespace created.
type env struct {
	c        client.Client
	cfg      *rest.Config
	warnings *warnings
}

func setup(t *testing.T) (context.Context, env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cfg := rest.CopyConfig(kubeapi.Shared(t))
	w := &warnings{}
	cfg.WarningHandlerWithContext = w

	install.once.Do(func() {
		dir, err := kubeapi.CRDDir()
		if err != nil {
			install.err = err
			return
		}
		install.err = kubeapi.InstallCRDs(ctx, cfg, dir)
	})
	if install.err != nil {
		t.Fatalf("installing the CRDs: %v", install.err)
	}

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, v1beta1.AddToScheme, v1beta2.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return ctx, env{c: c, cfg: cfg, warnings: w}
}

// checkErr fails unless err matches want: nil for "", else an Invalid
// error whose message contains want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if err != nil {
		t.Logf("server said: %v", err)
	}
	switch {
	case want == "" && err != nil:
		t.Fatalf("rejected: %v", err)
	case want != "" && err == nil:
		t.Fatalf("accepted, want an error containing %q", want)
	case want != "" && !apierrors.IsInvalid(err):
		t.Fatalf("got %v, want an Invalid error containing %q", err, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("got %v, want an error containing %q", err, want)
	}
}

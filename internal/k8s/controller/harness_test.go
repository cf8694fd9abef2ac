package controller

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	kubeapi.Main(m)
}

const ns = cluster.Namespace

var (
	setupOnce sync.Once
	setupErr  error // setupOnce's, seen by every later test
)

// env is one test's view of the shared API server: a client, a namespace
// of its own for Services, and a running controller.
type env struct {
	t      *testing.T
	cfg    *rest.Config
	c      client.Client
	svcNS  string
	stop   func()
	engine *assign.Engine
	reg    *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg, c := cluster.SharedClient(t)
	setupOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			setupErr = err
		}
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	e := &env{t: t, cfg: cfg, c: c}
	e.svcNS = e.namespace(nil)
	t.Cleanup(e.cleanup)
	return e
}

// namespace creates a fresh namespace for the test.
func (e *env) namespace(labels map[string]string) string {
	e.t.Helper()
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-", Labels: labels}}
	if err := e.c.Create(context.Background(), nsObj); err != nil {
		e.t.Fatal(err)
	}
	return nsObj.Name
}

// start runs the controller in-process until the test ends or stop is
// called.
func (e *env) start(opts ...func(*Options)) {
	e.t.Helper()
	mgr, err := ctrl.NewManager(e.cfg, manager.Options{
		Scheme:                 cluster.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&v1beta1.IPAddressPool{}: {Namespaces: map[string]cache.Config{ns: {}}},
			&v1beta1.Community{}:     {Namespaces: map[string]cache.Config{ns: {}}},
		}},
		Controller: ctrlConfigUnique(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.reg = prometheus.NewRegistry()
	o := Options{Namespace: ns, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Registry: e.reg}
	for _, f := range opts {
		f(&o)
	}
	eng, err := Setup(mgr, o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.engine = eng
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	e.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("manager: %v", err)
			}
		case <-time.After(30 * time.Second):
			e.t.Errorf("manager did not stop")
		}
		e.stop = nil
	}
}

func (e *env) cleanup() {
	if e.stop != nil {
		e.stop()
	}
	ctx := context.Background()
	_ = e.c.DeleteAllOf(ctx, &v1beta1.IPAddressPool{}, client.InNamespace(ns))
	var svcs corev1.ServiceList
	_ = e.c.List(ctx, &svcs, client.InNamespace(e.svcNS))
	for i := range svcs.Items {
		_ = e.c.Delete(ctx, &svcs.Items[i])
	}
}

func (e *env) pool(name string, mod func(*v1beta1.IPAddressPool), addrs ...string) *v1beta1.IPAddressPool {
	e.t.Helper()
	p := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs},
	}
	if mod != nil {
		mod(p)
	}
	if err := e.c.Create(context.Background(), p); err != nil {
		e.t.Fatalf("creating pool %s: %v", name, err)
	}
	return p
}

func (e *env) service(name string, mods ...func(*corev1.Service)) *corev1.Service {
	e.t.Helper()
	return e.serviceIn(e.svcNS, name, mods...)
}

func (e *env) serviceIn(namespace, name string, mods ...func(*corev1.Service)) *corev1.Service {
	e.t.Helper()
	s := cluster.LoadBalancer(namespace, name)
	for _, m := range mods {
		m(s)
	}
	if err := e.c.Create(context.Background(), s); err != nil {
		e.t.Fatalf("creating service %s: %v", name, err)
	}
	return s
}

func (e *env) get(name string) *corev1.Service {
	e.t.Helper()
	var s corev1.Service
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: e.svcNS, Name: name}, &s); err != nil {
		e.t.Fatal(err)
	}
	return &s
}

// eventually polls cond every 50 ms for up to 20 s.
func (e *env) eventually(what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s; last state: %s", what, last)
}

// waitIPs waits until the Service's ingress IPs are exactly want
// (comma-separated, "" = none) and its condition has the given reason.
func (e *env) waitIPs(name, want, reason string) *corev1.Service {
	e.t.Helper()
	var got *corev1.Service
	e.eventually(fmt.Sprintf("%s to have IPs %q and reason %q", name, want, reason), func() (bool, string) {
		got = e.get(name)
		ips := fmt.Sprint(cluster.IngressIPs(got))
		c := condition(got)
		r := ""
		if c != nil {
			r = c.Reason
		}
		return ips == fmt.Sprint(split(want)) && r == reason, fmt.Sprintf("ips %s condition %+v", ips, c)
	})
	return got
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func condition(s *corev1.Service) *metav1.Condition {
	for i := range s.Status.Conditions {
		if s.Status.Conditions[i].Type == assign.ConditionType {
			return &s.Status.Conditions[i]
		}
	}
	return nil
}

// events returns "Type Reason: Message" of the events about a Service.
func (e *env) events(name string) []string {
	e.t.Helper()
	var list corev1.EventList
	if err := e.c.List(context.Background(), &list, client.InNamespace(e.svcNS)); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range list.Items {
		if ev.InvolvedObject.Name == name && ev.InvolvedObject.Kind == "Service" {
			out = append(out, ev.Type+" "+ev.Reason+": "+ev.Message)
		}
	}
	return out
}

func annotate(k, v string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func dualStack(s *corev1.Service) {
	s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
}

// ctrlConfigUnique lets several managers in one test process register
// controllers of the same name.
func ctrlConfigUnique() ctrlconfig.Controller {
	return ctrlconfig.Controller{SkipNameValidation: ptr.To(true)}
}

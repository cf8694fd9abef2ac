package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// nobody is an API user with no permission at all: authenticated, never
// authorized.
const nobody = "e2e-nobody"

var (
	clus     *cluster.Cluster
	ctrlBin  string // the controller binary built for this run
	startErr error
)

func TestMain(m *testing.M) {
	clus, startErr = startCluster()
	code := m.Run()
	if clus != nil {
		clus.Stop()
		if code == 0 {
			_ = os.RemoveAll(clus.Dir)
		} else {
			fmt.Fprintf(os.Stderr, "controller e2e: logs kept in %s\n", clus.Dir)
		}
	}
	if startErr != nil {
		fmt.Fprintf(os.Stderr, "controller e2e: %v\n", startErr)
	}
	if dir := filepath.Dir(ctrlBin); ctrlBin != "" && strings.HasPrefix(filepath.Base(dir), "ferrolb-bin-") {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// startCluster starts the package's one control plane and builds the
// controller binary.
func startCluster() (*cluster.Cluster, error) {
	// The binaries may need a (long, separately bounded) build first; the
	// start itself is then quick.
	if _, err := kubeapi.BinDir(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{API: kubeapi.Options{
		Users: []kubeapi.User{{Name: nobody, UID: nobody}},
	}})
	if err != nil {
		return nil, fmt.Errorf("starting the cluster: %w", err)
	}
	if ctrlBin, err = cluster.Binary("./cmd/controller"); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// env is one test's view of the shared cluster: a namespace of its own for
// Services, the pools and processes it created, all removed at its end.
type env struct {
	t     *testing.T
	c     client.Client
	ns    string // the test's Service namespace
	procs []*cluster.Proc
	live  map[*cluster.Proc]bool // processes expected to be running
	nss   []string               // namespaces whose Services and pools are removed at the end
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if startErr != nil {
		t.Fatalf("no cluster: %v", startErr)
	}
	e := &env{t: t, c: clus.Client, live: map[*cluster.Proc]bool{}}
	t.Cleanup(e.cleanup)
	e.ns = e.namespace("e2e-")
	return e
}

// namespace creates a namespace (name generated from prefix) whose
// Services and pools the test's cleanup removes. Namespaces themselves
// stay: nothing in this cluster would empty and finalize them.
func (e *env) namespace(prefix string) string {
	e.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := e.c.Create(context.Background(), ns); err != nil {
		e.t.Fatalf("creating namespace: %v", err)
	}
	e.nss = append(e.nss, ns.Name)
	return ns.Name
}

func (e *env) cleanup() {
	for i := len(e.procs) - 1; i >= 0; i-- {
		p := e.procs[i]
		if err := p.Stop(); err != nil {
			e.t.Errorf("stopping %s: %v", p.Name, err)
		}
		if e.t.Failed() {
			e.t.Logf("--- %s (log %s) ends with:\n%s", p.Name, p.Log, p.Tail(40))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, ns := range append([]string{cluster.Namespace}, e.nss...) {
		if err := e.c.DeleteAllOf(ctx, &v1beta1.IPAddressPool{}, client.InNamespace(ns)); err != nil {
			e.t.Errorf("deleting pools in %s: %v", ns, err)
		}
	}
	// Services of one test must not feed the controllers of the next.
	for _, ns := range e.nss {
		var list corev1.ServiceList
		if err := e.c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			e.t.Errorf("listing services in %s: %v", ns, err)
			continue
		}
		for i := range list.Items {
			if err := e.c.Delete(ctx, &list.Items[i]); err != nil && !apierrors.IsNotFound(err) {
				e.t.Errorf("deleting service %s/%s: %v", ns, list.Items[i].Name, err)
			}
		}
	}
}

// start runs the controller binary with the cluster's defaults (namespace
// metallb-system, metrics and health off, webhooks disabled) plus args.
func (e *env) start(name string, args ...string) *cluster.Proc {
	e.t.Helper()
	p, err := clus.StartController(e.t.Name()+"-"+name, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.track(p)
	return p
}

// startRaw runs the controller binary with exactly args (no defaults).
func (e *env) startRaw(name string, args ...string) *cluster.Proc {
	e.t.Helper()
	p, err := clus.StartProcess(e.t.Name()+"-"+name, ctrlBin, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.track(p)
	return p
}

func (e *env) track(p *cluster.Proc) {
	e.procs = append(e.procs, p)
	e.live[p] = true
}

// stop ends p with SIGTERM and checks that it exits cleanly.
func (e *env) stop(p *cluster.Proc) {
	e.t.Helper()
	delete(e.live, p)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		e.t.Fatalf("SIGTERM %s: %v", p.Name, err)
	}
	e.waitExit(p, true)
}

// kill ends p with SIGKILL.
func (e *env) kill(p *cluster.Proc) {
	e.t.Helper()
	delete(e.live, p)
	if err := p.Signal(syscall.SIGKILL); err != nil {
		e.t.Fatalf("SIGKILL %s: %v", p.Name, err)
	}
	e.waitExit(p, false)
}

func (e *env) waitExit(p *cluster.Proc, clean bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.t.Fatalf("%s did not exit within 20 s", p.Name)
	case clean && err != nil:
		e.t.Errorf("%s exited with %v after SIGTERM, want a clean exit", p.Name, err)
	}
}

// eventually polls cond every 100 ms until it holds or timeout passes. It
// fails at once if a controller the test expects to run has exited.
func (e *env) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		for p := range e.live {
			if p.Exited() {
				e.t.Fatalf("waiting for %s: %s exited unexpectedly; log ends with:\n%s", what, p.Name, p.Tail(30))
			}
		}
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pool creates an IPAddressPool.
func (e *env) pool(namespace, name string, addrs ...string) *v1beta1.IPAddressPool {
	e.t.Helper()
	p := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs},
	}
	if err := e.c.Create(context.Background(), p); err != nil {
		e.t.Fatalf("creating pool %s/%s: %v", namespace, name, err)
	}
	return p
}

// service creates a LoadBalancer Service in the test's namespace.
func (e *env) service(name string, mods ...func(*corev1.Service)) {
	e.t.Helper()
	s := cluster.LoadBalancer(e.ns, name)
	for _, m := range mods {
		m(s)
	}
	if err := e.c.Create(context.Background(), s); err != nil {
		e.t.Fatalf("creating service %s: %v", name, err)
	}
}

func (e *env) deleteService(name string) {
	e.t.Helper()
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	if err := e.c.Delete(context.Background(), s); err != nil {
		e.t.Fatalf("deleting service %s: %v", name, err)
	}
}

// services returns the Services of the test's namespace by name.
func (e *env) services() map[string]*corev1.Service {
	e.t.Helper()
	var list corev1.ServiceList
	if err := e.c.List(context.Background(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatalf("listing services: %v", err)
	}
	out := make(map[string]*corev1.Service, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

// waitAssigned waits until every named Service has an address and returns
// the Services of the namespace.
func (e *env) waitAssigned(timeout time.Duration, names ...string) map[string]*corev1.Service {
	e.t.Helper()
	var svcs map[string]*corev1.Service
	e.eventually(timeout, fmt.Sprintf("addresses for %v", names), func() (bool, string) {
		svcs = e.services()
		var missing []string
		for _, n := range names {
			if s, ok := svcs[n]; !ok || len(cluster.IngressIPs(s)) == 0 {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0, fmt.Sprintf("without address: %v", missing)
	})
	return svcs
}

// condition returns the metallb.io/AddressAssigned condition, or nil.
func condition(s *corev1.Service) *metav1.Condition {
	for i := range s.Status.Conditions {
		if s.Status.Conditions[i].Type == assign.ConditionType {
			return &s.Status.Conditions[i]
		}
	}
	return nil
}

func reason(s *corev1.Service) string {
	if c := condition(s); c != nil {
		return c.Reason
	}
	return ""
}

// duplicates lists every address held by more than one Service.
func duplicates(svcs map[string]*corev1.Service) []string {
	holders := map[string][]string{}
	for name, s := range svcs {
		for _, ip := range cluster.IngressIPs(s) {
			holders[ip] = append(holders[ip], name)
		}
	}
	var out []string
	for ip, names := range holders {
		if len(names) > 1 {
			out = append(out, fmt.Sprintf("%s held by %v", ip, names))
		}
	}
	return out
}

// leaseHolder returns the holderIdentity of a Lease ("" when it has none
// or does not exist yet).
func (e *env) leaseHolder(namespace, name string) string {
	e.t.Helper()
	var l coordinationv1.Lease
	err := e.c.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, &l)
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		e.t.Fatalf("reading lease %s/%s: %v", namespace, name, err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// logContains reports whether p's log holds s.
func logContains(p *cluster.Proc, s string) bool {
	b, err := os.ReadFile(p.Log)
	return err == nil && strings.Contains(string(b), s)
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

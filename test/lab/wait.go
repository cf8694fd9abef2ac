package lab

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// Waiter polls conditions for a test running in the lab, and fails the
// test at once when a process it did not stop on purpose (the controller,
// a speaker) has exited: waiting on a dead process would only time out.
type Waiter struct {
	T   testing.TB
	Lab *Lab
	// Interval between two checks; 0 means 100 ms.
	Interval time.Duration
	// Stopped names the nodes whose speaker the test stopped on purpose.
	Stopped map[string]bool
}

// Eventually polls cond until it holds or timeout passes, then fails the
// test with cond's last state.
func (w Waiter) Eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	w.T.Helper()
	if ok, state := w.Poll(timeout, what, cond); !ok {
		w.T.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, what, state)
	}
}

// Poll is Eventually without the verdict: it reports whether cond came to
// hold within timeout, and cond's last state.
func (w Waiter) Poll(timeout time.Duration, what string, cond func() (bool, string)) (bool, string) {
	w.T.Helper()
	deadline := time.Now().Add(timeout)
	for {
		w.checkProcs(what)
		ok, state := cond()
		if ok {
			return true, state
		}
		if time.Now().After(deadline) {
			return false, state
		}
		time.Sleep(w.interval())
	}
}

// Never polls cond for d and fails the test if it ever holds.
func (w Waiter) Never(d time.Duration, what string, cond func() (bool, string)) {
	w.T.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		w.checkProcs(what)
		if ok, state := cond(); ok {
			w.T.Fatalf("%s, which must not happen: %s", what, state)
		}
		time.Sleep(w.interval())
	}
}

func (w Waiter) interval() time.Duration {
	if w.Interval <= 0 {
		return 100 * time.Millisecond
	}
	return w.Interval
}

func (w Waiter) checkProcs(what string) {
	w.T.Helper()
	if p := w.Lab.Controller; p != nil && p.Exited() {
		w.T.Fatalf("waiting for %s: the controller exited; its log ends with:\n%s", what, p.Tail(30))
	}
	for _, n := range w.Lab.Nodes {
		if w.Stopped[n.Name] {
			continue
		}
		if p, err := w.Lab.Speaker(n.Name); err == nil && p.Exited() {
			w.T.Fatalf("waiting for %s: the speaker on %s exited; its log ends with:\n%s", what, n.Name, p.Tail(30))
		}
	}
}

// Service creates a LoadBalancer Service in namespace ns asking for ips
// through the metallb.io/loadBalancerIPs annotation (none: any address of
// an auto-assigning pool), applies mods, and waits until the controller
// has assigned the addresses.
func (w Waiter) Service(ctx context.Context, ns, name string, ips []string, mods ...func(*corev1.Service)) *corev1.Service {
	w.T.Helper()
	c := w.Lab.Cluster.Client
	s := cluster.LoadBalancer(ns, name)
	s.Annotations = map[string]string{}
	if len(ips) > 0 {
		s.Annotations["metallb.io/loadBalancerIPs"] = strings.Join(ips, ",")
	}
	for _, m := range mods {
		m(s)
	}
	if err := c.Create(ctx, s); err != nil {
		w.T.Fatalf("creating Service %s: %v", name, err)
	}
	w.Eventually(20*time.Second, "addresses for Service "+name, func() (bool, string) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil {
			return false, err.Error()
		}
		got := cluster.IngressIPs(s)
		if len(ips) == 0 {
			return len(got) > 0, fmt.Sprint(got)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(ips))
		return slices.Equal(got, want), fmt.Sprintf("ingress %v, want %v", got, want)
	})
	return s
}

// HTTP waits until http://ip:port/ from the client answers with the name
// of backend (any node's when backend is "") and returns the body.
func (w Waiter) HTTP(ctx context.Context, ip string, port int, backend string, timeout time.Duration) string {
	w.T.Helper()
	var body string
	w.Eventually(timeout, fmt.Sprintf("HTTP to %s port %d answered by %q", ip, port, backend), func() (bool, string) {
		b, err := w.Lab.CurlFrom(ctx, "client", ip, port)
		if err != nil {
			return false, err.Error()
		}
		body = b
		return strings.HasPrefix(b, "node") && (backend == "" || b == backend), fmt.Sprintf("body %q", b)
	})
	return body
}

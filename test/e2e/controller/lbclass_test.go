package controller

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/cluster"
)

func withClass(class string) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptr.To(class) }
}

// TestLBClassAndNamespaceEnv runs two controllers side by side: the usual
// one (class-less Services, configuration in metallb-system) and one for
// --lb-class example.com/x whose configuration namespace comes from
// METALLB_NAMESPACE. Each serves only its Services from only its pools.
func TestLBClassAndNamespaceEnv(t *testing.T) {
	e := newEnv(t)
	cfgNS := e.namespace("e2e-lbclass-config-")
	e.pool(cluster.Namespace, "e2e-default", "192.0.2.128/28")
	e.pool(cfgNS, "e2e-class-x", "198.19.0.10/32") // one address only

	e.start("default", "--leader-election-id", "e2e-lbclass-default")
	t.Setenv("METALLB_NAMESPACE", cfgNS)
	classX := e.startRaw("class-x", "--kubeconfig", clus.Kubeconfig, "--lb-class", "example.com/x",
		"--port", "0", "--health-probe-port", "0", "--webhook-mode", "disabled")

	e.service("plain")
	e.service("x-1", withClass("example.com/x"))
	svcs := e.waitAssigned(30*time.Second, "plain", "x-1")
	if got := fmt.Sprint(cluster.IngressIPs(svcs["x-1"])); got != "[198.19.0.10]" {
		t.Errorf("x-1 got %s, want [198.19.0.10] from the pool of %s", got, cfgNS)
	}
	if got := svcs["x-1"].Annotations[assign.AnnotationAllocatedFromPool]; got != "e2e-class-x" {
		t.Errorf("x-1 allocated from pool %q, want e2e-class-x", got)
	}
	if got := svcs["plain"].Annotations[assign.AnnotationAllocatedFromPool]; got != "e2e-default" {
		t.Errorf("plain allocated from pool %q, want e2e-default", got)
	}

	// The class pool is full: the next Service of the class waits, although
	// metallb-system's pool has room (that one is not its configuration).
	e.service("x-2", withClass("example.com/x"))
	e.service("y-1", withClass("example.com/y"))
	e.eventually(30*time.Second, "x-2 to report PoolExhausted", func() (bool, string) {
		svcs = e.services()
		return reason(svcs["x-2"]) == "PoolExhausted", fmt.Sprintf("x-2 status %+v", svcs["x-2"].Status)
	})
	if ips := cluster.IngressIPs(svcs["x-2"]); len(ips) > 0 {
		t.Errorf("x-2 has %v although its pool is full", ips)
	}
	// Nothing serves example.com/y: it must stay untouched. Its create
	// event reached both controllers with x-2's; give them a moment more
	// before looking.
	time.Sleep(2 * time.Second)
	svcs = e.services()
	if y := svcs["y-1"]; len(y.Status.LoadBalancer.Ingress) > 0 || len(y.Status.Conditions) > 0 ||
		y.Annotations[assign.AnnotationAllocatedFromPool] != "" {
		t.Errorf("y-1 (class example.com/y) was touched: annotations %v, status %+v", y.Annotations, y.Status)
	}
	if d := duplicates(svcs); len(d) > 0 {
		t.Errorf("duplicate addresses: %v", d)
	}

	// METALLB_NAMESPACE also placed the class controller's Lease.
	if h := e.leaseHolder(cfgNS, leaseName); h == "" {
		t.Errorf("no Lease %s/%s held: the class controller did not elect itself in its namespace", cfgNS, leaseName)
	}
	if !logContains(classX, "successfully acquired lease "+cfgNS+"/"+leaseName) {
		t.Errorf("%s does not say it leads through %s/%s", classX.Name, cfgNS, leaseName)
	}
}

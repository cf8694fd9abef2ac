package controller

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/test/cluster"
)

func TestAssignPublishAndRelease(t *testing.T) {
	e := newEnv(t)
	e.pool("single", nil, "192.0.2.200/32")
	e.start()

	e.service("a")
	s := e.waitIPs("a", "192.0.2.200", assign.ReasonAssigned)
	if p := s.Annotations[assign.AnnotationAllocatedFromPool]; p != "single" {
		t.Errorf("annotation %s = %q, want single", assign.AnnotationAllocatedFromPool, p)
	}
	if c := condition(s); c.Status != "True" || !strings.Contains(c.Message, "192.0.2.200") {
		t.Errorf("condition %+v", c)
	}
	// Settled: the controller must not keep rewriting the Service.
	rv := s.ResourceVersion
	time.Sleep(time.Second)
	if got := e.get("a"); got.ResourceVersion != rv {
		t.Errorf("Service rewritten although nothing changed: %+v", got.Status)
	}
	e.eventually("IPAllocated event", func() (bool, string) {
		evs := e.events("a")
		for _, ev := range evs {
			if ev == `Normal IPAllocated: Assigned IP ["192.0.2.200"]` {
				return true, ""
			}
		}
		return false, strings.Join(evs, "; ")
	})

	e.service("b")
	s = e.waitIPs("b", "", "PoolExhausted")
	if c := condition(s); c.Status != "False" || !strings.Contains(c.Message, "single") {
		t.Errorf("pending condition should name the exhausted pool: %+v", c)
	}
	e.eventually("AllocationFailed event", func() (bool, string) {
		evs := e.events("b")
		return strings.Contains(strings.Join(evs, "\n"), "Warning AllocationFailed: Failed to allocate IP for"), strings.Join(evs, "; ")
	})

	// Deleting a gives b its chance.
	if err := e.c.Delete(context.Background(), e.get("a")); err != nil {
		t.Fatal(err)
	}
	e.waitIPs("b", "192.0.2.200", assign.ReasonAssigned)

	// Turning b into a ClusterIP Service clears everything we wrote.
	b := e.get("b")
	b.Spec.Type = corev1.ServiceTypeClusterIP
	b.Spec.AllocateLoadBalancerNodePorts = nil
	if err := e.c.Update(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	e.eventually("b cleared", func() (bool, string) {
		s := e.get("b")
		_, has := s.Annotations[assign.AnnotationAllocatedFromPool]
		return len(s.Status.LoadBalancer.Ingress) == 0 && !has && condition(s) == nil, s.Status.String()
	})
}

func TestDualStackAndSharing(t *testing.T) {
	e := newEnv(t)
	e.pool("dual", nil, "192.0.2.16/30", "2001:db8:1::/126")
	e.pool("huge", func(p *v1beta1.IPAddressPool) { p.Spec.AutoAssign = ptr.To(false) }, "2001:db8:2::/64")
	e.start()
	e.eventually("a /64 saturates instead of overflowing", func() (bool, string) {
		var p v1beta1.IPAddressPool
		if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "huge"}, &p); err != nil {
			return false, err.Error()
		}
		return p.Status.AvailableIPv6 == math.MaxInt64 && p.Status.AvailableIPv6Exact == "18446744073709551616",
			fmt.Sprintf("%+v", p.Status)
	})
	e.service("d", dualStack)
	e.waitIPs("d", "192.0.2.16,2001:db8:1::", assign.ReasonAssigned)

	e.service("tcp", annotate(assign.AnnotationAllowSharedIP, "k"))
	e.waitIPs("tcp", "192.0.2.17", assign.ReasonAssigned)
	e.service("udp", annotate(assign.DeprecatedAnnotationAllowSharedIP, "k"), func(s *corev1.Service) {
		s.Spec.Ports[0].Protocol = corev1.ProtocolUDP
	})
	e.waitIPs("udp", "192.0.2.17", assign.ReasonAssigned)
	e.eventually("pool status counts", func() (bool, string) {
		var p v1beta1.IPAddressPool
		if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "dual"}, &p); err != nil {
			return false, err.Error()
		}
		want := v1beta1.IPAddressPoolStatus{AssignedIPv4: 2, AssignedIPv6: 1, AvailableIPv4: 2, AvailableIPv6: 3, AvailableIPv6Exact: "3"}
		return p.Status == want, fmt.Sprintf("%+v", p.Status)
	})
	e.eventually("deprecatedAnnotation warning", func() (bool, string) {
		evs := strings.Join(e.events("udp"), "\n")
		return strings.Contains(evs, "Warning deprecatedAnnotation: Service uses deprecated annotation metallb.universe.tf/allow-shared-ip"), evs
	})
}

func TestRequestsAndExplanations(t *testing.T) {
	e := newEnv(t)
	e.pool("auto", nil, "192.0.2.32/30")
	e.pool("manual", func(p *v1beta1.IPAddressPool) { p.Spec.AutoAssign = ptr.To(false) }, "198.51.100.32/30")
	e.start()

	e.service("by-pool", annotate(assign.AnnotationAddressPool, "manual"))
	e.waitIPs("by-pool", "198.51.100.32", assign.ReasonAssigned)
	e.service("by-ip", annotate(assign.AnnotationLoadBalancerIPs, "198.51.100.34"))
	e.waitIPs("by-ip", "198.51.100.34", assign.ReasonAssigned)
	e.service("auto")
	e.waitIPs("auto", "192.0.2.32", assign.ReasonAssigned)

	s := e.service("outside", annotate(assign.AnnotationLoadBalancerIPs, "203.0.113.77"))
	s = e.waitIPs("outside", "", "IPNotInAnyPool")
	if c := condition(s); !strings.Contains(c.Message, "203.0.113.77") {
		t.Errorf("condition should name the address: %+v", c)
	}
	e.service("taken", annotate(assign.AnnotationLoadBalancerIPs, "198.51.100.34"))
	s = e.waitIPs("taken", "", "IPInUse")
	if c := condition(s); !strings.Contains(c.Message, e.svcNS+"/by-ip") {
		t.Errorf("condition should name the holder: %+v", c)
	}
	e.service("garbage", annotate(assign.AnnotationLoadBalancerIPs, "not-an-ip"))
	e.waitIPs("garbage", "", assign.ReasonInvalidRequest)
	e.eventually("LoadBalancerFailed event", func() (bool, string) {
		evs := strings.Join(e.events("garbage"), "\n")
		return strings.Contains(evs, "Warning LoadBalancerFailed"), evs
	})

	// A malformed edit of a Service that holds an address keeps it.
	a := e.get("auto")
	a.Annotations = map[string]string{assign.AnnotationLoadBalancerIPs: "192.0.2.x"}
	if err := e.c.Update(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	e.waitIPs("auto", "192.0.2.32", assign.ReasonInvalidRequest)
}

func TestLoadBalancerClass(t *testing.T) {
	e := newEnv(t)
	e.pool("cls", nil, "192.0.2.48/30")
	e.start(func(o *Options) { o.LBClass = "example.com/ferrolb" })
	e.service("mine", func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptr.To("example.com/ferrolb") })
	e.service("classless")
	e.waitIPs("mine", "192.0.2.48", assign.ReasonAssigned)
	// The class-less one is someone else's: never touched.
	s := e.get("classless")
	if len(s.Status.LoadBalancer.Ingress) != 0 || condition(s) != nil {
		t.Errorf("class-less Service touched: %+v", s.Status)
	}
}

func TestRestartRelearnsBeforeAllocating(t *testing.T) {
	e := newEnv(t)
	e.pool("relearn", nil, "192.0.2.64/30")
	e.start()
	e.service("first")
	e.waitIPs("first", "192.0.2.64", assign.ReasonAssigned)
	e.service("second")
	e.waitIPs("second", "192.0.2.65", assign.ReasonAssigned)
	e.stop()

	// While the controller is down: first is deleted, a newcomer arrives.
	if err := e.c.Delete(context.Background(), e.get("first")); err != nil {
		t.Fatal(err)
	}
	e.service("newcomer")
	e.start()
	// The newcomer must not take second's address, whatever order the
	// restarted controller sees the Services in.
	e.waitIPs("newcomer", "192.0.2.64", assign.ReasonAssigned)
	e.waitIPs("second", "192.0.2.65", assign.ReasonAssigned)
}

func TestPoolChanges(t *testing.T) {
	e := newEnv(t)
	e.pool("shrink", nil, "192.0.2.80/29")
	e.pool("spare", nil, "198.51.100.80/30")
	e.start()
	// One at a time: parallel workers would take simultaneous Services in
	// any order.
	for i, n := range []string{"s0", "s1", "s2"} {
		e.service(n)
		e.waitIPs(n, fmt.Sprintf("192.0.2.%d", 80+i), assign.ReasonAssigned)
	}
	s1 := e.get("s1")
	s1rv := s1.ResourceVersion

	// Shrink the pool so that only s1's address stays in it.
	var p v1beta1.IPAddressPool
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "shrink"}, &p); err != nil {
		t.Fatal(err)
	}
	p.Spec.Addresses = []string{"192.0.2.81/32"}
	if err := e.c.Update(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	// s0 and s2 move to the spare pool (in whichever order the workers
	// take them); s1 stays untouched.
	e.eventually("s0 and s2 moved to spare", func() (bool, string) {
		got := map[string]bool{}
		for _, n := range []string{"s0", "s2"} {
			for _, ip := range cluster.IngressIPs(e.get(n)) {
				got[ip] = true
			}
		}
		return got["198.51.100.80"] && got["198.51.100.81"] && len(got) == 2, fmt.Sprint(got)
	})
	if got := e.get("s1"); got.ResourceVersion != s1rv {
		t.Errorf("s1 was rewritten although its address stayed valid: %+v", got.Status)
	}

	// Deleting the spare pool leaves s0 and s2 without a home.
	if err := e.c.Delete(context.Background(), &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spare"}}); err != nil {
		t.Fatal(err)
	}
	e.waitIPs("s0", "", "PoolExhausted")
	e.waitIPs("s1", "192.0.2.81", assign.ReasonAssigned)

	// Deleting every pool removes every address and says so.
	if err := e.c.DeleteAllOf(context.Background(), &v1beta1.IPAddressPool{}, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	e.waitIPs("s1", "", assign.ReasonNoPoolsConfigured)
}

func TestBadPoolNeverTakesAddresses(t *testing.T) {
	e := newEnv(t)
	e.pool("good", nil, "192.0.2.96/30")
	e.start()
	e.service("holder")
	e.waitIPs("holder", "192.0.2.96", assign.ReasonAssigned)
	e.waitConfigState(v1beta1.ConfigurationValid, "")

	// A second pool overlapping the first is invalid across objects (the
	// schema cannot see it): it must not disturb the good pool.
	e.pool("overlap", nil, "192.0.2.96/29")
	e.service("next")
	e.waitIPs("next", "192.0.2.97", assign.ReasonAssigned)
	// The cross-object error is reported where an operator looks, even
	// when no admission webhook stopped the object.
	e.waitConfigState(v1beta1.ConfigurationInvalid, "overlap")

	// A bad edit of the good pool keeps its last valid version.
	var p v1beta1.IPAddressPool
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "good"}, &p); err != nil {
		t.Fatal(err)
	}
	p.Spec.Addresses = []string{"192.0.2.96/29", "not-a-cidr"}
	if err := e.c.Update(context.Background(), &p); err != nil {
		t.Fatal(err) // the schema cannot parse CIDRs; the compiler must
	}
	e.eventually("InvalidConfiguration event on the pool", func() (bool, string) {
		var list corev1.EventList
		_ = e.c.List(context.Background(), &list, client.InNamespace(ns))
		var seen []string
		for _, ev := range list.Items {
			if ev.InvolvedObject.Kind == "IPAddressPool" && ev.InvolvedObject.Name == "good" &&
				ev.Reason == "InvalidConfiguration" && strings.Contains(ev.Message, "not-a-cidr") {
				return true, ""
			}
			seen = append(seen, ev.Reason+": "+ev.Message)
		}
		return false, strings.Join(seen, ",")
	})
	e.service("third")
	e.waitIPs("third", "192.0.2.98", assign.ReasonAssigned)
	e.waitIPs("holder", "192.0.2.96", assign.ReasonAssigned)
}

func TestNamespaceSelectors(t *testing.T) {
	e := newEnv(t)
	e.pool("general", nil, "192.0.2.112/30")
	e.pool("team", func(p *v1beta1.IPAddressPool) {
		p.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{
			Priority:           1,
			NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"team": "blue"}}},
		}
	}, "198.51.100.112/30")
	e.start()
	blue := e.namespace(map[string]string{"team": "blue"})
	e.serviceIn(blue, "b")
	e.service("other")
	e.waitIPs("other", "192.0.2.112", assign.ReasonAssigned)
	e.eventually("blue Service gets the team pool", func() (bool, string) {
		var s corev1.Service
		_ = e.c.Get(context.Background(), types.NamespacedName{Namespace: blue, Name: "b"}, &s)
		ips := strings.Join(cluster.IngressIPs(&s), ",")
		return ips == "198.51.100.112", ips
	})
}

// waitConfigState waits until the controller's ConfigurationState has the
// result and an error summary containing want.
func (e *env) waitConfigState(result v1beta1.ConfigurationResult, want string) {
	e.t.Helper()
	e.eventually("ConfigurationState controller "+string(result), func() (bool, string) {
		var st v1beta1.ConfigurationState
		if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "controller"}, &st); err != nil {
			return false, err.Error()
		}
		ok := st.Status.Result == result && strings.Contains(st.Status.ErrorSummary, want) &&
			st.Labels["metallb.io/component-type"] == "controller" && len(st.Status.Conditions) == 1 &&
			st.Status.Conditions[0].Type == "poolReconcilerValid"
		return ok, fmt.Sprintf("%+v %v", st.Status, st.Labels)
	})
}

package assign

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

func pool(name string, cidrs ...string) *model.Pool {
	p := &model.Pool{Name: name, AutoAssign: true}
	for _, c := range cidrs {
		p.CIDRs = append(p.CIDRs, netip.MustParsePrefix(c))
	}
	return p
}

func svc(name string, mods ...func(*Service)) *Service {
	s := &Service{
		Namespace: "default", Name: name, Type: "LoadBalancer",
		ClusterIPs: []string{"198.18.0.10"},
		Ports:      []model.Port{{Protocol: "TCP", Port: 80}},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func ann(k, v string) func(*Service) {
	return func(s *Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func ingress(ips ...string) func(*Service) { return func(s *Service) { s.Ingress = ips } }

func dual(policy string) func(*Service) {
	return func(s *Service) {
		s.ClusterIPs = []string{"198.18.0.10", "2001:db8:ffff::10"}
		s.IPFamilyPolicy = policy
	}
}

func port(p int32) func(*Service) {
	return func(s *Service) { s.Ports = []model.Port{{Protocol: "TCP", Port: p}} }
}

func ipsOf(out Outcome) string {
	parts := make([]string, len(out.IPs))
	for i, ip := range out.IPs {
		parts[i] = ip.String()
	}
	return strings.Join(parts, ",")
}

func reasons(out Outcome) []string {
	var r []string
	for _, e := range out.Events {
		r = append(r, e.Reason)
	}
	return r
}

// step is one line of a script: converge a Service and check the result.
type step struct {
	desc       string
	svc        *Service
	forget     string        // instead of converging, forget this key
	setPools   []*model.Pool // instead of converging, replace the pools
	wantIPs    string        // comma-separated
	wantPool   string
	wantReason string // condition reason ("" = no condition expected)
	wantStatus bool
	wantEvents []string
	wantMsg    string // substring of the condition message
	released   bool
}

func run(t *testing.T, e *Engine, steps []step) {
	t.Helper()
	for i, st := range steps {
		switch {
		case st.forget != "":
			if got := e.Forget(st.forget); got != st.released {
				t.Fatalf("step %d (%s): Forget = %v, want %v", i, st.desc, got, st.released)
			}
			continue
		case st.setPools != nil:
			e.SetPools(st.setPools)
			continue
		}
		out := e.Converge(st.svc)
		if out.Ignore {
			t.Fatalf("step %d (%s): ignored", i, st.desc)
		}
		if got := ipsOf(out); got != st.wantIPs {
			t.Errorf("step %d (%s): IPs %q, want %q (condition %+v)", i, st.desc, got, st.wantIPs, out.Condition)
		}
		if out.Pool != st.wantPool {
			t.Errorf("step %d (%s): pool %q, want %q", i, st.desc, out.Pool, st.wantPool)
		}
		switch {
		case st.wantReason == "" && out.Condition != nil:
			t.Errorf("step %d (%s): unexpected condition %+v", i, st.desc, out.Condition)
		case st.wantReason != "" && out.Condition == nil:
			t.Errorf("step %d (%s): no condition, want %s", i, st.desc, st.wantReason)
		case out.Condition != nil:
			if out.Condition.Reason != st.wantReason || out.Condition.Status != st.wantStatus {
				t.Errorf("step %d (%s): condition %+v, want reason %s status %v", i, st.desc, out.Condition, st.wantReason, st.wantStatus)
			}
			if !strings.Contains(out.Condition.Message, st.wantMsg) {
				t.Errorf("step %d (%s): message %q lacks %q", i, st.desc, out.Condition.Message, st.wantMsg)
			}
		}
		if diff := cmp.Diff(st.wantEvents, reasons(out)); diff != "" {
			t.Errorf("step %d (%s): events (-want +got):\n%s", i, st.desc, diff)
		}
		if out.Released != st.released {
			t.Errorf("step %d (%s): released %v, want %v", i, st.desc, out.Released, st.released)
		}
	}
}

func loaded(pools ...*model.Pool) *Engine {
	e := NewEngine("")
	e.Load(pools, nil)
	return e
}

func TestIgnoredUntilLoadedAndForOtherClasses(t *testing.T) {
	e := NewEngine("")
	if out := e.Converge(svc("a")); !out.Ignore {
		t.Fatalf("converged before any configuration: %+v", out)
	}
	e.Load(nil, nil)
	class := "other"
	if out := e.Converge(svc("a", func(s *Service) { s.LoadBalancerClass = &class })); !out.Ignore {
		t.Errorf("handled a Service of another class")
	}
	e2 := NewEngine("other")
	e2.Load([]*model.Pool{pool("p", "192.0.2.0/30")}, nil)
	if out := e2.Converge(svc("a")); !out.Ignore {
		t.Errorf("--lb-class=other handled a class-less Service")
	}
	if out := e2.Converge(svc("a", func(s *Service) { s.LoadBalancerClass = &class })); out.Ignore || ipsOf(out) != "192.0.2.0" {
		t.Errorf("--lb-class=other: got %+v", out)
	}
}

func TestScriptBasics(t *testing.T) {
	e := loaded(pool("p", "192.0.2.0/30"))
	run(t, e, []step{
		{desc: "s1 takes the first address", svc: svc("s1"), wantIPs: "192.0.2.0", wantPool: "p",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "s1 again, cache still shows no status: same address, no event",
			svc: svc("s1"), wantIPs: "192.0.2.0", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true},
		{desc: "s2 cannot have s1's address", svc: svc("s2", ann(AnnotationLoadBalancerIPs, "192.0.2.0")),
			wantReason: "IPInUse", wantMsg: "default/s1", wantEvents: []string{EventAllocationFailed}},
		{desc: "s2 asks for a free address", svc: svc("s2", ann(AnnotationLoadBalancerIPs, "192.0.2.2")),
			wantIPs: "192.0.2.2", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "s3 takes the lowest free", svc: svc("s3"), wantIPs: "192.0.2.1", wantPool: "p",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "s4 shares s3's address? no key, so it takes the last one", svc: svc("s4"), wantIPs: "192.0.2.3", wantPool: "p",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "s5: pool exhausted", svc: svc("s5"), wantReason: "PoolExhausted", wantEvents: []string{EventAllocationFailed}},
		{desc: "s1 stops being a LoadBalancer: released", svc: svc("s1", func(s *Service) { s.Type = "ClusterIP" }), released: true},
		{desc: "s5 now gets s1's address", svc: svc("s5"), wantIPs: "192.0.2.0", wantPool: "p",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "s3 deleted", forget: "default/s3", released: true},
		{desc: "forgetting twice releases nothing", forget: "default/s3", released: false},
	})
	if got := e.Pending(); len(got) != 0 {
		t.Errorf("pending = %v, want none", got)
	}
}

func TestPendingServicesGetReleasedAddresses(t *testing.T) {
	e := loaded(pool("p", "192.0.2.7/32"))
	run(t, e, []step{
		{desc: "a takes the only address", svc: svc("a"), wantIPs: "192.0.2.7", wantPool: "p",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "b waits", svc: svc("b"), wantReason: "PoolExhausted", wantEvents: []string{EventAllocationFailed}},
	})
	if diff := cmp.Diff([]string{"default/b"}, e.Pending()); diff != "" {
		t.Fatalf("pending (-want +got):\n%s", diff)
	}
	run(t, e, []step{
		{desc: "a deleted", forget: "default/a", released: true},
		{desc: "b gets it", svc: svc("b"), wantIPs: "192.0.2.7", wantPool: "p",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
	})
	if got := e.Pending(); len(got) != 0 {
		t.Errorf("pending = %v, want none", got)
	}
}

func TestSharing(t *testing.T) {
	e := loaded(pool("p", "192.0.2.0/31"))
	run(t, e, []step{
		{desc: "dns-tcp", svc: svc("dns-tcp", ann(AnnotationAllowSharedIP, "dns"), port(53)), wantIPs: "192.0.2.0",
			wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "dns-udp shares (old annotation key)", svc: svc("dns-udp", ann(DeprecatedAnnotationAllowSharedIP, "dns"),
			func(s *Service) { s.Ports = []model.Port{{Protocol: "UDP", Port: 53}} }),
			wantIPs: "192.0.2.0", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "same key, same port: not on that address", svc: svc("dns-tcp2", ann(AnnotationAllowSharedIP, "dns"), port(53)),
			wantIPs: "192.0.2.1", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "explicit request of a shared address with a port conflict",
			svc:        svc("x", ann(AnnotationAllowSharedIP, "dns"), ann(AnnotationLoadBalancerIPs, "192.0.2.0"), port(53)),
			wantReason: "PortConflict", wantEvents: []string{EventAllocationFailed}},
	})
}

func TestRelearnBeforeAllocating(t *testing.T) {
	e := NewEngine("")
	existing := []*Service{
		svc("old", ingress("192.0.2.0")),
		svc("other-class", ingress("192.0.2.1"), func(s *Service) { c := "x"; s.LoadBalancerClass = &c }),
	}
	e.Load([]*model.Pool{pool("p", "192.0.2.0/30")}, existing)
	run(t, e, []step{
		{desc: "a new Service does not get the address old holds", svc: svc("new"), wantIPs: "192.0.2.1",
			wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "old keeps its address without a new event", svc: svc("old", ingress("192.0.2.0")), wantIPs: "192.0.2.0",
			wantPool: "p", wantReason: ReasonAssigned, wantStatus: true},
	})
}

func TestPoolChangesMoveOnlyWhatMust(t *testing.T) {
	e := loaded(pool("p", "192.0.2.0/30"), pool("q", "198.51.100.0/30"))
	run(t, e, []step{
		{desc: "a", svc: svc("a"), wantIPs: "192.0.2.0", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "b", svc: svc("b"), wantIPs: "192.0.2.1", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "p shrinks to .1/32", setPools: []*model.Pool{pool("p", "192.0.2.1/32"), pool("q", "198.51.100.0/30")}},
		{desc: "b stays", svc: svc("b", ingress("192.0.2.1")), wantIPs: "192.0.2.1", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true},
		{desc: "a moves to q", svc: svc("a", ingress("192.0.2.0")), wantIPs: "198.51.100.0", wantPool: "q",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventClearAssignment, EventIPAllocated}, released: true},
		{desc: "b asks for pool q (old annotation key): moves without complaint", svc: svc("b", ingress("192.0.2.1"), ann(DeprecatedAnnotationAddressPool, "q")),
			wantIPs: "198.51.100.1", wantPool: "q", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}, released: true},
		{desc: "all pools removed", setPools: []*model.Pool{}},
		{desc: "a loses its address", svc: svc("a", ingress("198.51.100.0")), wantReason: ReasonNoPoolsConfigured, released: true},
	})
}

func TestBadInputKeepsAddresses(t *testing.T) {
	e := loaded(pool("p", "192.0.2.0/30"))
	run(t, e, []step{
		{desc: "a", svc: svc("a"), wantIPs: "192.0.2.0", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "malformed annotation: a keeps its address", svc: svc("a", ingress("192.0.2.0"), ann(AnnotationLoadBalancerIPs, "192.0.2.x")),
			wantIPs: "192.0.2.0", wantPool: "p", wantReason: ReasonInvalidRequest, wantMsg: "not an IP address", wantEvents: []string{EventLoadBalancerFailed}},
		{desc: "both annotation and spec.loadBalancerIP", svc: svc("b", ann(AnnotationLoadBalancerIPs, "192.0.2.1"), func(s *Service) { s.LoadBalancerIP = "192.0.2.1" }),
			wantReason: ReasonInvalidRequest, wantMsg: "can not have both", wantEvents: []string{EventLoadBalancerFailed}},
		{desc: "three IPs", svc: svc("c", ann(AnnotationLoadBalancerIPs, "192.0.2.1,192.0.2.2,192.0.2.3")),
			wantReason: ReasonInvalidRequest, wantMsg: "at most 2", wantEvents: []string{EventLoadBalancerFailed}},
		{desc: "unknown pool", svc: svc("d", ann(AnnotationAddressPool, "nope")),
			wantReason: "UnknownPool", wantMsg: "nope", wantEvents: []string{EventAllocationFailed}},
		{desc: "spec.loadBalancerIP honoured", svc: svc("e", func(s *Service) { s.LoadBalancerIP = "192.0.2.3" }),
			wantIPs: "192.0.2.3", wantPool: "p", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "no cluster IP", svc: svc("f", func(s *Service) { s.ClusterIPs = nil }), wantReason: ReasonNoClusterIP},
		{desc: "requested IP of the wrong family", svc: svc("g", ann(AnnotationLoadBalancerIPs, "2001:db8::1")),
			wantReason: ReasonInvalidRequest, wantMsg: "IP families", wantEvents: []string{EventAllocationFailed}},
	})
}

func TestDualStack(t *testing.T) {
	e := loaded(pool("v4only", "192.0.2.0/30"))
	run(t, e, []step{
		{desc: "RequireDualStack with one cluster IP", svc: svc("r1", func(s *Service) { s.IPFamilyPolicy = "RequireDualStack" }),
			wantReason: ReasonNotEnoughClusterIPs, wantEvents: []string{EventNotEnoughClusterIPs}},
		{desc: "RequireDualStack, no v6 anywhere", svc: svc("r2", dual("RequireDualStack")),
			wantReason: "DualStackNotPossible", wantMsg: "both IPv4 and IPv6", wantEvents: []string{EventAllocationFailed}},
		{desc: "PreferDualStack gets v4 only", svc: svc("p1", dual("PreferDualStack")), wantIPs: "192.0.2.0", wantPool: "v4only",
			wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "the pool gains IPv6", setPools: []*model.Pool{pool("v4only", "192.0.2.0/30", "2001:db8::/126")}},
		{desc: "PreferDualStack completes from the same pool", svc: svc("p1", dual("PreferDualStack"), ingress("192.0.2.0")),
			wantIPs: "192.0.2.0,2001:db8::", wantPool: "v4only", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
		{desc: "RequireDualStack now works, IPv4 first", svc: svc("r2", dual("RequireDualStack")), wantIPs: "192.0.2.1,2001:db8::1",
			wantPool: "v4only", wantReason: ReasonAssigned, wantStatus: true, wantEvents: []string{EventIPAllocated}},
	})
}

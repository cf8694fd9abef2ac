package speaker

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/l2/announcer"
)

func allIfaces(ips ...netip.Addr) map[string]announcer.Spec {
	out := map[string]announcer.Spec{}
	for _, ip := range ips {
		out[ip.String()] = announcer.Spec{AllInterfaces: true}
	}
	return out
}

func checkDesired(t *testing.T, s *speaker, want map[string]announcer.Spec) {
	t.Helper()
	if d := cmp.Diff(want, specs(s.desired())); d != "" {
		t.Errorf("%s: SetDesired (-want +got):\n%s", s.name, d)
	}
}

func TestOnlyTheElectedNodeAnnounces(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ipA := e.ipOwnedBy(e.nodeA, live...)
	ipB := e.ipOwnedBy(e.nodeB, live...)
	// Endpoints on the other node: with the Cluster policy they do not
	// matter for the election.
	e.service("web", ips(ipA))
	e.endpoints("web", endpoint{e.nodeB, true})
	e.service("api", ips(ipB))
	e.endpoints("api", endpoint{e.nodeA, true})

	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	a.reconcile()
	b.reconcile()
	checkDesired(t, a, allIfaces(ipA))
	checkDesired(t, b, allIfaces(ipB))
	if a.everDesired(ipB) || b.everDesired(ipA) {
		t.Errorf("a node announced an IP it does not own")
	}
}

func TestL2StatusFollowsAnnouncement(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ip := e.ipOwnedBy(e.nodeA, live...)
	e.service("web", ips(ip))
	e.endpoints("web", endpoint{e.nodeA, true})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	both := func() {
		a.reconcile()
		b.reconcile()
	}

	t.Log("all interfaces: the object has no interfaces")
	both()
	e.waitL2("web", e.l2For(e.nodeA, "web"))

	t.Log("the advertisement names interfaces: they are listed")
	e.updateAd("l2", func(s *v1beta1.L2AdvertisementSpec) { s.Interfaces = []string{"eth1", "eth0"} })
	both()
	checkDesired(t, a, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0", "eth1"}}})
	e.waitL2("web", e.l2For(e.nodeA, "web", "eth0", "eth1"))

	t.Log("back to all interfaces: the list is cleared")
	e.updateAd("l2", func(s *v1beta1.L2AdvertisementSpec) { s.Interfaces = nil })
	both()
	e.waitL2("web", e.l2For(e.nodeA, "web"))

	t.Log("no ready endpoint: the owner withdraws and deletes its object")
	e.endpoints("web", endpoint{e.nodeA, false})
	both()
	checkDesired(t, a, map[string]announcer.Spec{})
	e.waitL2("web")

	t.Log("ready again")
	e.endpoints("web", endpoint{e.nodeA, true})
	both()
	e.waitL2("web", e.l2For(e.nodeA, "web"))

	t.Log("the Service is deleted")
	e.deleteService("web")
	both()
	checkDesired(t, a, map[string]announcer.Spec{})
	e.waitL2("web")
}

func TestL2StatusMovesWithOwnership(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ip := e.ipOwnedBy(e.nodeA, live...)
	e.service("web", ips(ip))
	e.endpoints("web", endpoint{e.nodeA, true}, endpoint{e.nodeB, true})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	a.reconcile()
	b.reconcile()
	e.waitL2("web", e.l2For(e.nodeA, "web"))

	t.Log("A dies: B takes over and removes A's stale object")
	a.stop()
	b.members.setLive(e.nodeB)
	b.reconcile()
	checkDesired(t, b, allIfaces(ip))
	e.waitL2("web", e.l2For(e.nodeB, "web"))

	t.Log("A comes back (a new speaker process): it owns the IP again")
	a2 := e.speaker(e.nodeA, live)
	b.members.setLive(live...)
	a2.reconcile()
	b.reconcile()
	checkDesired(t, a2, allIfaces(ip))
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("web", e.l2For(e.nodeA, "web"))
}

// Two IPs of one Service elected to different nodes: each node keeps its
// own object and neither deletes the other's.
func TestL2StatusOfServiceWithTwoOwners(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ipA := e.ipOwnedBy(e.nodeA, live...)
	ipB := e.ipOwnedBy(e.nodeB, live...)
	e.service("two", ips(ipA, ipB))
	e.endpoints("two", endpoint{e.nodeA, true})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	for range 5 {
		a.reconcile()
		b.reconcile()
	}
	checkDesired(t, a, allIfaces(ipA))
	checkDesired(t, b, allIfaces(ipB))
	e.waitL2("two", e.l2For(e.nodeA, "two"), e.l2For(e.nodeB, "two"))
	for range 5 {
		a.reconcile()
		b.reconcile()
	}
	time.Sleep(500 * time.Millisecond) // let both writers act on the last Set
	if d := cmp.Diff([]l2{e.l2For(e.nodeA, "two"), e.l2For(e.nodeB, "two")}, e.l2Statuses("two")); d != "" {
		t.Errorf("objects after more reconciles (-want +got):\n%s", d)
	}
}

// Many reconciles in a burst, each handing the writer the same state, must
// create one object, also while the writer's cache does not show it yet.
func TestL2StatusNoDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(e *env) client.Client
	}{
		{"informer cache", func(e *env) client.Client { return e.cached }},
		{"cache 500ms behind", func(e *env) client.Client { return &laggyClient{Client: e.c, lag: 500 * time.Millisecond} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.pool("p")
			e.ad("l2", "p", nil)
			live := []string{e.nodeA}
			ip := e.ipOwnedBy(e.nodeA, live...)
			e.service("web", ips(ip))
			e.endpoints("web", endpoint{e.nodeA, true})

			w, err := e.c.Watch(e.ctx, &v1beta1.ServiceL2StatusList{}, client.InNamespace(ns),
				client.MatchingLabels{LabelServiceName: "web", LabelServiceNamespace: e.svcNS})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()

			a := e.speakerWithClient(e.nodeA, live, tc.client(e))
			end := time.Now().Add(1500 * time.Millisecond)
			n := 0
			for time.Now().Before(end) {
				a.reconcile()
				n++
				time.Sleep(5 * time.Millisecond)
			}
			e.waitL2("web", e.l2For(e.nodeA, "web"))
			time.Sleep(time.Second) // anything still in flight lands

			created := 0
		drain:
			for {
				select {
				case ev := <-w.ResultChan():
					if ev.Type == "ADDED" {
						created++
					}
				default:
					break drain
				}
			}
			if created != 1 {
				t.Errorf("%d reconciles created %d ServiceL2Status objects, want 1", n, created)
			}
			if d := cmp.Diff([]l2{e.l2For(e.nodeA, "web")}, e.l2Statuses("web")); d != "" {
				t.Errorf("objects (-want +got):\n%s", d)
			}
		})
	}
}

// A Service withdrawn and announced again before the writer's cache saw
// the deletion of its object must get its object back promptly.
func TestL2StatusRecreatedAfterQuickWithdrawal(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA}
	ip := e.ipOwnedBy(e.nodeA, live...)
	e.service("web", ips(ip))
	e.endpoints("web", endpoint{e.nodeA, true})
	a := e.speakerWithClient(e.nodeA, live, &laggyClient{Client: e.c, lag: 2 * time.Second})
	a.reconcile()
	e.waitL2("web", e.l2For(e.nodeA, "web"))

	e.endpoints("web", endpoint{e.nodeA, false})
	a.reconcile()
	e.waitL2("web")
	e.endpoints("web", endpoint{e.nodeA, true})
	a.reconcile()
	checkDesired(t, a, allIfaces(ip))
	e.waitL2("web", e.l2For(e.nodeA, "web"))
}

func TestEvents(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ipWeb := e.ipOwnedBy(e.nodeA, live...)
	ipBad := e.ipOwnedBy(e.nodeA, live...)
	e.service("web", ips(ipWeb))
	e.endpoints("web", endpoint{e.nodeA, true})
	e.service("bad", ips(ipBad))
	e.endpoints("bad", endpoint{e.nodeA, true})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	a.ann.setFail(ipBad, true)
	web, bad := e.svcNS+"/web", e.svcNS+"/bad"

	for range 5 {
		a.reconcile()
		b.reconcile()
	}
	checkDesired(t, a, allIfaces(ipWeb, ipBad))
	want := []string{"Normal nodeAssigned " + web, "Warning announceFailed " + bad}
	if d := cmp.Diff(want, a.events.reasons()); d != "" {
		t.Errorf("events of A after 5 reconciles (-want +got):\n%s", d)
	}
	if got := b.events.all(); len(got) != 0 {
		t.Errorf("B, which owns nothing, sent events: %q", got)
	}
	for _, ev := range a.events.all() {
		if strings.Contains(ev, "announceFailed") && (!strings.Contains(ev, ipBad.String()) || !strings.Contains(ev, e.nodeA)) {
			t.Errorf("announceFailed event does not name the IP and node: %q", ev)
		}
	}
	// The failed IP is not reported as announced.
	if d := cmp.Diff([]string{series(web, e.nodeA, ipWeb)}, a.announced()); d != "" {
		t.Errorf("announced series (-want +got):\n%s", d)
	}
	e.waitL2("web", e.l2For(e.nodeA, "web"))
	e.waitL2("bad")

	t.Log("the announcer recovers")
	a.ann.setFail(ipBad, false)
	a.reconcile()
	a.reconcile()
	want = append(want, "Normal nodeAssigned "+bad)
	if d := cmp.Diff(want, a.events.reasons()); d != "" {
		t.Errorf("events after recovery (-want +got):\n%s", d)
	}
	e.waitL2("bad", e.l2For(e.nodeA, "bad"))

	t.Log("it fails again: a new warning, the object goes")
	a.ann.setFail(ipBad, true)
	a.reconcile()
	a.reconcile()
	want = append(want, "Warning announceFailed "+bad)
	if d := cmp.Diff(want, a.events.reasons()); d != "" {
		t.Errorf("events after a second failure (-want +got):\n%s", d)
	}
	e.waitL2("bad")
	if d := cmp.Diff([]string{series(web, e.nodeA, ipWeb)}, a.announced()); d != "" {
		t.Errorf("announced series (-want +got):\n%s", d)
	}

	t.Log("web withdrawn, then announced again: nodeAssigned once more")
	e.endpoints("web", endpoint{e.nodeA, false})
	a.reconcile()
	e.endpoints("web", endpoint{e.nodeA, true})
	a.reconcile()
	a.reconcile()
	want = append(want, "Normal nodeAssigned "+web)
	if d := cmp.Diff(want, a.events.reasons()); d != "" {
		t.Errorf("events after re-announcing (-want +got):\n%s", d)
	}
}

func TestAnnouncedMetric(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ipWeb := e.ipOwnedBy(e.nodeA, live...)
	ipAPI := e.ipOwnedBy(e.nodeB, live...)
	e.service("web", ips(ipWeb))
	e.endpoints("web", endpoint{e.nodeA, true})
	e.service("api", ips(ipAPI))
	e.endpoints("api", endpoint{e.nodeA, true})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	web, api := e.svcNS+"/web", e.svcNS+"/api"
	check := func(s *speaker, want ...string) {
		t.Helper()
		if d := cmp.Diff(want, s.announced()); d != "" {
			t.Errorf("metallb_speaker_announced of %s (-want +got):\n%s", s.name, d)
		}
	}

	a.reconcile()
	b.reconcile()
	check(a, series(web, e.nodeA, ipWeb))
	check(b, series(api, e.nodeB, ipAPI))

	e.deleteService("web")
	a.reconcile()
	check(a)

	e.endpoints("api", endpoint{e.nodeA, false})
	b.reconcile()
	check(b)
}

func TestHoldDownAndIsolation(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ipWeb := e.ipOwnedBy(e.nodeA, live...)
	ipAPI := e.ipOwnedBy(e.nodeA, live...)
	e.service("web", ips(ipWeb))
	e.endpoints("web", endpoint{e.nodeA, true})
	a := e.speaker(e.nodeA, live, func(r *Reconciler) { r.HoldDown = 2 * time.Second })
	web, api := e.svcNS+"/web", e.svcNS+"/api"
	step := func(what string, wantRequeue time.Duration, want map[string]announcer.Spec) {
		t.Helper()
		res := a.reconcile()
		if res.RequeueAfter != wantRequeue {
			t.Errorf("%s: RequeueAfter = %v, want %v", what, res.RequeueAfter, wantRequeue)
		}
		if d := cmp.Diff(want, specs(a.desired())); d != "" {
			t.Errorf("%s: SetDesired (-want +got):\n%s", what, d)
		}
	}
	none := map[string]announcer.Spec{}

	step("start", 2*time.Second, none)
	a.clock.advance(500 * time.Millisecond)
	step("0.5s after start", 1500*time.Millisecond, none)
	if got := a.announced(); len(got) != 0 {
		t.Errorf("announced series during the hold-down: %q", got)
	}
	if got := a.events.all(); len(got) != 0 {
		t.Errorf("events during the hold-down: %q", got)
	}
	a.clock.advance(1500 * time.Millisecond)
	step("hold-down over", 0, allIfaces(ipWeb))
	e.waitL2("web", e.l2For(e.nodeA, "web"))

	t.Log("a new IP after the hold-down is announced at once; the first stays")
	e.service("api", ips(ipAPI))
	e.endpoints("api", endpoint{e.nodeA, true})
	step("new Service", 0, allIfaces(ipWeb, ipAPI))

	t.Log("isolated: nothing is announced, whatever the time")
	a.members.setIsolated(true)
	step("isolated", 0, none)
	a.clock.advance(10 * time.Second)
	step("still isolated", 0, none)
	if got := a.announced(); len(got) != 0 {
		t.Errorf("announced series while isolated: %q", got)
	}
	e.waitL2("web")
	e.waitL2("api")

	t.Log("isolation over: the hold-down applies again")
	a.members.setIsolated(false)
	step("isolation over", 2*time.Second, none)
	a.clock.advance(time.Second)
	step("1s after isolation", time.Second, none)
	a.clock.advance(time.Second)
	step("hold-down over again", 0, allIfaces(ipWeb, ipAPI))
	want := []string{
		"Normal nodeAssigned " + web,
		"Normal nodeAssigned " + api,
		"Normal nodeAssigned " + api, // after isolation, in key order
		"Normal nodeAssigned " + web,
	}
	if d := cmp.Diff(want, a.events.reasons()); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	e.waitL2("web", e.l2For(e.nodeA, "web"))
	e.waitL2("api", e.l2For(e.nodeA, "api"))
}

func TestLoadBalancerClass(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	ipPlain := e.ipOwnedBy(e.nodeA, e.nodeA)
	ipOther := e.ipOwnedBy(e.nodeA, e.nodeA)
	e.service("plain", ips(ipPlain))
	e.endpoints("plain", endpoint{e.nodeA, true})
	e.service("other", ips(ipOther), func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptr.To("example.com/other") })
	e.endpoints("other", endpoint{e.nodeA, true})

	// Two installations, each with its own membership: the default one on
	// A, the one for example.com/other on B.
	def := e.speaker(e.nodeA, []string{e.nodeA})
	other := e.speaker(e.nodeB, []string{e.nodeB}, func(r *Reconciler) { r.LBClass = "example.com/other" })
	def.reconcile()
	other.reconcile()
	checkDesired(t, def, allIfaces(ipPlain))
	checkDesired(t, other, allIfaces(ipOther))
	e.waitL2("plain", e.l2For(e.nodeA, "plain"))
	e.waitL2("other", e.l2For(e.nodeB, "other"))
}

func TestOtherServiceTypesIgnored(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA}
	ipLB := e.ipOwnedBy(e.nodeA, live...)
	ipNP := e.ipOwnedBy(e.nodeA, live...)
	e.service("lb", ips(ipLB))
	e.endpoints("lb", endpoint{e.nodeA, true})
	// A NodePort Service carrying an ingress IP of the pool, as left
	// behind after a type change.
	e.service("np", ips(ipNP), func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.AllocateLoadBalancerNodePorts = nil
	})
	e.endpoints("np", endpoint{e.nodeA, true})
	e.service("cip", nil, func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeClusterIP
		s.Spec.AllocateLoadBalancerNodePorts = nil
	})
	e.endpoints("cip", endpoint{e.nodeA, true})
	a := e.speaker(e.nodeA, live)
	a.reconcile()
	checkDesired(t, a, allIfaces(ipLB))
	if d := cmp.Diff([]string{"Normal nodeAssigned " + e.svcNS + "/lb"}, a.events.reasons()); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	e.waitL2("lb", e.l2For(e.nodeA, "lb"))
	if got := e.l2Statuses("np"); len(got) != 0 {
		t.Errorf("NodePort Service has ServiceL2Status objects: %+v", got)
	}
}

func TestTrafficPolicyLocal(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	// A would win the election for this IP if both were candidates.
	ip := e.ipOwnedBy(e.nodeA, live...)
	e.service("loc", ips(ip), func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	both := func() {
		a.reconcile()
		b.reconcile()
	}

	t.Log("the only ready endpoint is on B: B announces, A does not")
	e.endpoints("loc", endpoint{e.nodeB, true}, endpoint{e.nodeA, false})
	both()
	checkDesired(t, a, map[string]announcer.Spec{})
	checkDesired(t, b, allIfaces(ip))
	e.waitL2("loc", e.l2For(e.nodeB, "loc"))

	t.Log("an endpoint on A becomes ready: A wins the election")
	e.endpoints("loc", endpoint{e.nodeB, true}, endpoint{e.nodeA, true})
	both()
	checkDesired(t, a, allIfaces(ip))
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("loc", e.l2For(e.nodeA, "loc"))

	t.Log("endpoints only on a node without a speaker: nobody announces")
	e.node("elsewhere-"+e.nodeA, nil)
	e.endpoints("loc", endpoint{"elsewhere-" + e.nodeA, true})
	both()
	checkDesired(t, a, map[string]announcer.Spec{})
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("loc")
}

// The advertisement's node selectors and the Node objects' state decide
// who may announce.
func TestNodeEligibility(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	live := []string{e.nodeA, e.nodeB}
	ip := e.ipOwnedBy(e.nodeA, live...)
	e.ad("l2", "p", func(s *v1beta1.L2AdvertisementSpec) {
		s.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"kubernetes.io/hostname": e.nodeB}}}
		s.Interfaces = []string{"eth0"}
	})
	e.service("web", ips(ip))
	e.endpoints("web", endpoint{e.nodeA, true})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, live)
	both := func() {
		a.reconcile()
		b.reconcile()
	}

	t.Log("the advertisement selects B only")
	both()
	checkDesired(t, a, map[string]announcer.Spec{})
	checkDesired(t, b, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	e.waitL2("web", e.l2For(e.nodeB, "web", "eth0"))

	t.Log("every node selected, but B's network is unavailable")
	e.updateAd("l2", func(s *v1beta1.L2AdvertisementSpec) { s.NodeSelectors = nil })
	e.setNetworkUnavailable(e.nodeB, true)
	both()
	checkDesired(t, a, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("web", e.l2For(e.nodeA, "web", "eth0"))

	t.Log("B's network is back, A is excluded from load balancers")
	e.setNetworkUnavailable(e.nodeB, false)
	e.labelNode(e.nodeA, "node.kubernetes.io/exclude-from-external-load-balancers", "")
	both()
	checkDesired(t, a, map[string]announcer.Spec{})
	checkDesired(t, b, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	e.waitL2("web", e.l2For(e.nodeB, "web", "eth0"))

	t.Log("both speakers ignore the exclusion label (--ignore-exclude-lb): A owns the IP again")
	a.r.IgnoreExcludeLB = true
	b.r.IgnoreExcludeLB = true
	both()
	checkDesired(t, a, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("web", e.l2For(e.nodeA, "web", "eth0"))
	if slices.Contains(a.events.reasons(), "Warning announceFailed "+e.svcNS+"/web") {
		t.Errorf("unexpected announceFailed: %q", a.events.all())
	}
}

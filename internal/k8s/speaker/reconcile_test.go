package speaker

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/l2/announcer"
	"github.com/ferrolb/ferrolb/test/cluster"
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
	reconcileInOrder(b, a2) // old owner first: see TestL2StatusAfterOwnershipDisagreement
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

			// Count the objects ever created for the Service.
			w, err := e.c.Watch(e.ctx, &v1beta1.ServiceL2StatusList{}, client.InNamespace(ns),
				client.MatchingLabels{LabelServiceName: "web", LabelServiceNamespace: e.svcNS})
			if err != nil {
				t.Fatal(err)
			}
			added := map[string]bool{}
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				for ev := range w.ResultChan() {
					if o, ok := ev.Object.(*v1beta1.ServiceL2Status); ok && ev.Type == watch.Added {
						added[o.Name] = true
					}
				}
			}()

			wc := &countingClient{Client: tc.client(e)}
			// The first list of a kind can take a second (the API
			// server sets up a CRD's storage on first use); get it out
			// of the way so that the writer syncs during the burst.
			if err := wc.List(e.ctx, &v1beta1.ServiceL2StatusList{}, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			wc.lists.Store(0)
			// No coalescing (set before the writer starts): the point is
			// many syncs racing the cache.
			a := e.speakerWithClient(e.nodeA, live, wc, func(r *Reconciler) { r.Status.Quiet = 0 })
			// The reconciler's own first lists of each kind can take a
			// second too: one pass before the burst.
			a.reconcile()
			wc.lists.Store(0)
			end := time.Now().Add(1500 * time.Millisecond)
			n := 0
			for time.Now().Before(end) {
				a.reconcile()
				n++
				time.Sleep(5 * time.Millisecond)
			}
			if syncs := wc.lists.Load(); syncs < 5 {
				t.Fatalf("the writer synced only %d times during %d reconciles: the test checks nothing", syncs, n)
			}
			e.waitL2("web", e.l2For(e.nodeA, "web"))
			time.Sleep(time.Second) // anything still in flight lands

			w.Stop()
			<-watched
			created := len(added)
			if created != 1 {
				t.Errorf("%d reconciles created %d ServiceL2Status objects, want 1", n, created)
			}
			if d := cmp.Diff([]l2{e.l2For(e.nodeA, "web")}, e.l2Statuses("web")); d != "" {
				t.Errorf("objects (-want +got):\n%s", d)
			}
		})
	}
}

// A Service announced, withdrawn and announced again gets its object
// back promptly, whatever the writer's cache (here even without any lag).
func TestL2StatusReannouncedSoonAfterWithdrawal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(e *env) client.Client
	}{
		{"direct reads", func(e *env) client.Client { return e.c }},
		{"informer cache", func(e *env) client.Client { return e.cached }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.pool("p")
			e.ad("l2", "p", nil)
			live := []string{e.nodeA}
			ip := e.ipOwnedBy(e.nodeA, live...)
			e.service("web", ips(ip))
			e.endpoints("web", endpoint{e.nodeA, true})
			a := e.speakerWithClient(e.nodeA, live, tc.client(e))
			a.reconcile()
			e.waitL2("web", e.l2For(e.nodeA, "web"))

			e.endpoints("web", endpoint{e.nodeA, false})
			a.reconcile()
			e.waitL2("web")

			e.endpoints("web", endpoint{e.nodeA, true})
			a.reconcile()
			checkDesired(t, a, allIfaces(ip))
			e.waitL2("web", e.l2For(e.nodeA, "web"))
		})
	}
}

// The writer reads from a cache that may be behind its own writes; it
// must still converge on the last state it was given, without waiting for
// the cache to catch up (let alone for its 30 s periodic resync): here
// the cache is 4 s behind and the objects must be right within 2 s.
func TestL2StatusConvergesWhileCacheLags(t *testing.T) {
	const lag = 4 * time.Second
	const prompt = lag / 2
	setup := func(t *testing.T) (*env, *speaker, netip.Addr) {
		e := newEnv(t)
		e.pool("p")
		e.ad("l2", "p", nil)
		live := []string{e.nodeA}
		ip := e.ipOwnedBy(e.nodeA, live...)
		e.service("web", ips(ip))
		e.endpoints("web", endpoint{e.nodeA, true})
		return e, e.speakerWithClient(e.nodeA, live, &laggyClient{Client: e.c, lag: lag}), ip
	}

	t.Run("withdrawn before the cache shows the new object", func(t *testing.T) {
		e, a, _ := setup(t)
		a.reconcile()
		e.waitL2Within(prompt, "web", e.l2For(e.nodeA, "web"))
		e.endpoints("web", endpoint{e.nodeA, false})
		a.reconcile()
		checkDesired(t, a, map[string]announcer.Spec{})
		e.waitL2Within(prompt, "web")
	})

	t.Run("announced again before the cache shows the deletion", func(t *testing.T) {
		e, a, ip := setup(t)
		a.reconcile()
		e.waitL2("web", e.l2For(e.nodeA, "web"))
		time.Sleep(lag + 100*time.Millisecond)
		a.reconcile() // the writer's cache now shows the object
		time.Sleep(200 * time.Millisecond)
		e.endpoints("web", endpoint{e.nodeA, false})
		a.reconcile()
		e.waitL2Within(prompt, "web")
		e.endpoints("web", endpoint{e.nodeA, true})
		a.reconcile()
		checkDesired(t, a, allIfaces(ip))
		e.waitL2Within(prompt, "web", e.l2For(e.nodeA, "web"))
	})
}

// Another speaker deletes this node's object (an old owner acting on a
// stale view does that, see below) right after it was created: the next
// sync must create it again.
func TestL2StatusRecreatedAfterDeletionByAnotherSpeaker(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA}
	ip := e.ipOwnedBy(e.nodeA, live...)
	e.service("web", ips(ip))
	e.endpoints("web", endpoint{e.nodeA, true})
	// Direct reads: the writer sees the deletion at once.
	a := e.speakerWithClient(e.nodeA, live, e.c)
	a.reconcile()
	e.waitL2("web", e.l2For(e.nodeA, "web"))
	if err := e.c.DeleteAllOf(e.ctx, &v1beta1.ServiceL2Status{}, client.InNamespace(ns),
		client.MatchingLabels{LabelServiceName: "web", LabelServiceNamespace: e.svcNS}); err != nil {
		t.Fatal(err)
	}
	e.waitL2("web")
	a.reconcile()
	checkDesired(t, a, allIfaces(ip))
	e.waitL2Within(5*time.Second, "web", e.l2For(e.nodeA, "web"))
}

// Membership views may disagree for a moment: here B believes A is dead
// while A sees both alive, so each thinks it owns the IP, and B's writer
// deletes A's object as stale. When B's view catches up, B withdraws; A,
// whose view did not change, has no reason to reconcile, yet its object
// must come back well before the 30 s periodic resync.
func TestL2StatusAfterOwnershipDisagreement(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	ip := e.ipOwnedBy(e.nodeA, live...)
	e.service("web", ips(ip))
	e.endpoints("web", endpoint{e.nodeA, true}, endpoint{e.nodeB, true})
	a := e.speaker(e.nodeA, live)
	b := e.speaker(e.nodeB, []string{e.nodeB})
	a.reconcile()
	e.waitL2("web", e.l2For(e.nodeA, "web"))

	t.Log("B, not seeing A, takes the IP and deletes A's object")
	b.reconcile()
	checkDesired(t, b, allIfaces(ip))
	e.eventually("B to delete A's object", func() (bool, string) {
		got := e.l2Statuses("web")
		return !slices.ContainsFunc(got, func(o l2) bool { return o.Node == e.nodeA }), fmt.Sprintf("%+v", got)
	})

	t.Log("B sees A again and withdraws")
	b.members.setLive(live...)
	b.reconcile()
	checkDesired(t, b, map[string]announcer.Spec{})
	checkDesired(t, a, allIfaces(ip))
	e.waitL2Within(5*time.Second, "web", e.l2For(e.nodeA, "web"))
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
	// One pass reports the Services in key order: bad, then web.
	want := []string{"Warning announceFailed " + bad, "Normal nodeAssigned " + web}
	if d := cmp.Diff(want, a.events.reasons()); d != "" {
		t.Errorf("events of A after 5 reconciles (-want +got):\n%s", d)
	}
	if got := b.events.all(); len(got) != 0 {
		t.Errorf("B, which owns nothing, sent events: %q", got)
	}
	assigned := fmt.Sprintf("Normal nodeAssigned %s: announcing from node %q with protocol %q", web, e.nodeA, "layer2")
	if !slices.Contains(a.events.all(), assigned) {
		t.Errorf("no event %q in %q", assigned, a.events.all())
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

// With a real event recorder the events land on the Service in the API
// server, from component metallb-speaker.
func TestEventsReachAPIServer(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA}
	ipWeb := e.ipOwnedBy(e.nodeA, live...)
	ipBad := e.ipOwnedBy(e.nodeA, live...)
	web := e.service("web", ips(ipWeb))
	e.endpoints("web", endpoint{e.nodeA, true})
	bad := e.service("bad", ips(ipBad))
	e.endpoints("bad", endpoint{e.nodeA, true})

	cs, err := typedcorev1.NewForConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	bc := record.NewBroadcaster()
	defer bc.Shutdown()
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.Events("")})
	rec := bc.NewRecorder(cluster.Scheme(), corev1.EventSource{Component: "metallb-speaker"})
	a := e.speaker(e.nodeA, live, func(r *Reconciler) { r.Events = rec })
	a.ann.setFail(ipBad, true)
	for range 3 {
		a.reconcile()
	}

	type ev struct{ Kind, Name, Namespace, UID, Type, Reason, Component string }
	want := []ev{
		{"Service", "bad", e.svcNS, string(bad.UID), corev1.EventTypeWarning, "announceFailed", "metallb-speaker"},
		{"Service", "web", e.svcNS, string(web.UID), corev1.EventTypeNormal, "nodeAssigned", "metallb-speaker"},
	}
	e.eventually("the speaker's events in the API server", func() (bool, string) {
		var list corev1.EventList
		if err := e.c.List(e.ctx, &list, client.InNamespace(e.svcNS)); err != nil {
			return false, err.Error()
		}
		var got []ev
		for _, x := range list.Items {
			o := x.InvolvedObject
			got = append(got, ev{o.Kind, o.Name, o.Namespace, string(o.UID), x.Type, x.Reason, x.Source.Component})
		}
		slices.SortFunc(got, func(a, b ev) int { return strings.Compare(a.Name, b.Name) })
		d := cmp.Diff(want, got)
		return d == "", "(-want +got)\n" + d
	})
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
	e.service("lb", ips(ipLB))
	e.endpoints("lb", endpoint{e.nodeA, true})
	// The API server refuses ingress IPs on other types, so these have
	// none; they have ready endpoints and the L2 controller sees them.
	e.service("np", nil, func(s *corev1.Service) {
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
	for _, name := range []string{"np", "cip"} {
		if got := e.l2Statuses(name); len(got) != 0 {
			t.Errorf("Service %s has ServiceL2Status objects: %+v", name, got)
		}
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
	// Each step reconciles the old owner first: see
	// TestL2StatusAfterOwnershipDisagreement.

	t.Log("the only ready endpoint is on B: B announces, A does not")
	e.endpoints("loc", endpoint{e.nodeB, true}, endpoint{e.nodeA, false})
	reconcileInOrder(a, b)
	checkDesired(t, a, map[string]announcer.Spec{})
	checkDesired(t, b, allIfaces(ip))
	e.waitL2("loc", e.l2For(e.nodeB, "loc"))

	t.Log("an endpoint on A becomes ready: A wins the election")
	e.endpoints("loc", endpoint{e.nodeB, true}, endpoint{e.nodeA, true})
	reconcileInOrder(b, a)
	checkDesired(t, a, allIfaces(ip))
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("loc", e.l2For(e.nodeA, "loc"))

	t.Log("endpoints only on a node without a speaker: nobody announces")
	e.node("elsewhere-"+e.nodeA, nil)
	e.endpoints("loc", endpoint{"elsewhere-" + e.nodeA, true})
	reconcileInOrder(a, b)
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
	// Each step reconciles the old owner first: see
	// TestL2StatusAfterOwnershipDisagreement.

	t.Log("the advertisement selects B only")
	reconcileInOrder(a, b)
	checkDesired(t, a, map[string]announcer.Spec{})
	checkDesired(t, b, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	e.waitL2("web", e.l2For(e.nodeB, "web", "eth0"))

	t.Log("every node selected, but B's network is unavailable")
	e.updateAd("l2", func(s *v1beta1.L2AdvertisementSpec) { s.NodeSelectors = nil })
	e.setNetworkUnavailable(e.nodeB, true)
	reconcileInOrder(b, a)
	checkDesired(t, a, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("web", e.l2For(e.nodeA, "web", "eth0"))

	t.Log("B's network is back, A is excluded from load balancers")
	e.setNetworkUnavailable(e.nodeB, false)
	e.labelNode(e.nodeA, "node.kubernetes.io/exclude-from-external-load-balancers", "")
	reconcileInOrder(a, b)
	checkDesired(t, a, map[string]announcer.Spec{})
	checkDesired(t, b, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	e.waitL2("web", e.l2For(e.nodeB, "web", "eth0"))

	t.Log("both speakers ignore the exclusion label (--ignore-exclude-lb): A owns the IP again")
	a.r.IgnoreExcludeLB = true
	b.r.IgnoreExcludeLB = true
	reconcileInOrder(b, a)
	checkDesired(t, a, map[string]announcer.Spec{ip.String(): {Interfaces: []string{"eth0"}}})
	checkDesired(t, b, map[string]announcer.Spec{})
	e.waitL2("web", e.l2For(e.nodeA, "web", "eth0"))
	if slices.Contains(a.events.reasons(), "Warning announceFailed "+e.svcNS+"/web") {
		t.Errorf("unexpected announceFailed: %q", a.events.all())
	}
}

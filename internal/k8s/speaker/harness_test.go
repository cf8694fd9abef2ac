package speaker

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/election"
	"github.com/ferrolb/ferrolb/internal/l2/announcer"
	"github.com/ferrolb/ferrolb/internal/metrics"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// These tests drive Reconcilers of two or three simulated nodes against the
// real API server. Each Reconciler reads with a direct client (every read
// sees the last write), has a fake announcer and a fake membership, and a
// real StatusWriter whose client reads from an informer cache, as in the
// speaker. Tests run one after the other; each has its own Service
// namespace, its own Node objects, its own block of addresses, and removes
// the pools, advertisements and ServiceL2Status objects it made.

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	kubeapi.Main(m)
}

const ns = cluster.Namespace

var (
	setupOnce sync.Once
	setupErr  error
	envCount  int
)

// waitFor bounds every wait on the API server or on a StatusWriter.
const waitFor = 20 * time.Second

// env is one test's view of the shared API server.
type env struct {
	t      *testing.T
	cfg    *rest.Config
	ctx    context.Context
	c      client.WithWatch // direct
	cached client.Client    // reads from an informer cache
	cache  cache.Cache      // cached's
	svcNS  string
	// nodeA and nodeB are Node objects created for the test.
	nodeA, nodeB string
	block        netip.Prefix
	used         map[netip.Addr]bool
	log          *slog.Logger
	stopAll      []func()
	nodes        []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg, _ := cluster.SharedClient(t)
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: cluster.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	setupOnce.Do(func() { setupErr = setup(c) })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	k := envCount
	envCount++
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{
		t: t, cfg: cfg, ctx: ctx, c: c, used: map[netip.Addr]bool{},
		block: addressBlock(t, k),
		nodeA: fmt.Sprintf("n%d-a", k), nodeB: fmt.Sprintf("n%d-b", k),
		log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	t.Cleanup(func() {
		for _, stop := range slices.Backward(e.stopAll) {
			stop()
		}
		cancel()
		e.cleanup()
	})
	e.cached = e.cachedClient(cfg)
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := c.Create(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	e.svcNS = nsObj.Name
	e.node(e.nodeA, nil)
	e.node(e.nodeB, nil)
	return e
}

// setup installs the CRDs and the MetalLB namespace, once per test binary.
func setup(c client.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// addressBlock gives test k a /28 of its own in the documentation ranges.
func addressBlock(t *testing.T, k int) netip.Prefix {
	t.Helper()
	bases := []string{"192.0.2.0", "203.0.113.0"}
	if k >= 16*len(bases)-1 {
		t.Fatalf("out of address blocks for test %d", k)
	}
	base := netip.MustParseAddr(bases[k/16]).As4()
	base[3] = byte(16 * (k % 16))
	return netip.PrefixFrom(netip.AddrFrom4(base), 28)
}

// run starts start under e's context and returns its stop: it cancels and
// waits up to waitFor for start to return, reporting an error or a hang
// under name.
func (e *env) run(name string, start func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- start(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("%s: %v", name, err)
			}
		case <-time.After(waitFor):
			e.t.Errorf("%s did not stop", name)
		}
	}
}

// cachedClient returns a client that reads through an informer cache,
// running until the test ends.
func (e *env) cachedClient(cfg *rest.Config) client.Client {
	e.t.Helper()
	ch, err := cache.New(cfg, cache.Options{Scheme: cluster.Scheme()})
	if err != nil {
		e.t.Fatal(err)
	}
	e.stopAll = append(e.stopAll, e.run("cache", ch.Start))
	e.cache = ch
	c, err := client.New(cfg, client.Options{Scheme: cluster.Scheme(), Cache: &client.CacheOptions{Reader: ch}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, o := range []client.Object{&v1beta1.L2Advertisement{}, &v1beta1.IPAddressPool{}} {
		if err := e.c.DeleteAllOf(ctx, o, client.InNamespace(ns)); err != nil {
			e.t.Errorf("cleanup: %v", err)
		}
	}
	if err := e.c.DeleteAllOf(ctx, &v1beta1.ServiceL2Status{}, client.InNamespace(ns)); err != nil {
		e.t.Errorf("cleanup: %v", err)
	}
	if e.svcNS != "" {
		if err := e.c.DeleteAllOf(ctx, &discoveryv1.EndpointSlice{}, client.InNamespace(e.svcNS)); err != nil {
			e.t.Errorf("cleanup: %v", err)
		}
		// Services do not support deletecollection: delete one by one.
		var svcs corev1.ServiceList
		if err := e.c.List(ctx, &svcs, client.InNamespace(e.svcNS)); err != nil {
			e.t.Errorf("cleanup: %v", err)
		}
		for i := range svcs.Items {
			if err := e.c.Delete(ctx, &svcs.Items[i]); err != nil && !apierrors.IsNotFound(err) {
				e.t.Errorf("cleanup: %v", err)
			}
		}
	}
	for _, n := range e.nodes {
		_ = e.c.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}})
	}
}

// node creates a Node object (labels besides kubernetes.io/hostname may be
// given).
func (e *env) node(name string, labels map[string]string) {
	e.t.Helper()
	l := map[string]string{"kubernetes.io/hostname": name}
	maps.Copy(l, labels)
	if err := e.c.Create(e.ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}); err != nil {
		e.t.Fatalf("creating node %s: %v", name, err)
	}
	e.nodes = append(e.nodes, name)
}

// setNetworkUnavailable sets the Node's NetworkUnavailable condition.
func (e *env) setNetworkUnavailable(name string, v bool) {
	e.t.Helper()
	var n corev1.Node
	if err := e.c.Get(e.ctx, types.NamespacedName{Name: name}, &n); err != nil {
		e.t.Fatal(err)
	}
	st := corev1.ConditionFalse
	if v {
		st = corev1.ConditionTrue
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeNetworkUnavailable, Status: st}}
	if err := e.c.Status().Update(e.ctx, &n); err != nil {
		e.t.Fatalf("updating node %s: %v", name, err)
	}
}

// labelNode sets a label on a Node.
func (e *env) labelNode(name, key, value string) {
	e.t.Helper()
	var n corev1.Node
	if err := e.c.Get(e.ctx, types.NamespacedName{Name: name}, &n); err != nil {
		e.t.Fatal(err)
	}
	n.Labels[key] = value
	if err := e.c.Update(e.ctx, &n); err != nil {
		e.t.Fatalf("labelling node %s: %v", name, err)
	}
}

// ipOwnedBy returns an unused address of the test's block that the
// election gives to owner when exactly the nodes of among are candidates.
func (e *env) ipOwnedBy(owner string, among ...string) netip.Addr {
	e.t.Helper()
	var cands []election.Candidate
	for _, n := range among {
		cands = append(cands, election.Candidate{Node: n})
	}
	for ip := e.block.Addr(); e.block.Contains(ip); ip = ip.Next() {
		if e.used[ip] {
			continue
		}
		if got, _ := election.Owner(ip, cands); got == owner {
			e.used[ip] = true
			return ip
		}
	}
	e.t.Fatalf("no address of %s is owned by %s among %v", e.block, owner, among)
	return netip.Addr{}
}

// pool creates an IPAddressPool covering the test's block.
func (e *env) pool(name string) {
	e.t.Helper()
	p := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: []string{e.block.String()}},
	}
	if err := e.c.Create(e.ctx, p); err != nil {
		e.t.Fatalf("creating pool: %v", err)
	}
}

// ad creates an L2Advertisement of the pool.
func (e *env) ad(name, pool string, mod func(*v1beta1.L2AdvertisementSpec)) {
	e.t.Helper()
	a := &v1beta1.L2Advertisement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: []string{pool}},
	}
	if mod != nil {
		mod(&a.Spec)
	}
	if err := e.c.Create(e.ctx, a); err != nil {
		e.t.Fatalf("creating advertisement: %v", err)
	}
}

// updateAd changes an existing L2Advertisement.
func (e *env) updateAd(name string, mod func(*v1beta1.L2AdvertisementSpec)) {
	e.t.Helper()
	var a v1beta1.L2Advertisement
	if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: ns, Name: name}, &a); err != nil {
		e.t.Fatal(err)
	}
	mod(&a.Spec)
	if err := e.c.Update(e.ctx, &a); err != nil {
		e.t.Fatalf("updating advertisement: %v", err)
	}
}

// service creates a LoadBalancer Service in the test's namespace with the
// given ingress IPs in its status.
func (e *env) service(name string, ips []netip.Addr, mods ...func(*corev1.Service)) *corev1.Service {
	e.t.Helper()
	s := cluster.LoadBalancer(e.svcNS, name)
	for _, m := range mods {
		m(s)
	}
	if err := e.c.Create(e.ctx, s); err != nil {
		e.t.Fatalf("creating service %s: %v", name, err)
	}
	if len(ips) > 0 {
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip.String()})
		}
		if err := e.c.Status().Update(e.ctx, s); err != nil {
			e.t.Fatalf("setting the IPs of service %s: %v", name, err)
		}
	}
	return s
}

func (e *env) deleteService(name string) {
	e.t.Helper()
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: e.svcNS, Name: name}}
	if err := e.c.Delete(e.ctx, s); err != nil {
		e.t.Fatal(err)
	}
}

// endpoint is one endpoint of a hand-written EndpointSlice.
type endpoint struct {
	node  string
	ready bool
}

// endpoints creates or replaces the Service's EndpointSlice.
func (e *env) endpoints(svc string, eps ...endpoint) {
	e.t.Helper()
	sl := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: e.svcNS, Name: svc + "-x"},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	var existing discoveryv1.EndpointSlice
	err := e.c.Get(e.ctx, client.ObjectKeyFromObject(sl), &existing)
	switch {
	case err == nil:
		sl = &existing
	case !apierrors.IsNotFound(err):
		e.t.Fatal(err)
	}
	sl.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	sl.Endpoints = nil
	for i, ep := range eps {
		sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("203.0.113.%d", 240+i)},
			NodeName:   ptr.To(ep.node),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ep.ready)},
		})
	}
	if sl.ResourceVersion == "" {
		err = e.c.Create(e.ctx, sl)
	} else {
		err = e.c.Update(e.ctx, sl)
	}
	if err != nil {
		e.t.Fatalf("writing endpoints of %s: %v", svc, err)
	}
}

// eventually polls cond every 50 ms until it holds, for at most waitFor.
func (e *env) eventually(what string, cond func() (bool, string)) {
	e.t.Helper()
	e.within(waitFor, what, cond)
}

// within polls cond every 50 ms until it holds, for at most d.
func (e *env) within(d time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(d)
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

// l2 is what a test checks of a ServiceL2Status object.
type l2 struct {
	LabelNode, LabelService, LabelNamespace string
	Node, ServiceName, ServiceNamespace     string
	Interfaces                              []string
}

// l2For is the object node should have for the test's Service svc.
func (e *env) l2For(node, svc string, ifaces ...string) l2 {
	return l2{
		LabelNode: node, LabelService: svc, LabelNamespace: e.svcNS,
		Node: node, ServiceName: svc, ServiceNamespace: e.svcNS, Interfaces: ifaces,
	}
}

// l2Statuses lists the ServiceL2Status objects of the test's Service svc,
// sorted by node, as the API server has them.
func (e *env) l2Statuses(svc string) []l2 {
	e.t.Helper()
	var list v1beta1.ServiceL2StatusList
	err := e.c.List(e.ctx, &list, client.InNamespace(ns),
		client.MatchingLabels{LabelServiceName: svc, LabelServiceNamespace: e.svcNS})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []l2
	for _, o := range list.Items {
		v := l2{
			LabelNode: o.Labels[LabelNode], LabelService: o.Labels[LabelServiceName], LabelNamespace: o.Labels[LabelServiceNamespace],
			Node: o.Status.Node, ServiceName: o.Status.ServiceName, ServiceNamespace: o.Status.ServiceNamespace,
		}
		for _, i := range o.Status.Interfaces {
			v.Interfaces = append(v.Interfaces, i.Name)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LabelNode < out[j].LabelNode })
	return out
}

// waitL2 waits until the ServiceL2Status objects of svc are exactly want.
func (e *env) waitL2(svc string, want ...l2) {
	e.t.Helper()
	e.waitL2Within(waitFor, svc, want...)
}

func (e *env) waitL2Within(d time.Duration, svc string, want ...l2) {
	e.t.Helper()
	e.within(d, fmt.Sprintf("the ServiceL2Status objects of %s", svc), func() (bool, string) {
		d := cmp.Diff(want, e.l2Statuses(svc))
		return d == "", "(-want +got)\n" + d
	})
}

// speaker is one simulated node: a Reconciler with fakes around it and a
// running StatusWriter.
type speaker struct {
	e       *env
	name    string
	r       *Reconciler
	ann     *fakeAnnouncer
	members *fakeMembership
	events  *eventLog
	reg     *prometheus.Registry
	clock   *fakeClock
	writer  *StatusWriter
	// stop ends the StatusWriter, as when the node dies.
	stop func()
}

// speaker starts a simulated speaker on node, with live as its view of the
// live speakers. opts adjust the Reconciler before first use.
func (e *env) speaker(node string, live []string, opts ...func(*Reconciler)) *speaker {
	e.t.Helper()
	return e.speakerWithClient(node, live, e.cached, opts...)
}

func (e *env) speakerWithClient(node string, live []string, writerClient client.Client, opts ...func(*Reconciler)) *speaker {
	e.t.Helper()
	s := &speaker{
		e: e, name: node,
		ann:     &fakeAnnouncer{fail: map[netip.Addr]bool{}},
		members: &fakeMembership{live: live},
		events:  &eventLog{},
		reg:     prometheus.NewRegistry(),
		clock:   &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	s.writer = NewStatusWriter(writerClient, ns, node, e.log)
	s.r = &Reconciler{
		Client:    e.c,
		Namespace: ns,
		Node:      node,
		Members:   s.members,
		Announcer: s.ann,
		Status:    s.writer,
		Events:    s.events,
		Metrics:   metrics.NewSpeaker(s.reg),
		Log:       e.log,
		Now:       s.clock.Now,
	}
	for _, o := range opts {
		o(s.r)
	}
	// As in the speaker: the writer hears of its objects' deletions.
	inf, err := e.cache.GetInformer(e.ctx, &v1beta1.ServiceL2Status{})
	if err != nil {
		e.t.Fatal(err)
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if o, ok := obj.(client.Object); ok {
			s.writer.deletedElsewhere(o)
		}
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	stopWriter := e.run("status writer of "+node, s.writer.Start)
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			_ = inf.RemoveEventHandler(reg)
			stopWriter()
		})
	}
	e.stopAll = append(e.stopAll, s.stop)
	return s
}

// reconcile runs one pass and fails the test on error.
func (s *speaker) reconcile() reconcile.Result {
	s.e.t.Helper()
	res, err := s.r.Reconcile(s.e.ctx, syncKey)
	if err != nil {
		s.e.t.Fatalf("reconcile on %s: %v", s.name, err)
	}
	return res
}

// reconcileInOrder runs one pass of each speaker, in the given order.
func reconcileInOrder(ss ...*speaker) {
	for _, s := range ss {
		s.reconcile()
	}
}

// desired returns the IPs (and their specs) of the last SetDesired call.
func (s *speaker) desired() map[netip.Addr]announcer.Spec {
	s.e.t.Helper()
	s.ann.mu.Lock()
	defer s.ann.mu.Unlock()
	if len(s.ann.calls) == 0 {
		s.e.t.Fatalf("%s never called SetDesired", s.name)
	}
	return s.ann.calls[len(s.ann.calls)-1]
}

// everDesired reports whether any SetDesired call of s included ip.
func (s *speaker) everDesired(ip netip.Addr) bool {
	s.ann.mu.Lock()
	defer s.ann.mu.Unlock()
	for _, c := range s.ann.calls {
		if _, ok := c[ip]; ok {
			return true
		}
	}
	return false
}

// announced returns the metallb_speaker_announced series of s as
// "service protocol node ip = value", sorted.
func (s *speaker) announced() []string {
	s.e.t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		s.e.t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "metallb_speaker_announced" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out = append(out, fmt.Sprintf("%s %s %s %s = %g", l["service"], l["protocol"], l["node"], l["ip"], m.GetGauge().GetValue()))
		}
	}
	slices.Sort(out)
	return out
}

// series is one expected metallb_speaker_announced line of announced().
func series(svcKey, node string, ip netip.Addr) string {
	return fmt.Sprintf("%s layer2 %s %s = 1", svcKey, node, ip)
}

// fakeAnnouncer records every SetDesired call and answers eth0 (or the
// requested interfaces) for each IP, or an error for the IPs in fail.
type fakeAnnouncer struct {
	mu    sync.Mutex
	calls []map[netip.Addr]announcer.Spec
	fail  map[netip.Addr]bool
}

func (f *fakeAnnouncer) SetDesired(want map[netip.Addr]announcer.Spec) map[netip.Addr]announcer.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, maps.Clone(want))
	out := map[netip.Addr]announcer.Status{}
	for ip, spec := range want {
		if f.fail[ip] {
			out[ip] = announcer.Status{Err: fmt.Errorf("fake link down: %w", announcer.ErrNoInterface)}
			continue
		}
		ifaces := []string{"eth0"}
		if !spec.AllInterfaces && len(spec.Interfaces) > 0 {
			ifaces = slices.Sorted(slices.Values(spec.Interfaces))
		}
		out[ip] = announcer.Status{Interfaces: ifaces}
	}
	return out
}

func (f *fakeAnnouncer) setFail(ip netip.Addr, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[ip] = fail
}

// fakeMembership is a settable live set and isolation flag.
type fakeMembership struct {
	mu       sync.Mutex
	live     []string
	isolated bool
}

func (m *fakeMembership) Live() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.live)
}

func (m *fakeMembership) Isolated() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.isolated
}

func (m *fakeMembership) setLive(live ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.live = live
}

func (m *fakeMembership) setIsolated(v bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.isolated = v
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eventLog is an EventRecorder that keeps "Type reason ns/name" lines.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) Event(obj runtime.Object, eventtype, reason, message string) {
	name := "?"
	if m, ok := obj.(metav1.Object); ok {
		name = m.GetNamespace() + "/" + m.GetName()
	}
	if _, ok := obj.(*corev1.Service); !ok {
		name = fmt.Sprintf("%T %s", obj, name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, eventtype+" "+reason+" "+name+": "+message)
}

func (l *eventLog) Eventf(obj runtime.Object, eventtype, reason, format string, args ...any) {
	l.Event(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

func (l *eventLog) AnnotatedEventf(obj runtime.Object, _ map[string]string, eventtype, reason, format string, args ...any) {
	l.Event(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

// reasons returns "Type reason ns/name" of every event so far (messages
// left out).
func (l *eventLog) reasons() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ev := range l.events {
		head, _, _ := strings.Cut(ev, ": ")
		out = append(out, head)
	}
	return out
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func ips(a ...netip.Addr) []netip.Addr { return a }

// specs turns a SetDesired argument into something cmp can print.
func specs(m map[netip.Addr]announcer.Spec) map[string]announcer.Spec {
	out := map[string]announcer.Spec{}
	for ip, s := range m {
		out[ip.String()] = s
	}
	return out
}

// countingClient counts List calls: one per StatusWriter sync.
type countingClient struct {
	client.Client
	lists atomic.Int32
}

func (c *countingClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.lists.Add(1)
	return c.Client.List(ctx, list, opts...)
}

// laggyClient serves ServiceL2Status lists from a snapshot up to lag old,
// like an informer cache that is behind the API server.
type laggyClient struct {
	client.Client
	lag  time.Duration
	mu   sync.Mutex
	at   time.Time
	snap *v1beta1.ServiceL2StatusList
}

func (l *laggyClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	out, ok := list.(*v1beta1.ServiceL2StatusList)
	if !ok {
		return l.Client.List(ctx, list, opts...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.snap == nil || time.Since(l.at) > l.lag {
		fresh := &v1beta1.ServiceL2StatusList{}
		if err := l.Client.List(ctx, fresh, opts...); err != nil {
			return err
		}
		l.snap, l.at = fresh, time.Now()
	}
	l.snap.DeepCopyInto(out)
	return nil
}

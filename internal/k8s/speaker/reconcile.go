package speaker

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/plan"
	"github.com/ferrolb/ferrolb/internal/k8s/confstate"
	"github.com/ferrolb/ferrolb/internal/k8s/snapshot"
	"github.com/ferrolb/ferrolb/internal/l2/announcer"
	"github.com/ferrolb/ferrolb/internal/metrics"
)

// syncKey is the one queue key: every watched change maps to it, so bursts
// coalesce into one pass over the whole state.
var syncKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "l2-sync"}}

// Membership reports which speakers are alive. Nil means membership is
// disabled: every Node counts as having a speaker.
type Membership interface {
	Live() []string
	Isolated() bool
}

// Announcer makes the node answer ARP/NDP for a set of IPs.
type Announcer interface {
	SetDesired(map[netip.Addr]announcer.Spec) map[netip.Addr]announcer.Status
}

// Reconciler recomputes and applies this node's announcements (layer 2
// and BGP).
type Reconciler struct {
	Client client.Client
	// Stores, if set, serves Services and EndpointSlices without copies
	// (else Client lists them).
	Stores          *Stores
	Namespace       string
	Node            string
	LBClass         string
	IgnoreExcludeLB bool
	Members         Membership
	Announcer       Announcer
	Status          *StatusWriter
	// BGP runs the node's BGP sessions; nil leaves BGP mode off.
	BGP       bgp.Backend
	BGPStatus *StatusWriter
	Events    record.EventRecorder
	Metrics   *metrics.Speaker
	Config    ConfigRecorder
	// State, if set, receives the configuration verdict for this node's
	// ConfigurationState object.
	State *confstate.Reporter
	Log   *slog.Logger
	// HoldDown delays taking over new IPs after start-up and after leaving
	// isolation, so a returning node does not answer alongside the
	// current owner before every speaker sees it alive. Releasing is
	// always immediate.
	HoldDown time.Duration
	Now      func() time.Time
	// Pass, if set, is called at every pass (it holds events back during
	// bursts).
	Pass func()

	lastGood  *config.Snapshot
	holdUntil time.Time
	isolated  bool
	current   map[netip.Addr]bool
	announced map[string]bool // Service keys announced from this node
	series    map[metrics.Announcement]bool
	failed    map[netip.Addr]bool

	bgpAnnounced map[string]bool
	bgpSeries    map[metrics.Announcement]bool

	lastPass atomic.Int64 // duration of the last pass, nanoseconds
}

// window is how long object events are coalesced: four times the last
// pass, so passes take at most a fifth of a core, between 5 ms (a small
// cluster: changes apply almost at once) and limit.
func (r *Reconciler) window(limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	return min(max(4*time.Duration(r.lastPass.Load()), 5*time.Millisecond), limit)
}

// ConfigRecorder receives the configuration state for metrics.
type ConfigRecorder interface {
	ConfigLoaded(stale bool)
	ServiceReconciled(err error)
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, _ reconcile.Request) (res reconcile.Result, err error) {
	defer func() {
		if r.Config != nil {
			r.Config.ServiceReconciled(err)
		}
	}()
	now := r.Now()
	if r.Pass != nil {
		r.Pass()
	}
	began := time.Now()
	defer func() { r.lastPass.Store(int64(time.Since(began))) }()
	if r.current == nil {
		r.current = map[netip.Addr]bool{}
		r.holdUntil = now.Add(r.HoldDown)
	}
	in, svcs, err := r.snapshot(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	isolated := r.Members != nil && r.Members.Isolated()
	if r.isolated && !isolated {
		r.holdUntil = now.Add(r.HoldDown)
	}
	r.isolated = isolated

	result := plan.Desired(in)
	desired := map[netip.Addr]announcer.Spec{}
	held := false
	if !isolated {
		for ip, a := range result.Announcements {
			if now.Before(r.holdUntil) && !r.current[ip] {
				held = true
				continue
			}
			desired[ip] = announcer.Spec{AllInterfaces: a.AllInterfaces, Interfaces: a.Interfaces}
		}
	}
	statuses := r.Announcer.SetDesired(desired)
	r.current = map[netip.Addr]bool{}
	for ip := range desired {
		r.current[ip] = true
	}
	r.publish(result, desired, statuses, svcs)
	if r.BGP != nil {
		if err := r.applyBGP(in, svcs); err != nil {
			r.Log.Error("cannot apply BGP state", "error", err)
		}
	}
	if held {
		return reconcile.Result{RequeueAfter: r.holdUntil.Sub(now)}, nil
	}
	return reconcile.Result{}, nil
}

// snapshot reads the cache into the planner's input.
func (r *Reconciler) snapshot(ctx context.Context) (plan.Input, map[string]*corev1.Service, error) {
	in := plan.Input{Node: r.Node, IgnoreExcludeLB: r.IgnoreExcludeLB}
	var pools v1beta1.IPAddressPoolList
	var ads v1beta1.L2AdvertisementList
	var bgpAds v1beta1.BGPAdvertisementList
	var peers v1beta2.BGPPeerList
	var bfds v1beta1.BFDProfileList
	var comms v1beta1.CommunityList
	var secrets corev1.SecretList
	var nodes corev1.NodeList
	for _, l := range []struct {
		list client.ObjectList
		opts []client.ListOption
	}{
		{&pools, []client.ListOption{client.InNamespace(r.Namespace)}},
		{&ads, []client.ListOption{client.InNamespace(r.Namespace)}},
		{&bgpAds, []client.ListOption{client.InNamespace(r.Namespace)}},
		{&peers, []client.ListOption{client.InNamespace(r.Namespace)}},
		{&bfds, []client.ListOption{client.InNamespace(r.Namespace)}},
		{&comms, []client.ListOption{client.InNamespace(r.Namespace)}},
		{&secrets, []client.ListOption{client.InNamespace(r.Namespace)}},
		{&nodes, nil},
	} {
		// The cache's objects are only read here: skip the deep copies,
		// which dominate a pass with thousands of Services.
		opts := append(l.opts, client.UnsafeDisableDeepCopy)
		if err := r.Client.List(ctx, l.list, opts...); err != nil {
			return in, nil, fmt.Errorf("listing %T: %w", l.list, err)
		}
	}
	svcs, eps, err := r.Stores.list(ctx, r.Client)
	if err != nil {
		return in, nil, err
	}
	objs := snapshot.Objects{
		Pools:             pools.Items,
		L2Advertisements:  ads.Items,
		BGPAdvertisements: bgpAds.Items,
		BGPPeers:          peers.Items,
		BFDProfiles:       bfds.Items,
		Communities:       comms.Items,
		Secrets:           secrets.Items,
		Nodes:             nodes.Items,
	}
	cfg, used, errs := config.Resolve(snapshot.Build(objs), r.lastGood)
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		r.Log.Error("invalid configuration", "kind", e.Kind, "name", e.Name, "field", e.Field, "error", e.Message)
		msgs = append(msgs, e.Error())
	}
	if r.State != nil {
		r.State.SetConfigErrors(confstate.TypeSpeakerValid, msgs)
	}
	if r.Config != nil {
		r.Config.ConfigLoaded(len(errs) > 0)
	}
	r.lastGood = &used
	in.Config = cfg

	for i := range nodes.Items {
		in.Nodes = append(in.Nodes, toPlanNode(&nodes.Items[i]))
	}
	if r.Members != nil {
		in.Speakers = map[string]bool{}
		for _, n := range r.Members.Live() {
			in.Speakers[n] = true
		}
	}
	bySvc := map[types.NamespacedName][]*discoveryv1.EndpointSlice{}
	for _, sl := range eps {
		name := sl.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		k := types.NamespacedName{Namespace: sl.Namespace, Name: name}
		bySvc[k] = append(bySvc[k], sl)
	}
	byKey := map[string]*corev1.Service{}
	for _, s := range svcs {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer || !handles(s, r.LBClass) {
			continue
		}
		ps := toPlanService(s, bySvc[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}])
		in.Services = append(in.Services, ps)
		byKey[ps.Key] = s
	}
	return in, byKey, nil
}

// publish reports the outcome: metrics at once, events for changes, and
// the ServiceL2Status objects through the coalescing writer.
func (r *Reconciler) publish(result plan.Result, desired map[netip.Addr]announcer.Spec, statuses map[netip.Addr]announcer.Status, svcs map[string]*corev1.Service) {
	series := map[metrics.Announcement]bool{}
	announced := map[string]bool{}
	failed := map[netip.Addr]bool{}
	want := map[string]StatusSpec{}
	keys := make([]string, 0, len(result.Services))
	for k := range result.Services {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		d := result.Services[key]
		svc := svcs[key]
		var ifaces []string
		all := false
		mine := false
		for _, ipd := range d.IPs {
			if !ipd.Announce {
				continue
			}
			if _, ok := desired[ipd.IP]; !ok {
				continue // held down
			}
			st := statuses[ipd.IP]
			if len(st.Interfaces) == 0 {
				if st.Err != nil && !r.failed[ipd.IP] && svc != nil {
					r.Events.Event(svc, corev1.EventTypeWarning, "announceFailed",
						fmt.Sprintf("cannot announce %s from node %q: %v", ipd.IP, r.Node, st.Err))
				}
				failed[ipd.IP] = true
				continue
			}
			mine = true
			series[metrics.Announcement{Service: key, Protocol: "layer2", Node: r.Node, IP: ipd.IP.String()}] = true
			spec := desired[ipd.IP]
			if spec.AllInterfaces {
				all = true
			}
			ifaces = append(ifaces, st.Interfaces...)
		}
		if !mine {
			continue
		}
		announced[key] = true
		if !r.announced[key] && svc != nil {
			r.Events.Event(svc, corev1.EventTypeNormal, "nodeAssigned",
				fmt.Sprintf("announcing from node %q with protocol %q", r.Node, "layer2"))
			r.Log.Info("announcing", "service", key, "node", r.Node, "protocol", "layer2")
		}
		spec := StatusSpec{Service: key, Owners: d.Owners()}
		if !all {
			slices.Sort(ifaces)
			spec.Interfaces = slices.Compact(ifaces)
		}
		want[key] = spec
	}
	for key := range r.announced {
		if !announced[key] {
			r.Log.Info("withdrawn", "service", key, "node", r.Node, "protocol", "layer2", "reason", withdrawReason(result.Services[key]))
		}
	}
	if r.Metrics != nil {
		r.Metrics.SetAnnounced("layer2", series, r.series)
	}
	r.series, r.announced, r.failed = series, announced, failed
	if r.Status != nil {
		r.Status.Set(want)
	}
}

// withdrawReason is why a Service is no longer announced from this node:
// its whole-Service reason, else the first per-IP one.
func withdrawReason(d plan.Decision) string {
	if d.Reason != "" {
		return d.Reason
	}
	for _, ip := range d.IPs {
		if ip.Reason != "" {
			return ip.Reason
		}
	}
	if len(d.IPs) == 0 {
		return "serviceGone"
	}
	return plan.ReasonNotOwner
}

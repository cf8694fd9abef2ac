package inspect

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/cli/sessions"
	"github.com/ferrolb/ferrolb/internal/core/assign"
)

// ConditionAddressAssigned is the condition the controller keeps on every
// LoadBalancer Service it handles.
const ConditionAddressAssigned = assign.ConditionType

// ServiceReport is what `kubectl metallb explain service` prints.
type ServiceReport struct {
	Namespace         string `json:"namespace"`
	Name              string `json:"name"`
	Type              string `json:"type"`
	LoadBalancerClass string `json:"loadBalancerClass,omitempty"`
	// Skipped says why MetalLB ignores the Service; empty when it handles
	// it.
	Skipped string `json:"skipped,omitempty"`

	Requests []Request `json:"requests,omitempty"`
	// Assigned lists status.loadBalancer.ingress with the pool of each IP.
	Assigned          []AssignedIP `json:"assigned,omitempty"`
	AllocatedFromPool string       `json:"allocatedFromPool,omitempty"`
	// Condition is the controller's metallb.io/AddressAssigned condition.
	Condition *Condition `json:"condition,omitempty"`

	// Pending is set when MetalLB handles the Service and it has no IP.
	Pending        bool    `json:"pending"`
	PendingReason  string  `json:"pendingReason,omitempty"`
	PendingMessage string  `json:"pendingMessage,omitempty"`
	Warnings       []Event `json:"warnings,omitempty"`

	// Advertisements are the L2Advertisements and BGPAdvertisements that
	// select the pools of the assigned IPs ("L2Advertisement/name").
	Advertisements []string        `json:"advertisements,omitempty"`
	Layer2         []L2Announcer   `json:"layer2,omitempty"`
	BGP            []BGPAnnouncer  `json:"bgp,omitempty"`
	Hints          []string        `json:"hints,omitempty"`
	Controller     *ComponentBrief `json:"controller,omitempty"`
}

// Request is one thing the Service asks of MetalLB.
type Request struct {
	// What is "pool", "ips" or "sharingKey".
	What  string `json:"what"`
	Value string `json:"value"`
	// Source is the annotation or field it comes from.
	Source     string `json:"source"`
	Deprecated bool   `json:"deprecated,omitempty"`
}

// AssignedIP is one ingress IP and the pool that holds it ("" if none).
type AssignedIP struct {
	IP   string `json:"ip"`
	Pool string `json:"pool,omitempty"`
}

// Event is a summarised Kubernetes Event.
type Event struct {
	Reason   string    `json:"reason"`
	Message  string    `json:"message"`
	Count    int32     `json:"count,omitempty"`
	LastSeen time.Time `json:"lastSeen,omitzero"`
	Age      string    `json:"age,omitempty"`
}

// L2Announcer is a node announcing the Service in layer 2.
type L2Announcer struct {
	Node string `json:"node"`
	// Interfaces is empty when the node answers on all interfaces.
	Interfaces []string `json:"interfaces,omitempty"`
}

// BGPAnnouncer is a node advertising the Service over BGP.
type BGPAnnouncer struct {
	Node  string        `json:"node"`
	Peers []PeerSession `json:"peers"`
}

// PeerSession is one configured peer of a node and its session state as
// the node's speaker reports it.
type PeerSession struct {
	Peer    string `json:"peer"`
	Address string `json:"address,omitempty"`
	// State is the BGP FSM state, "" when the speaker does not report it.
	State string `json:"state,omitempty"`
	BFD   string `json:"bfd,omitempty"`
	Error string `json:"error,omitempty"`
}

// ComponentBrief is the controller's configuration state, shown when it
// explains a problem.
type ComponentBrief struct {
	Result       string `json:"result"`
	ErrorSummary string `json:"errorSummary,omitempty"`
	Missing      bool   `json:"missing,omitempty"`
}

// Explain gathers everything known about one Service.
func Explain(ctx context.Context, c client.Reader, namespace, name string, o Options) (*ServiceReport, error) {
	var svc corev1.Service
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &svc); err != nil {
		return nil, fmt.Errorf("reading Service %s/%s: %w", namespace, name, err)
	}
	r := &ServiceReport{Namespace: namespace, Name: name, Type: string(svc.Spec.Type)}
	if svc.Spec.LoadBalancerClass != nil {
		r.LoadBalancerClass = *svc.Spec.LoadBalancerClass
	}
	r.Skipped = skipReason(&svc, o.LBClass)
	r.Requests = requests(&svc)
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ip := in.IP
		if ip == "" {
			ip = in.Hostname
		}
		r.Assigned = append(r.Assigned, AssignedIP{IP: ip})
	}
	r.AllocatedFromPool = svc.Annotations[assign.AnnotationAllocatedFromPool]
	for _, cond := range svc.Status.Conditions {
		if cond.Type == ConditionAddressAssigned {
			cc := condition(cond)
			r.Condition = &cc
		}
	}
	if r.Skipped != "" {
		return r, nil
	}

	ns := o.namespace()
	comp, err := compileConfig(ctx, c, ns)
	if err != nil {
		return nil, err
	}
	r.poolsOfIPs(comp)
	r.advertisements(comp)

	states, err := components(ctx, c, ns)
	if err != nil {
		return nil, err
	}
	ctrl := states[0]
	if ctrl.Missing || ctrl.Result != string(v1beta1.ConfigurationValid) {
		r.Controller = &ComponentBrief{Result: ctrl.Result, ErrorSummary: ctrl.ErrorSummary, Missing: ctrl.Missing}
	}

	if len(r.Assigned) == 0 {
		r.Pending = true
		switch {
		case r.Condition != nil && r.Condition.Status != string(metav1.ConditionTrue):
			r.PendingReason, r.PendingMessage = r.Condition.Reason, r.Condition.Message
		case r.Condition == nil:
			r.PendingReason = "NotProcessed"
			r.PendingMessage = "the controller has not set the " + ConditionAddressAssigned + " condition yet"
			r.Hints = append(r.Hints, "check that the MetalLB controller runs and that its configuration is valid (kubectl metallb status)")
		}
	}
	if r.Warnings, err = warnings(ctx, c, &svc, o); err != nil {
		return nil, err
	}
	if err := r.announcers(ctx, c, ns, &svc, states); err != nil {
		return nil, err
	}
	r.hints()
	return r, nil
}

// skipReason says why MetalLB ignores svc, or "" if it handles it.
func skipReason(svc *corev1.Service, lbClass string) string {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t := string(svc.Spec.Type)
		if t == "" {
			t = string(corev1.ServiceTypeClusterIP)
		}
		return fmt.Sprintf("the Service is of type %s; MetalLB only handles type LoadBalancer", t)
	}
	class := svc.Spec.LoadBalancerClass
	switch {
	case lbClass == "" && class != nil:
		return fmt.Sprintf("the Service has loadBalancerClass %q; MetalLB without --lb-class only handles Services without a class", *class)
	case lbClass != "" && class == nil:
		return fmt.Sprintf("the Service has no loadBalancerClass; MetalLB with --lb-class=%s only handles Services of that class", lbClass)
	case lbClass != "" && *class != lbClass:
		return fmt.Sprintf("the Service has loadBalancerClass %q; MetalLB handles class %q", *class, lbClass)
	}
	return ""
}

// requests lists what the Service asks for; the new annotation key wins
// over the deprecated one, as in the controller.
func requests(svc *corev1.Service) []Request {
	var out []Request
	pick := func(what, key, old string) {
		if v, ok := svc.Annotations[key]; ok {
			out = append(out, Request{What: what, Value: v, Source: key})
		} else if v, ok := svc.Annotations[old]; ok {
			out = append(out, Request{What: what, Value: v, Source: old, Deprecated: true})
		}
	}
	pick("pool", assign.AnnotationAddressPool, assign.DeprecatedAnnotationAddressPool)
	pick("ips", assign.AnnotationLoadBalancerIPs, assign.DeprecatedAnnotationLoadBalancerIPs)
	if svc.Spec.LoadBalancerIP != "" {
		out = append(out, Request{What: "ips", Value: svc.Spec.LoadBalancerIP, Source: "spec.loadBalancerIP", Deprecated: true})
	}
	pick("sharingKey", assign.AnnotationAllowSharedIP, assign.DeprecatedAnnotationAllowSharedIP)
	return out
}

// poolsOfIPs finds the pool holding each assigned IP.
func (r *ServiceReport) poolsOfIPs(comp *compiled) {
	for i, a := range r.Assigned {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil {
			continue
		}
		for _, name := range comp.cfg.PoolNames {
			if comp.cfg.Pools[name].Contains(ip.Unmap()) {
				r.Assigned[i].Pool = name
				break
			}
		}
	}
}

// advertisements lists the advertisements that select the pools in use.
func (r *ServiceReport) advertisements(comp *compiled) {
	pools := map[string]bool{}
	for _, a := range r.Assigned {
		if a.Pool != "" {
			pools[a.Pool] = true
		}
	}
	if len(pools) == 0 {
		return
	}
	inUse := func(p string) bool { return pools[p] }
	for _, ad := range comp.cfg.L2Advertisements {
		if slices.ContainsFunc(ad.Pools, inUse) {
			r.Advertisements = append(r.Advertisements, "L2Advertisement/"+ad.Name)
		}
	}
	for _, ad := range comp.cfg.BGPAdvertisements {
		if slices.ContainsFunc(ad.Pools, inUse) {
			r.Advertisements = append(r.Advertisements, "BGPAdvertisement/"+ad.Name)
		}
	}
}

// warnings returns the Service's most recent Warning events, newest first.
func warnings(ctx context.Context, c client.Reader, svc *corev1.Service, o Options) ([]Event, error) {
	var list corev1.EventList
	err := c.List(ctx, &list, client.InNamespace(svc.Namespace),
		client.MatchingFields{"involvedObject.kind": "Service", "involvedObject.name": svc.Name})
	if err != nil {
		return nil, fmt.Errorf("listing the Service's events: %w", err)
	}
	type ev struct {
		e    Event
		when time.Time
	}
	var evs []ev
	for _, e := range list.Items {
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		if e.InvolvedObject.UID != "" && svc.UID != "" && e.InvolvedObject.UID != svc.UID {
			continue // about an earlier Service of the same name
		}
		when := eventTime(&e)
		evs = append(evs, ev{Event{Reason: e.Reason, Message: e.Message, Count: e.Count, LastSeen: when}, when})
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return b.when.Compare(a.when) })
	limit := cmp.Or(o.MaxEvents, 5)
	now := o.now()
	var out []Event
	for i, e := range evs {
		if i == limit {
			break
		}
		if !e.when.IsZero() {
			e.e.Age = shortDuration(now.Sub(e.when))
		}
		out = append(out, e.e)
	}
	return out, nil
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// announcers reads the speakers' ServiceL2Status and ServiceBGPStatus
// objects for the Service and joins the BGP peers with their session state.
func (r *ServiceReport) announcers(ctx context.Context, c client.Reader, ns string, svc *corev1.Service, states []Component) error {
	sel := client.MatchingLabels{labelServiceName: svc.Name, labelServiceNamespace: svc.Namespace}
	var l2 v1beta1.ServiceL2StatusList
	if err := c.List(ctx, &l2, client.InNamespace(ns), sel); err != nil {
		return fmt.Errorf("listing ServiceL2Statuses in %s: %w", ns, err)
	}
	for _, o := range l2.Items {
		a := L2Announcer{Node: cmp.Or(o.Status.Node, o.Labels[labelStatusNode])}
		for _, ifc := range o.Status.Interfaces {
			a.Interfaces = append(a.Interfaces, ifc.Name)
		}
		r.Layer2 = append(r.Layer2, a)
	}
	slices.SortFunc(r.Layer2, func(a, b L2Announcer) int { return strings.Compare(a.Node, b.Node) })

	var bgp v1beta1.ServiceBGPStatusList
	if err := c.List(ctx, &bgp, client.InNamespace(ns), sel); err != nil {
		return fmt.Errorf("listing ServiceBGPStatuses in %s: %w", ns, err)
	}
	byNode := map[string]*Component{}
	for i := range states {
		if states[i].Kind == componentSpeaker {
			byNode[states[i].Node] = &states[i]
		}
	}
	for _, o := range bgp.Items {
		a := BGPAnnouncer{Node: cmp.Or(o.Status.Node, o.Labels[labelStatusNode]), Peers: []PeerSession{}}
		var known []sessions.Session
		if st := byNode[a.Node]; st != nil {
			known, _ = st.nodeSessions()
		}
		for _, peer := range o.Status.Peers {
			ps := PeerSession{Peer: peer}
			if i := slices.IndexFunc(known, func(s sessions.Session) bool { return s.Peer == peer }); i >= 0 {
				s := known[i]
				ps.Address, ps.State, ps.BFD, ps.Error = s.Endpoint(), s.State, s.BFD, s.Error
			}
			a.Peers = append(a.Peers, ps)
		}
		r.BGP = append(r.BGP, a)
	}
	slices.SortFunc(r.BGP, func(a, b BGPAnnouncer) int { return strings.Compare(a.Node, b.Node) })
	return nil
}

// hints adds advice drawn from the report.
func (r *ServiceReport) hints() {
	if r.Controller != nil && r.Pending {
		if r.Controller.Missing {
			r.Hints = append(r.Hints, "the controller has never reported its configuration state: is it running?")
		} else if r.Controller.Result == string(v1beta1.ConfigurationInvalid) {
			r.Hints = append(r.Hints, "the controller's configuration is invalid: see kubectl metallb status")
		}
	}
	if len(r.Assigned) == 0 {
		return
	}
	for _, a := range r.Assigned {
		if a.Pool == "" {
			r.Hints = append(r.Hints, fmt.Sprintf("%s is in no valid IPAddressPool", a.IP))
		}
	}
	switch {
	case len(r.Advertisements) == 0:
		r.Hints = append(r.Hints, "no L2Advertisement or BGPAdvertisement selects the pool: the address is assigned but nobody announces it")
	case len(r.Layer2) == 0 && len(r.BGP) == 0:
		r.Hints = append(r.Hints, "no speaker announces the Service: it needs a ready endpoint (on the announcing node with externalTrafficPolicy Local) and a node selected by the advertisement")
	}
	for _, b := range r.BGP {
		for _, p := range b.Peers {
			switch {
			case p.State == "":
				r.Hints = append(r.Hints, fmt.Sprintf("node %s does not report the state of its session to %s", b.Node, p.Peer))
			case p.State != sessions.StateEstablished:
				r.Hints = append(r.Hints, fmt.Sprintf("the session from node %s to %s is %s: the route is not advertised there", b.Node, p.Peer, p.State))
			}
		}
	}
}

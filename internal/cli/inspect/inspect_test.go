package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/cli/sessions"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// cluster is a MetalLB installation as the API shows it: pools with
// status, advertisements, peers, the components' ConfigurationStates, and
// Services in every state explain distinguishes.
type cluster struct {
	mlb, app string
	opts     Options
}

func setupCluster(ctx context.Context, t *testing.T, c client.Client) *cluster {
	t.Helper()
	cl := &cluster{mlb: namespace(ctx, t, c, "mlb"), app: namespace(ctx, t, c, "app")}
	cl.opts = Options{Namespace: cl.mlb, Now: func() time.Time { return t0.Add(3 * time.Minute) }}
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: cl.mlb, Name: name} }

	create(ctx, t, c, &v1beta1.IPAddressPool{ObjectMeta: meta("l2pool"),
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/28"}}},
		func(p *v1beta1.IPAddressPool) {
			p.Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 15}
		})
	create(ctx, t, c, &v1beta1.IPAddressPool{ObjectMeta: meta("bgppool"),
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"198.51.100.0/28", "2001:db8:1::/120"}}},
		func(p *v1beta1.IPAddressPool) {
			p.Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 15, AssignedIPv6: 0, AvailableIPv6: 256}
		})
	create(ctx, t, c, &v1beta1.IPAddressPool{ObjectMeta: meta("tiny"),
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.7/32"}, AutoAssign: ptr.To(false)}},
		func(p *v1beta1.IPAddressPool) {
			p.Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 0}
		})
	create(ctx, t, c, &v1beta1.IPAddressPool{ObjectMeta: meta("huge"),
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"2001:db8:9::/64"}, AutoAssign: ptr.To(false)}},
		func(p *v1beta1.IPAddressPool) {
			p.Status = v1beta1.IPAddressPoolStatus{AssignedIPv6: 2, AvailableIPv6: math.MaxInt64, AvailableIPv6Exact: "18446744073709551614"}
		})
	// A pool the controller has not counted yet.
	create(ctx, t, c, &v1beta1.IPAddressPool{ObjectMeta: meta("fresh"),
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.64/26"}}}, nil)
	create(ctx, t, c, &v1beta1.L2Advertisement{ObjectMeta: meta("l2"),
		Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"l2pool"}}}, nil)
	create(ctx, t, c, &v1beta1.BGPAdvertisement{ObjectMeta: meta("bgp"),
		Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"bgppool"}}}, nil)
	create(ctx, t, c, &v1beta2.BGPPeer{ObjectMeta: meta("peer-a"),
		Spec: v1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, Address: "192.0.2.254"}}, nil)
	create(ctx, t, c, &v1beta2.BGPPeer{ObjectMeta: meta("peer-b"),
		Spec: v1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64502, Address: "2001:db8::fe", Port: 1179, BFDProfile: "fast",
			NodeSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"rack": "r1"}}}}}, nil)

	// Configuration states: the controller is happy; node-1 reports its
	// sessions (one up, one down); node-2 has an invalid configuration
	// and reports no sessions; node-3 has no peers.
	state := func(name string, labels map[string]string, st v1beta1.ConfigurationStateStatus) {
		m := meta(name)
		m.Labels = labels
		create(ctx, t, c, &v1beta1.ConfigurationState{ObjectMeta: m},
			func(o *v1beta1.ConfigurationState) { o.Status = st })
	}
	state("controller", map[string]string{"metallb.io/component-type": "controller"}, v1beta1.ConfigurationStateStatus{
		Result: v1beta1.ConfigurationValid,
		Conditions: []metav1.Condition{
			cond("poolReconcilerValid", metav1.ConditionTrue, "Reconciled", "the configuration is valid", t0)},
	})
	speaker := func(node string) map[string]string {
		return map[string]string{"metallb.io/component-type": "speaker", "metallb.io/node-name": node}
	}
	state("speaker-node-1", speaker("node-1"), v1beta1.ConfigurationStateStatus{
		Result: v1beta1.ConfigurationValid,
		Conditions: []metav1.Condition{
			cond("configReconcilerValid", metav1.ConditionTrue, "Reconciled", "the configuration is valid", t0),
			cond(sessions.ConditionType, metav1.ConditionFalse, sessions.ReasonSessionsDown,
				"peer-a 192.0.2.254:179 Established bfd=Up\n"+
					"peer-b [2001:db8::fe]:1179 Active bfd=Down error=dial tcp [2001:db8::fe]:1179: connect: connection refused", t0),
		},
	})
	state("speaker-node-2", speaker("node-2"), v1beta1.ConfigurationStateStatus{
		Result:       v1beta1.ConfigurationInvalid,
		ErrorSummary: "BGPPeer \"peer-c\": spec.peerAddress: invalid peer address \"x\"\nBFDProfile \"slow\": spec.receiveInterval: 5 is out of range 10..60000",
		Conditions: []metav1.Condition{
			cond("configReconcilerValid", metav1.ConditionFalse, "ConfigurationError", "BGPPeer \"peer-c\": ...", t0)},
	})
	state("speaker-node-3", speaker("node-3"), v1beta1.ConfigurationStateStatus{
		Result: v1beta1.ConfigurationValid,
		Conditions: []metav1.Condition{
			cond("configReconcilerValid", metav1.ConditionTrue, "Reconciled", "the configuration is valid", t0),
			cond(sessions.ConditionType, metav1.ConditionTrue, sessions.ReasonNoPeers, "no BGP peers on this node", t0)},
	})

	// Services.
	svc := func(name string, mutate func(*corev1.Service), status func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: cl.app, Name: name, Annotations: map[string]string{}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
				Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}},
		}
		if mutate != nil {
			mutate(s)
		}
		return create(ctx, t, c, s, status)
	}
	assigned := func(ip string) func(*corev1.Service) {
		return func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
			s.Status.Conditions = []metav1.Condition{cond(ConditionAddressAssigned, metav1.ConditionTrue, "Assigned", "assigned "+ip, t0)}
		}
	}
	svc("web-l2", func(s *corev1.Service) {
		s.Annotations["metallb.io/address-pool"] = "l2pool"
		s.Annotations["metallb.io/ip-allocated-from-pool"] = "l2pool"
	}, assigned("192.0.2.1"))
	svc("web-bgp", func(s *corev1.Service) {
		s.Annotations["metallb.universe.tf/allow-shared-ip"] = "k1"
		s.Annotations["metallb.universe.tf/loadBalancerIPs"] = "198.51.100.1"
	}, assigned("198.51.100.1"))
	pending := svc("pending", func(s *corev1.Service) { s.Annotations["metallb.io/address-pool"] = "tiny" },
		func(s *corev1.Service) {
			s.Status.Conditions = []metav1.Condition{cond(ConditionAddressAssigned, metav1.ConditionFalse, "PoolExhausted",
				"no available IPs in pool \"tiny\"", t0)}
		})
	svc("unprocessed", nil, nil)
	svc("quiet", nil, assigned("192.0.2.2"))          // in l2pool, but no speaker announces it
	svc("unannounced", nil, assigned("203.0.113.65")) // pool "fresh" has no advertisement
	svc("other-class", func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptr.To("example.com/other") }, nil)
	svc("internal", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeClusterIP }, nil)

	// Events on the pending Service: two warnings, a normal event, and a
	// warning about an earlier Service of the same name.
	event := func(name, typ, reason, msg string, uid types.UID, at time.Time, count int32) {
		e := &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: cl.app, Name: name},
			InvolvedObject: corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: cl.app,
				Name: pending.Name, UID: uid},
			Type: typ, Reason: reason, Message: msg, Count: count,
			FirstTimestamp: metav1.NewTime(at), LastTimestamp: metav1.NewTime(at),
			Source: corev1.EventSource{Component: "metallb-controller"},
		}
		create(ctx, t, c, e, nil)
	}
	event("pending.1", corev1.EventTypeWarning, "AllocationFailed",
		"Failed to allocate IP for \""+cl.app+"/pending\": no available IPs in pool \"tiny\"", pending.UID, t0, 4)
	event("pending.2", corev1.EventTypeWarning, "deprecatedAnnotation", "an older warning", pending.UID, t0.Add(-time.Hour), 1)
	event("pending.3", corev1.EventTypeNormal, "IPAllocated", "a normal event", pending.UID, t0, 1)
	event("pending.4", corev1.EventTypeWarning, "StaleWarning", "about a deleted Service", "00000000-0000-0000-0000-000000000000", t0, 1)

	// What the speakers write: node-1 announces web-l2 in layer 2 (on
	// eth1); node-1 and node-2 advertise web-bgp.
	status := func(kind, node, svcName string) map[string]string {
		return map[string]string{"metallb.io/node": node, "metallb.io/service-name": svcName, "metallb.io/service-namespace": cl.app}
	}
	create(ctx, t, c, &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{Namespace: cl.mlb, GenerateName: "l2-",
		Labels: status("l2", "node-1", "web-l2")}},
		func(o *v1beta1.ServiceL2Status) {
			o.Status = v1beta1.MetalLBServiceL2Status{Node: "node-1", ServiceName: "web-l2", ServiceNamespace: cl.app,
				Interfaces: []v1beta1.InterfaceInfo{{Name: "eth1"}}}
		})
	for node, peers := range map[string][]string{"node-1": {"peer-a", "peer-b"}, "node-2": {"peer-a"}} {
		create(ctx, t, c, &v1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{Namespace: cl.mlb, GenerateName: "bgp-",
			Labels: status("bgp", node, "web-bgp")}},
			func(o *v1beta1.ServiceBGPStatus) {
				o.Status = v1beta1.MetalLBServiceBGPStatus{Node: node, ServiceName: "web-bgp", ServiceNamespace: cl.app, Peers: peers}
			})
	}
	return cl
}

// contains checks that out holds every pattern (regular expressions, so
// table columns can be matched with \s+).
func contains(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", p, out)
		}
	}
}

func lacks(t *testing.T, out string, substrings ...string) {
	t.Helper()
	for _, s := range substrings {
		if strings.Contains(out, s) {
			t.Errorf("output holds %q:\n%s", s, out)
		}
	}
}

// ourWarnings lists the reasons of the warnings the test created, in the
// order reported. The API server may add its own (its Service IP repair
// loop can warn about a Service created a moment ago).
func ourWarnings(ws []Event) []string {
	var out []string
	for _, w := range ws {
		switch w.Reason {
		case "AllocationFailed", "deprecatedAnnotation", "StaleWarning", "IPAllocated":
			out = append(out, w.Reason)
		}
	}
	return out
}

func TestExplainAndStatus(t *testing.T) {
	ctx, c := newClient(t)
	cl := setupCluster(ctx, t, c)

	explain := func(t *testing.T, name string) (*ServiceReport, string) {
		t.Helper()
		r, err := Explain(ctx, c, cl.app, name, cl.opts)
		if err != nil {
			t.Fatal(err)
		}
		out := text(t, r)
		t.Logf("kubectl metallb explain service %s/%s\n%s", cl.app, name, out)
		return r, out
	}

	t.Run("layer 2 Service", func(t *testing.T) {
		r, out := explain(t, "web-l2")
		if r.Pending || r.Skipped != "" {
			t.Errorf("pending %v, skipped %q", r.Pending, r.Skipped)
		}
		contains(t, out,
			`Handled:\s+yes`,
			`pool\s+l2pool\s+metallb\.io/address-pool\n`,
			`192\.0\.2\.1\s+l2pool`,
			`Pending:\s+no`,
			`Advertised:\s+L2Advertisement/l2\n`,
			`Layer 2:\s+announced by`,
			`node-1\s+eth1`)
		lacks(t, out, "Hints:", "BGP:")
	})

	t.Run("BGP Service with sessions", func(t *testing.T) {
		r, out := explain(t, "web-bgp")
		contains(t, out,
			`IPs\s+198\.51\.100\.1\s+metallb\.universe\.tf/loadBalancerIPs \(deprecated\)`,
			`sharing key\s+k1\s+metallb\.universe\.tf/allow-shared-ip \(deprecated\)`,
			`198\.51\.100\.1\s+bgppool`,
			`Advertised:\s+BGPAdvertisement/bgp`,
			`node-1\s+peer-a\s+192\.0\.2\.254:179\s+Established\s+Up\s+-`,
			`node-1\s+peer-b\s+\[2001:db8::fe\]:1179\s+Active\s+Down\s+dial tcp \[2001:db8::fe\]:1179: connect: connection refused`,
			`node-2\s+peer-a\s+-\s+unknown`,
			`the session from node node-1 to peer-b is Active`,
			`node node-2 does not report the state of its session to peer-a`)
		lacks(t, out, "Layer 2:")
		want := []BGPAnnouncer{
			{Node: "node-1", Peers: []PeerSession{
				{Peer: "peer-a", Address: "192.0.2.254:179", State: "Established", BFD: "Up"},
				{Peer: "peer-b", Address: "[2001:db8::fe]:1179", State: "Active", BFD: "Down",
					Error: "dial tcp [2001:db8::fe]:1179: connect: connection refused"}}},
			{Node: "node-2", Peers: []PeerSession{{Peer: "peer-a"}}},
		}
		if diff := cmp.Diff(want, r.BGP); diff != "" {
			t.Errorf("BGP announcers (-want +got):\n%s", diff)
		}
	})

	t.Run("pending Service", func(t *testing.T) {
		r, out := explain(t, "pending")
		if !r.Pending || r.PendingReason != "PoolExhausted" {
			t.Errorf("pending %v reason %q", r.Pending, r.PendingReason)
		}
		lacks(t, out, "Condition:")
		contains(t, out,
			`Assigned:\s+none`,
			`Pending:\s+yes, PoolExhausted\n\s+no available IPs in pool "tiny"`,
			`Recent warning events:`,
			`3m\s+AllocationFailed\s+x4\s+Failed to allocate IP`,
			`63m\s+deprecatedAnnotation\s+-\s+an older warning`)
		lacks(t, out, "a normal event", "StaleWarning", "Advertised:")
		if got := ourWarnings(r.Warnings); !slices.Equal(got, []string{"AllocationFailed", "deprecatedAnnotation"}) {
			t.Errorf("warnings %v, want AllocationFailed then deprecatedAnnotation", got)
		}
	})

	t.Run("Service the controller never saw", func(t *testing.T) {
		r, out := explain(t, "unprocessed")
		if r.PendingReason != "NotProcessed" {
			t.Errorf("pending reason %q", r.PendingReason)
		}
		contains(t, out, `Pending:\s+yes, NotProcessed`, `Requests:\s+none`, `check that the MetalLB controller runs`)
	})

	t.Run("assigned but not advertised", func(t *testing.T) {
		_, out := explain(t, "unannounced")
		contains(t, out, `203\.0\.113\.65\s+fresh`, `Advertised:\s+by no advertisement`,
			`no L2Advertisement or BGPAdvertisement selects the pool`)
	})

	t.Run("assigned, advertised, but no speaker announces", func(t *testing.T) {
		_, out := explain(t, "quiet")
		contains(t, out, `192\.0\.2\.2\s+l2pool`, `Advertised:\s+L2Advertisement/l2`,
			`Layer 2:\s+not announced by any node`, `no speaker announces the Service`)
	})

	t.Run("other loadBalancerClass", func(t *testing.T) {
		r, out := explain(t, "other-class")
		contains(t, out, `Type:\s+LoadBalancer \(loadBalancerClass example\.com/other\)`,
			`Handled:\s+no, skipped: the Service has loadBalancerClass "example.com/other"`)
		lacks(t, out, "Pending:")
		// With MetalLB running for that class the Service is handled.
		o := cl.opts
		o.LBClass = "example.com/other"
		r, err := Explain(ctx, c, cl.app, "other-class", o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Skipped != "" || !r.Pending {
			t.Errorf("with --lb-class: skipped %q, pending %v", r.Skipped, r.Pending)
		}
		// And then a class-less Service is not.
		if r, err = Explain(ctx, c, cl.app, "web-l2", o); err != nil || !strings.Contains(r.Skipped, "no loadBalancerClass") {
			t.Errorf("class-less Service with --lb-class: skipped %q, err %v", r.Skipped, err)
		}
	})

	t.Run("not a LoadBalancer", func(t *testing.T) {
		_, out := explain(t, "internal")
		contains(t, out, `skipped: the Service is of type ClusterIP; MetalLB only handles type LoadBalancer`)
	})

	t.Run("missing Service", func(t *testing.T) {
		_, err := Explain(ctx, c, cl.app, "nope", cl.opts)
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("err = %v, want not found", err)
		}
	})

	t.Run("explain as JSON and YAML", func(t *testing.T) {
		r, err := Explain(ctx, c, cl.app, "pending", cl.opts)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := Write(&b, FormatJSON, r); err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatalf("JSON output does not parse: %v\n%s", err, b.String())
		}
		if back["pending"] != true || back["pendingReason"] != "PoolExhausted" {
			t.Errorf("JSON pending=%v reason=%v", back["pending"], back["pendingReason"])
		}
		b.Reset()
		if err := Write(&b, FormatYAML, r); err != nil {
			t.Fatal(err)
		}
		var y ServiceReport
		if err := yaml.UnmarshalStrict(b.Bytes(), &y); err != nil {
			t.Fatalf("YAML output does not parse: %v\n%s", err, b.String())
		}
		if y.PendingMessage != `no available IPs in pool "tiny"` || len(ourWarnings(y.Warnings)) != 2 {
			t.Errorf("YAML round trip: %+v", y)
		}
		if err := Write(&b, "xml", r); err == nil {
			t.Error("Write accepted format xml")
		}
	})

	t.Run("status", func(t *testing.T) {
		r, err := Status(ctx, c, cl.opts)
		if err != nil {
			t.Fatal(err)
		}
		out := text(t, r)
		t.Logf("kubectl metallb status -n %s\n%s", cl.mlb, out)
		contains(t, out,
			`controller\s+-\s+Valid\s+-\n`,
			`speaker\s+node-1\s+Valid\s+-\n`,
			`speaker\s+node-2\s+Invalid\s+BGPPeer "peer-c": spec.peerAddress: invalid peer address "x" \(\+1 more\)`,
			`Errors of speaker-node-2:\n\s+BGPPeer "peer-c".*\n\s+BFDProfile "slow"`,
			`bgppool\s+198\.51\.100\.0/28,2001:db8:1::/120\s+true\s+1/15\s+0/256`,
			`l2pool\s+192\.0\.2\.0/28\s+true\s+1/15\s+-`,
			`tiny\s+203\.0\.113\.7/32\s+false\s+1/0\s+-`,
			`fresh\s+203\.0\.113\.64/26\s+true\s+unknown\s+unknown`,
			`huge\s+2001:db8:9::/64\s+false\s+-\s+2/18446744073709551614`,
			`peer-a\s+192\.0\.2\.254:179\s+64500\s+64501\s+-\s+all`,
			`peer-b\s+\[2001:db8::fe\]:1179\s+64500\s+64502\s+fast\s+1 selector\(s\)`,
			`node-1\s+peer-a\s+192\.0\.2\.254:179\s+Established\s+Up`,
			`node-1\s+peer-b\s+\[2001:db8::fe\]:1179\s+Active\s+Down\s+dial tcp`,
			`node-2\s+\(not reported\)`,
			`node-3\s+\(no peers\)`)
		if len(r.Components) != 4 || r.Components[0].Kind != "controller" {
			t.Errorf("components %+v", r.Components)
		}
		var b bytes.Buffer
		if err := Write(&b, FormatYAML, r); err != nil {
			t.Fatal(err)
		}
		var y StatusReport
		if err := yaml.UnmarshalStrict(b.Bytes(), &y); err != nil {
			t.Fatalf("YAML output does not parse: %v\n%s", err, b.String())
		}
		if len(y.Sessions) != 3 || len(y.Sessions[0].Sessions) != 2 || y.Sessions[0].Sessions[1].State != "Active" {
			t.Errorf("YAML sessions: %+v", y.Sessions)
		}
	})
}

func TestStatusOfEmptyNamespace(t *testing.T) {
	ctx, c := newClient(t)
	ns := namespace(ctx, t, c, "empty")
	r, err := Status(ctx, c, Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	out := text(t, r)
	contains(t, out, `controller\s+-\s+Unknown \(not reported\)`, `Pools: none`, `BGP peers: none`, `BGP sessions: no speaker reports`)
	var b bytes.Buffer
	if err := Write(&b, FormatJSON, r); err != nil {
		t.Fatal(err)
	}
	// Empty lists print as [] rather than null, for scripts.
	contains(t, b.String(), `"pools": \[\]`, `"sessions": \[\]`)
}

func TestStatusReportsConfigErrors(t *testing.T) {
	ctx, c := newClient(t)
	ns := namespace(ctx, t, c, "bad")
	for _, p := range []struct{ name, cidr string }{{"a", "192.0.2.0/28"}, {"b", "192.0.2.8/29"}} {
		create(ctx, t, c, &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: p.name},
			Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{p.cidr}}}, nil)
	}
	r, err := Status(ctx, c, Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	contains(t, text(t, r), `do not compile:\n\s+IPAddressPool/a: spec\.addresses\[0\]: CIDR "192\.0\.2\.0/28" overlaps`)
}

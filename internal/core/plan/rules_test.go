package plan

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/election"
	"github.com/google/go-cmp/cmp"
)

// wonBy returns the first address after the start of prefix that winner
// wins by hash alone among the named nodes (equal scores). Rows use it so
// that a rule that takes winner out of the running is visible: without the
// rule, winner would own the IP.
func wonBy(prefix, winner string, among ...string) string {
	cands := make([]election.Candidate, len(among))
	for i, n := range among {
		cands[i] = election.Candidate{Node: n}
	}
	p := netip.MustParsePrefix(prefix)
	for a, i := p.Addr().Next(), 0; i < 1000; a, i = a.Next(), i+1 {
		if got, _ := election.Owner(a, cands); got == winner {
			return a.String()
		}
	}
	panic("no IP won by " + winner)
}

// lostBy is like wonBy but returns an address winner does not win.
func lostBy(prefix, loser string, among ...string) string {
	for _, n := range among {
		if n != loser {
			return wonBy(prefix, n, among...)
		}
	}
	panic("no other node")
}

const (
	v4 = "203.0.113.0/24"
	v6 = "2001:db8:1::/64"
)

var all3 = []string{"n1", "n2", "n3"}

type ruleCase struct {
	name          string
	nodes         []Node // default threeNodes()
	speakers      map[string]bool
	ignoreExclude bool
	config        *config.Config // default: one ad for all pools and nodes
	noConfig      bool
	// svcs: the first is the subject whose decisions are checked.
	svcs []Service

	// Expected for the subject, on every node.
	svcReason string
	// among[j]: the nodes the owner of the subject's j-th IP is elected
	// from by hash (equal scores); nil means no owner.
	among [][]string
	// owner[j], when set, is the expected owner outright.
	owner []string
	// reason of the nodes that do not announce (default notOwner), and
	// per-node exceptions.
	reason     string
	nodeReason map[string]string
}

func (tc ruleCase) input() Input {
	in := Input{Nodes: tc.nodes, Speakers: tc.speakers, IgnoreExcludeLB: tc.ignoreExclude, Config: tc.config, Services: tc.svcs}
	if in.Nodes == nil {
		in.Nodes = threeNodes()
	}
	if in.Config == nil && !tc.noConfig {
		in.Config = cfg(allPools, ad("all"))
	}
	return in
}

func (tc ruleCase) wantOwner(j int, ip netip.Addr) string {
	if j < len(tc.owner) && tc.owner[j] != "" {
		return tc.owner[j]
	}
	if j >= len(tc.among) || tc.among[j] == nil {
		return ""
	}
	cands := make([]election.Candidate, len(tc.among[j]))
	for i, n := range tc.among[j] {
		cands[i] = election.Candidate{Node: n}
	}
	o, _ := election.Owner(ip, cands)
	return o
}

func TestRules(t *testing.T) {
	ready := func(s Service, eps ...Endpoint) Service { s.Endpoints = eps; return s }
	tests := []ruleCase{
		{
			name:  "baseline: every node is a candidate",
			svcs:  []Service{svc("ns/a", wonBy(v4, "n2", all3...))},
			among: [][]string{all3},
		},
		{
			name:  "exclude-from-external-load-balancers label removes the node",
			nodes: []Node{node("n1"), node("n2", LabelExcludeFromLB, ""), node("n3")},
			svcs:  []Service{svc("ns/a", wonBy(v4, "n2", all3...))},
			among: [][]string{{"n1", "n3"}},
		},
		{
			name:          "exclude label ignored with IgnoreExcludeLB",
			nodes:         []Node{node("n1"), node("n2", LabelExcludeFromLB, "true"), node("n3")},
			ignoreExclude: true,
			svcs:          []Service{svc("ns/a", wonBy(v4, "n2", all3...))},
			owner:         []string{"n2"},
		},
		{
			name:  "NetworkUnavailable removes the node",
			nodes: []Node{node("n1"), node("n2"), {Name: "n3", NetworkUnavailable: true}},
			svcs:  []Service{svc("ns/a", wonBy(v4, "n3", all3...))},
			among: [][]string{{"n1", "n2"}},
		},
		{
			name:  "out-of-service taint removes the node",
			nodes: []Node{node("n1"), {Name: "n2", OutOfService: true}, node("n3")},
			svcs:  []Service{svc("ns/a", wonBy(v4, "n2", all3...))},
			among: [][]string{{"n1", "n3"}},
		},
		{
			name:       "node selectors restrict candidates; unselected nodes lack an advertisement",
			config:     cfg(allPools, withNodes(ad("zone-a"), sel("zone", "a"))),
			svcs:       []Service{svc("ns/a", wonBy(v4, "n3", all3...))},
			among:      [][]string{{"n1", "n2"}},
			nodeReason: map[string]string{"n3": ReasonNoMatchingAdvertisement},
		},
		{
			name: "node selectors of several ads are a union",
			config: cfg(allPools,
				withNodes(ad("a1"), sel("zone", "a")),
				withNodes(ad("a2"), sel("zone", "b"))),
			svcs:  []Service{svc("ns/a", wonBy(v4, "n3", all3...))},
			owner: []string{"n3"},
		},
		{
			name:     "dead speaker excluded",
			speakers: map[string]bool{"n1": true, "n3": true, "n2": false, "ghost": true},
			svcs:     []Service{svc("ns/a", wonBy(v4, "n2", all3...))},
			among:    [][]string{{"n1", "n3"}},
		},
		{
			name:     "membership disabled: every Node is a candidate",
			speakers: nil,
			svcs:     []Service{svc("ns/a", wonBy(v4, "n3", all3...))},
			owner:    []string{"n3"},
		},
		{
			name:  "ETP Local: only the node with a serving endpoint",
			svcs:  []Service{local(svc("ns/a", wonBy(v4, "n1", all3...)), "n3")},
			owner: []string{"n3"},
		},
		{
			name: "ETP Local: ready=false is not serving, serving=true is",
			svcs: []Service{ready(local(svc("ns/a", wonBy(v4, "n1", all3...))),
				Endpoint{Node: "n1", Ready: bptr(false)},
				Endpoint{Node: "n2", Ready: bptr(false), Serving: bptr(true)},
				Endpoint{Node: "n3", Ready: bptr(false), Serving: bptr(false)})},
			owner: []string{"n2"},
		},
		{
			name:   "ETP Local: endpoints only on an excluded node",
			nodes:  []Node{node("n1"), node("n2"), node("n3", LabelExcludeFromLB, "")},
			svcs:   []Service{local(svc("ns/a", wonBy(v4, "n3", all3...)), "n3")},
			reason: ReasonNoEligibleNode,
		},
		{
			name:  "ETP Cluster: an endpoint anywhere (even with no node) suffices",
			svcs:  []Service{ready(svc("ns/a", wonBy(v4, "n2", all3...)), Endpoint{Ready: nil})},
			owner: []string{"n2"},
		},
		{
			name:   "no serving endpoint: nothing announced",
			svcs:   []Service{ready(svc("ns/a", wonBy(v4, "n2", all3...)), Endpoint{Node: "n2", Ready: bptr(false)})},
			reason: ReasonNoEndpoints,
		},
		{
			name:   "no endpoints at all",
			svcs:   []Service{ready(svc("ns/a", wonBy(v4, "n2", all3...)))},
			reason: ReasonNoEndpoints,
		},
		{
			name:   "preferred node wins over the hash",
			config: cfg(allPools, withPref(ad("all"), 10, sel("zone", "b"))),
			svcs:   []Service{svc("ns/a", lostBy(v4, "n3", all3...))},
			owner:  []string{"n3"},
		},
		{
			name: "preference weights of all applying ads are summed",
			// n1: 30; n2: 20 + 15 = 35 (summed) but only 20 if the ads
			// were not added up.
			config: cfg(allPools,
				withPref(withPref(ad("a1"), 30, sel("name", "one")), 20, sel("name", "two")),
				withPref(ad("a2"), 15, sel("name", "two"))),
			nodes: []Node{node("n1", "name", "one"), node("n2", "name", "two"), node("n3")},
			svcs:  []Service{svc("ns/a", wonBy(v4, "n3", all3...))},
			owner: []string{"n2"},
		},
		{
			name: "preferred selectors of one ad add up on a node",
			config: cfg(allPools,
				withPref(withPref(withPref(ad("a1"), 30, sel("name", "one")), 20, sel("zone", "x")), 15, sel("rack", "r"))),
			nodes: []Node{node("n1", "name", "one"), node("n2", "zone", "x", "rack", "r"), node("n3")},
			svcs:  []Service{svc("ns/a", wonBy(v4, "n1", all3...))},
			owner: []string{"n2"},
		},
		{
			name:   "preference of an ineligible node does not count",
			config: cfg(allPools, withPref(ad("all"), 50, sel("zone", "b"))),
			nodes:  []Node{node("n1", "zone", "a"), node("n2", "zone", "a"), {Name: "n3", Labels: labels("zone", "b"), NetworkUnavailable: true}},
			svcs:   []Service{svc("ns/a", wonBy(v4, "n1", all3...))},
			among:  [][]string{{"n1", "n2"}},
		},
		{
			name: "preference of an ad that does not apply to the Service does not count",
			config: cfg(allPools,
				ad("all"),
				withPref(withServices(ad("web"), sel("app", "web")), 50, sel("zone", "b"))),
			svcs:  []Service{labeled(svc("ns/a", wonBy(v4, "n1", all3...)), "app", "db")},
			owner: []string{"n1"},
		},
		{
			name: "service selectors: only matching ads apply",
			config: cfg(allPools,
				withNodes(withServices(ad("web"), sel("app", "web")), sel("zone", "a")),
				withNodes(ad("rest"), sel("zone", "b"))),
			svcs:       []Service{labeled(svc("ns/a", wonBy(v4, "n1", all3...)), "app", "db")},
			owner:      []string{"n3"},
			nodeReason: map[string]string{"n1": ReasonNoMatchingAdvertisement, "n2": ReasonNoMatchingAdvertisement},
		},
		{
			name:   "service selectors: no ad applies",
			config: cfg(allPools, withServices(ad("web"), sel("app", "web"))),
			svcs:   []Service{labeled(svc("ns/a", wonBy(v4, "n1", all3...)), "app", "db")},
			reason: ReasonNoMatchingAdvertisement,
		},
		{
			name:   "pool without any L2Advertisement",
			config: cfg(allPools, ad("v6-only", "v6")),
			svcs:   []Service{svc("ns/a", wonBy(v4, "n1", all3...))},
			reason: ReasonNoMatchingAdvertisement,
		},
		{
			name:   "sharing key with an ad that has service selectors",
			config: cfg(allPools, withServices(ad("web"), sel("app", "web"))),
			svcs:   []Service{shared(labeled(svc("ns/a", wonBy(v4, "n1", all3...)), "app", "web"), "k")},
			reason: ReasonSharedIPWithServiceSelector,
		},
		{
			name:   "sharing key (deprecated annotation) with an ad that has service selectors",
			config: cfg(allPools, ad("all"), withServices(ad("web"), sel("app", "web"))),
			svcs: func() []Service {
				s := labeled(svc("ns/a", wonBy(v4, "n1", all3...)), "app", "web")
				s.Annotations[DeprecatedAnnotationAllowSharedIP] = "k"
				return []Service{s}
			}(),
			reason: ReasonSharedIPWithServiceSelector,
		},
		{
			name:   "empty sharing key is no sharing",
			config: cfg(allPools, withServices(ad("web"), sel("app", "web"))),
			svcs: func() []Service {
				s := shared(labeled(svc("ns/a", wonBy(v4, "n1", all3...)), "app", "web"), "")
				s.Annotations[DeprecatedAnnotationAllowSharedIP] = "old" // new key wins
				return []Service{s}
			}(),
			owner: []string{"n1"},
		},
		{
			name:   "sharing key with an ad whose service selectors do not match is fine",
			config: cfg(allPools, ad("all"), withServices(ad("web"), sel("app", "web"))),
			svcs:   []Service{shared(labeled(svc("ns/a", wonBy(v4, "n1", all3...)), "app", "db"), "k")},
			owner:  []string{"n1"},
		},
		{
			name:  "IPv6 address",
			svcs:  []Service{svc("ns/a", wonBy(v6, "n2", all3...))},
			nodes: []Node{node("n1"), node("n2", LabelExcludeFromLB, ""), node("n3")},
			among: [][]string{{"n1", "n3"}},
		},
		{
			name:  "dual-stack: each IP elected on its own",
			svcs:  []Service{svc("ns/a", wonBy("198.51.100.0/24", "n1", all3...), wonBy("2001:db8:2::/64", "n3", all3...))},
			owner: []string{"n1", "n3"},
		},
		{
			name:  "IPv4-mapped status IP is the IPv4 address",
			svcs:  []Service{svc("ns/a", "::ffff:"+wonBy(v4, "n2", all3...))},
			owner: []string{"n2"},
		},
		{
			name:      "not a LoadBalancer",
			svcs:      []Service{func() Service { s := svc("ns/a", "203.0.113.5"); s.Type = "NodePort"; return s }()},
			svcReason: ReasonNotLoadBalancer,
		},
		{
			name:      "no IP in status",
			svcs:      []Service{svc("ns/a")},
			svcReason: ReasonNoIPAllocated,
		},
		{
			name:      "unparsable IP in status",
			svcs:      []Service{func() Service { s := svc("ns/a", "203.0.113.5"); s.IPs = append(s.IPs, netip.Addr{}); return s }()},
			svcReason: ReasonInvalidIP,
		},
		{
			name:      "IP outside every pool",
			svcs:      []Service{svc("ns/a", "203.0.113.5", "2001:db8:ff::1")},
			svcReason: ReasonIPNotAllowed,
		},
		{
			name:      "no configuration",
			noConfig:  true,
			svcs:      []Service{svc("ns/a", "203.0.113.5")},
			svcReason: ReasonNoConfig,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.input()
			subject := tc.svcs[0]
			for node, res := range everyNode(in) {
				got := res.Services[subject.Key]
				want := Decision{Reason: tc.svcReason}
				if tc.svcReason == "" {
					for j, ip := range subject.IPs {
						ip = ip.Unmap()
						owner := tc.wantOwner(j, ip)
						d := IPDecision{IP: ip, Owner: owner, Announce: owner == node}
						if !d.Announce {
							d.Reason = ReasonNotOwner
							if tc.reason != "" {
								d.Reason = tc.reason
							}
							if r, ok := tc.nodeReason[node]; ok {
								d.Reason = r
							}
						}
						want.IPs = append(want.IPs, d)
					}
				}
				if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
					t.Errorf("on %s, decision (-want +got):\n%s", node, diff)
				}
				for _, d := range want.IPs {
					a, ok := res.Announcements[d.IP]
					if has := ok && slices.Contains(a.Services, subject.Key); has != d.Announce {
						t.Errorf("on %s, announcement of %s for %s: %v, want %v", node, d.IP, subject.Key, has, d.Announce)
					}
				}
				if tc.svcReason != "" && len(res.Announcements) != 0 {
					t.Errorf("on %s, announcements %v, want none", node, res.Announcements)
				}
			}
		})
	}
}

// The plan repeats the allow-shared-ip keys of package assign.
func TestAnnotationKeysMatchAssign(t *testing.T) {
	if AnnotationAllowSharedIP != assign.AnnotationAllowSharedIP ||
		DeprecatedAnnotationAllowSharedIP != assign.DeprecatedAnnotationAllowSharedIP {
		t.Errorf("sharing keys %q, %q differ from package assign's %q, %q",
			AnnotationAllowSharedIP, DeprecatedAnnotationAllowSharedIP,
			assign.AnnotationAllowSharedIP, assign.DeprecatedAnnotationAllowSharedIP)
	}
}

func TestEndpointCanServe(t *testing.T) {
	tests := []struct {
		ready, serving *bool
		want           bool
	}{
		{nil, nil, true},
		{bptr(true), nil, true},
		{bptr(false), nil, false},
		{bptr(false), bptr(true), true},
		{bptr(false), bptr(false), false},
		{nil, bptr(false), true},
		{bptr(true), bptr(false), true},
	}
	for _, tt := range tests {
		e := Endpoint{Ready: tt.ready, Serving: tt.serving}
		if got := e.CanServe(); got != tt.want {
			t.Errorf("ready=%v serving=%v: CanServe = %v, want %v", show(tt.ready), show(tt.serving), got, tt.want)
		}
	}
}

func show(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

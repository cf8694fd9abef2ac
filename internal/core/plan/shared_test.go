package plan

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/google/go-cmp/cmp"
)

// announcersOf runs Desired on every node and returns, per node, the
// Services it announces ip for (nodes announcing nothing left out).
func announcersOf(in Input, ip netip.Addr) map[string][]string {
	out := map[string][]string{}
	for n, res := range everyNode(in) {
		if a, ok := res.Announcements[ip]; ok {
			out[n] = a.Services
		}
	}
	return out
}

// Services sharing one IP: one announcer, chosen by the rule of the package
// documentation (coverage, then preference, then hash).
func TestSharedIP(t *testing.T) {
	ipFor := func(winner string) string { return wonBy(v4, winner, all3...) }
	tests := []struct {
		name   string
		config func() Input
		// want: the one announcing node and the Services it announces.
		want map[string][]string
		// reasons of Services not announced by anyone, on every node.
		reasons map[string]string
	}{
		{
			name: "Cluster policy: both announced by the one owner",
			config: func() Input {
				ip := ipFor("n2")
				return Input{Services: []Service{shared(svc("ns/a", ip), "k"), shared(svc("ns/b", ip), "k")}}
			},
			want: map[string][]string{"n2": {"ns/a", "ns/b"}},
		},
		{
			name: "Local policy, overlapping endpoints: the common node wins",
			config: func() Input {
				ip := ipFor("n1")
				return Input{Services: []Service{
					local(shared(svc("ns/a", ip), "k"), "n1", "n2"),
					local(shared(svc("ns/b", ip), "k"), "n2", "n3"),
				}}
			},
			want: map[string][]string{"n2": {"ns/a", "ns/b"}},
		},
		{
			name: "Local policy: coverage beats preference",
			config: func() Input {
				ip := ipFor("n1")
				return Input{
					Config: cfg(allPools, withPref(ad("all"), 100, sel("zone", "b"))),
					Services: []Service{
						local(shared(svc("ns/a", ip), "k"), "n2", "n3"),
						local(shared(svc("ns/b", ip), "k"), "n2"),
					},
				}
			},
			want: map[string][]string{"n2": {"ns/a", "ns/b"}},
		},
		{
			name: "Local policy, disjoint endpoints: one node announces the Service it serves",
			config: func() Input {
				ip := wonBy(v4, "n3", "n1", "n3")
				return Input{Services: []Service{
					local(shared(svc("ns/a", ip), "k"), "n1"),
					local(shared(svc("ns/b", ip), "k"), "n3"),
				}}
			},
			want:    map[string][]string{"n3": {"ns/b"}},
			reasons: map[string]string{"ns/a": ReasonSharedIPOwnerNotEligible},
		},
		{
			name: "Local policy, disjoint endpoints: the other way round by hash",
			config: func() Input {
				ip := wonBy(v4, "n1", "n1", "n3")
				return Input{Services: []Service{
					local(shared(svc("ns/a", ip), "k"), "n1"),
					local(shared(svc("ns/b", ip), "k"), "n3"),
				}}
			},
			want:    map[string][]string{"n1": {"ns/a"}},
			reasons: map[string]string{"ns/b": ReasonSharedIPOwnerNotEligible},
		},
		{
			name: "Local policy, disjoint endpoints: preference breaks the tie",
			config: func() Input {
				ip := wonBy(v4, "n1", "n1", "n3")
				return Input{
					Config: cfg(allPools, withPref(ad("all"), 5, sel("zone", "b"))),
					Services: []Service{
						local(shared(svc("ns/a", ip), "k"), "n1"),
						local(shared(svc("ns/b", ip), "k"), "n3"),
					},
				}
			},
			want:    map[string][]string{"n3": {"ns/b"}},
			reasons: map[string]string{"ns/a": ReasonSharedIPOwnerNotEligible},
		},
		{
			name: "three Services: the node serving most wins",
			config: func() Input {
				ip := ipFor("n1")
				return Input{Services: []Service{
					local(shared(svc("ns/a", ip), "k"), "n1", "n2", "n3"),
					local(shared(svc("ns/b", ip), "k"), "n1", "n3"),
					local(shared(svc("ns/c", ip), "k"), "n3"),
				}}
			},
			want: map[string][]string{"n3": {"ns/a", "ns/b", "ns/c"}},
		},
		{
			name: "a sharing Service without endpoints does not steer the election",
			config: func() Input {
				ip := ipFor("n1")
				b := local(shared(svc("ns/b", ip), "k"), "n3")
				b.Endpoints[0].Ready = bptr(false)
				return Input{Services: []Service{local(shared(svc("ns/a", ip), "k"), "n1"), b}}
			},
			want:    map[string][]string{"n1": {"ns/a"}},
			reasons: map[string]string{"ns/b": ReasonNoEndpoints},
		},
		{
			name: "Services that may not use the IP do not steer the election",
			config: func() Input {
				ip := ipFor("n1")
				// ns/b is refused (sharing key with a selector ad): its
				// endpoints must not pull the IP to n3.
				return Input{
					Config: cfg(allPools, ad("all"), withServices(ad("web"), sel("app", "web"))),
					Services: []Service{
						local(shared(svc("ns/a", ip), "k"), "n1", "n2", "n3"),
						local(shared(labeled(svc("ns/b", ip), "app", "web"), "k"), "n3"),
					},
				}
			},
			want:    map[string][]string{"n1": {"ns/a"}},
			reasons: map[string]string{"ns/b": ReasonSharedIPWithServiceSelector},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.config()
			in.Nodes = threeNodes()
			if in.Config == nil {
				in.Config = cfg(allPools, ad("all"))
			}
			ip := in.Services[0].IPs[0]
			if diff := cmp.Diff(tt.want, announcersOf(in, ip)); diff != "" {
				t.Errorf("announcers of %s (-want +got):\n%s", ip, diff)
			}
			var owner string
			for n := range tt.want {
				owner = n
			}
			for n, res := range everyNode(in) {
				for _, s := range in.Services {
					d := res.Services[s.Key].IPs[0]
					announced := slices.Contains(tt.want[owner], s.Key)
					wantOwner := ""
					if announced {
						wantOwner = owner
					}
					if d.Owner != wantOwner {
						t.Errorf("on %s, %s: Owner %q, want %q", n, s.Key, d.Owner, wantOwner)
					}
					if r, ok := tt.reasons[s.Key]; ok && d.Reason != r {
						t.Errorf("on %s, %s: Reason %q, want %q", n, s.Key, d.Reason, r)
					}
				}
			}
		})
	}
}

// Which interfaces an announcement uses: the union over the ads that apply
// to the announced Services and select this node.
func TestInterfaces(t *testing.T) {
	ip := "203.0.113.20"
	me := node("me", "zone", "a")
	tests := []struct {
		name string
		ads  []*config.L2Advertisement
		svcs []Service
		want Announcement
	}{
		{
			name: "ad without interfaces: all",
			ads:  []*config.L2Advertisement{ad("all")},
			want: Announcement{AllInterfaces: true},
		},
		{
			name: "union of two ads, sorted, each once",
			ads:  []*config.L2Advertisement{withIfaces(ad("a1"), "eth0", "eth1"), withIfaces(ad("a2"), "bond0", "eth0")},
			want: Announcement{Interfaces: []string{"bond0", "eth0", "eth1"}},
		},
		{
			name: "ad not selecting this node is left out",
			ads: []*config.L2Advertisement{
				withIfaces(ad("a1"), "eth0"),
				withIfaces(withNodes(ad("a2"), sel("zone", "b")), "eth1"),
			},
			want: Announcement{Interfaces: []string{"eth0"}},
		},
		{
			name: "an all-interfaces ad wins over listed ones",
			ads:  []*config.L2Advertisement{withIfaces(ad("a1"), "eth0"), ad("a2")},
			want: Announcement{AllInterfaces: true},
		},
		{
			name: "all-interfaces ad of another node does not count",
			ads:  []*config.L2Advertisement{withIfaces(ad("a1"), "eth0"), withNodes(ad("a2"), sel("zone", "b"))},
			want: Announcement{Interfaces: []string{"eth0"}},
		},
		{
			name: "ad not applying to the Service is left out",
			ads:  []*config.L2Advertisement{withIfaces(ad("a1"), "eth0"), withIfaces(withServices(ad("web"), sel("app", "web")), "eth1")},
			want: Announcement{Interfaces: []string{"eth0"}},
		},
		{
			name: "shared IP: ads of every announced Service",
			ads: []*config.L2Advertisement{
				withIfaces(withServices(ad("db"), sel("app", "db")), "eth0"),
				withIfaces(withServices(ad("web"), sel("app", "web")), "eth1"),
			},
			svcs: []Service{labeled(svc("ns/a", ip), "app", "db"), labeled(svc("ns/b", ip), "app", "web")},
			want: Announcement{Interfaces: []string{"eth0", "eth1"}, Services: []string{"ns/a", "ns/b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svcs := tt.svcs
			if svcs == nil {
				svcs = []Service{labeled(svc("ns/a", ip), "app", "db")}
			}
			for i := range svcs {
				svcs[i].Endpoints = []Endpoint{{Node: "me"}}
			}
			res := Desired(Input{Node: "me", Nodes: []Node{me}, Config: cfg(allPools, tt.ads...), Services: svcs})
			want := tt.want
			want.IP = mustAddr(ip)
			if want.Services == nil {
				want.Services = []string{"ns/a"}
			}
			if diff := cmp.Diff(map[netip.Addr]Announcement{want.IP: want}, res.Announcements, cmpAddr); diff != "" {
				t.Errorf("announcements (-want +got):\n%s", diff)
			}
		})
	}
}

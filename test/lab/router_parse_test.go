package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The files in testdata/routers are real outputs of the lab's routers
// (FRR 8.4, BIRD 2.0.12, gobgp 3.10), taken during TestRouters: both
// nodes announcing 203.0.113.5/32 and 2001:db8:100::5/128 with community
// 64512:100 and large community 64512:1:2, and (files without "ecmp")
// node2's sessions down.

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
var prefixCmp = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func readRouterData(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "routers", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return b
}

// announced is the stand-in speaker's path through next hop nh from peer.
func announced(nh, peer string, best bool) Path {
	return Path{
		NextHop: mustAddr(nh), Peer: mustAddr(peer), Best: best,
		Communities: []string{"64512:100"}, LargeCommunities: []string{"64512:1:2"},
		LocalPref: 100, ASPath: []uint32{64512}, Origin: "IGP",
	}
}

func announcedRoute(prefix string, paths ...Path) Route {
	r := Route{
		Prefix: netip.MustParsePrefix(prefix), Communities: []string{"64512:100"}, LargeCommunities: []string{"64512:1:2"},
		LocalPref: 100, ASPath: []uint32{64512}, Origin: "IGP", Paths: paths,
	}
	for _, p := range paths {
		r.NextHops = append(r.NextHops, p.NextHop)
	}
	return r
}

func TestParseRoutes(t *testing.T) {
	ecmp4 := announcedRoute("203.0.113.5/32",
		announced("198.51.100.11", "198.51.100.11", true), announced("198.51.100.12", "198.51.100.12", false))
	ecmp6 := announcedRoute("2001:db8:100::5/128",
		announced("2001:db8:1::11", "2001:db8:1::11", true), announced("2001:db8:1::12", "2001:db8:1::12", false))
	birdPeers := map[string]netip.Addr{
		"n0": mustAddr("198.51.100.11"), "n1": mustAddr("198.51.100.12"),
		"n2": mustAddr("2001:db8:1::11"), "n3": mustAddr("2001:db8:1::12"),
	}
	tests := []struct {
		file  string
		parse func([]byte) ([]Route, error)
		want  []Route
	}{
		{"frr-rib4-ecmp.json", parseFRRRoutes, []Route{ecmp4}},
		{"frr-rib6-ecmp.json", parseFRRRoutes, []Route{ecmp6}},
		{"frr-rib4-one.json", parseFRRRoutes, []Route{announcedRoute("203.0.113.5/32", announced("198.51.100.11", "198.51.100.11", true))}},
		{"bird-rib4-ecmp.txt", func(b []byte) ([]Route, error) { return parseBIRDRoutes(string(b), birdPeers) }, []Route{ecmp4}},
		{"bird-rib6-ecmp.txt", func(b []byte) ([]Route, error) { return parseBIRDRoutes(string(b), birdPeers) }, []Route{ecmp6}},
		{"gobgp-rib4-ecmp.json", parseGoBGPRoutes, []Route{ecmp4}},
		{"gobgp-rib6-ecmp.json", parseGoBGPRoutes, []Route{ecmp6}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := tc.parse(readRouterData(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			sortRoutes(got)
			if diff := cmp.Diff(tc.want, got, addrCmp, prefixCmp); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseBIRDRoutesMixed covers what the lab's captures lack: a
// non-BGP route (skipped), a MED, several communities, an AS set, and a
// path that loses on local preference (not a next hop).
func TestParseBIRDRoutesMixed(t *testing.T) {
	out := `BIRD 2.0.12 ready.
Table master4:
198.51.100.0/24      unicast [lan4 2026-11-21 08:09:24.363] * (200)
	via 192.0.2.13 on eth0
	Type: static univ
203.0.113.7/32       unicast [n1 2026-11-21 08:09:24.363] * (100) [AS64520i]
	via 198.51.100.12 on eth0
	Type: BGP univ
	BGP.origin: IGP
	BGP.as_path: 64512 {64520,64521}
	BGP.next_hop: 198.51.100.12
	BGP.med: 5
	BGP.local_pref: 200
	BGP.community: (64512,200) (64512,100) (65535,65281)
                     unicast [n0 2026-11-21 08:09:24.571] (100) [AS64512?]
	via 198.51.100.11 on eth0
	Type: BGP univ
	BGP.origin: Incomplete
	BGP.as_path: 64512
	BGP.next_hop: 198.51.100.11
	BGP.local_pref: 100
`
	peers := map[string]netip.Addr{"n0": mustAddr("198.51.100.11"), "n1": mustAddr("198.51.100.12")}
	got, err := parseBIRDRoutes(out, peers)
	if err != nil {
		t.Fatal(err)
	}
	best := Path{
		NextHop: mustAddr("198.51.100.12"), Peer: mustAddr("198.51.100.12"), Best: true,
		Communities: []string{"64512:100", "64512:200", "65535:65281"},
		LocalPref:   200, MED: 5, ASPath: []uint32{64512, 64520, 64521}, Origin: "IGP",
	}
	other := Path{NextHop: mustAddr("198.51.100.11"), Peer: mustAddr("198.51.100.11"), LocalPref: 100, ASPath: []uint32{64512}, Origin: "incomplete"}
	want := []Route{{
		Prefix: netip.MustParsePrefix("203.0.113.7/32"), NextHops: []netip.Addr{best.NextHop},
		Communities: best.Communities, LocalPref: 200, MED: 5, ASPath: best.ASPath, Origin: "IGP",
		Paths: []Path{best, other},
	}}
	if diff := cmp.Diff(want, got, addrCmp, prefixCmp); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

func TestFinishRoute(t *testing.T) {
	p := func(nh string, best bool, lp uint32, path ...uint32) Path {
		return Path{NextHop: mustAddr(nh), Peer: mustAddr(nh), Best: best, LocalPref: lp, ASPath: path, Origin: "IGP"}
	}
	tests := []struct {
		name      string
		paths     []Path
		multipath []bool
		want      []string // next hops
	}{
		{"ties join the best", []Path{p("10.0.0.2", false, 100, 1), p("10.0.0.1", true, 100, 2)}, nil, []string{"10.0.0.1", "10.0.0.2"}},
		{"lower local preference stays out", []Path{p("10.0.0.1", true, 200, 1), p("10.0.0.2", false, 100, 1)}, nil, []string{"10.0.0.1"}},
		{"longer AS path stays out", []Path{p("10.0.0.1", true, 100, 1), p("10.0.0.2", false, 100, 1, 1)}, nil, []string{"10.0.0.1"}},
		{"multipath flags win over ties", []Path{p("10.0.0.1", true, 100, 1), p("10.0.0.2", false, 100, 1)}, []bool{true, false}, []string{"10.0.0.1"}},
		{"no best: the first path", []Path{p("10.0.0.3", false, 100, 1), p("10.0.0.4", false, 50, 1)}, nil, []string{"10.0.0.3"}},
		{"same next hop twice", []Path{p("10.0.0.1", true, 100, 1), p("10.0.0.1", false, 100, 1)}, nil, []string{"10.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := finishRoute(netip.MustParsePrefix("203.0.113.1/32"), tc.paths, tc.multipath)
			var got []string
			for _, a := range r.NextHops {
				got = append(got, a.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("next hops (-want +got):\n%s", diff)
			}
			if len(r.Paths) != len(tc.paths) || r.Paths[0].NextHop.String() != tc.want[0] {
				t.Errorf("paths %+v; want %d, the best first", r.Paths, len(tc.paths))
			}
		})
	}
}

func TestParseNeighbors(t *testing.T) {
	n1, n2 := mustAddr("198.51.100.11"), mustAddr("198.51.100.12")
	v1, v2 := mustAddr("2001:db8:1::11"), mustAddr("2001:db8:1::12")

	t.Run("FRR", func(t *testing.T) {
		got, err := parseFRRNeighbors(readRouterData(t, "frr-neighbors.json"))
		if err != nil {
			t.Fatal(err)
		}
		bfd, err := parseFRRBFD(readRouterData(t, "frr-bfd.json"))
		if err != nil {
			t.Fatal(err)
		}
		addBFDStates(got, bfd)
		want := []NeighborStatus{
			{Address: n1, ASN: 64512, State: "Established", Uptime: 6 * time.Second, Established: 1, Received: 1, BFD: "up"},
			{Address: n2, ASN: 64512, State: "Active", Established: 1, BFD: "up"},
			{Address: v1, ASN: 64512, State: "Established", Uptime: 8 * time.Second, Established: 1, Received: 1},
			{Address: v2, ASN: 64512, State: "Active", Established: 1},
		}
		if diff := cmp.Diff(want, got, addrCmp, cmpopts.SortSlices(func(a, b NeighborStatus) bool { return a.Address.Less(b.Address) })); diff != "" {
			t.Errorf("neighbours (-want +got):\n%s", diff)
		}
		wantBFD := []BFDPeer{
			{Peer: n1, State: "up", Uptime: 5 * time.Second, RxInterval: 100 * time.Millisecond, TxInterval: 100 * time.Millisecond, Multiplier: 3,
				RemoteRxInterval: 100 * time.Millisecond, RemoteTxInterval: 100 * time.Millisecond, RemoteMultiplier: 3},
			{Peer: n2, State: "up", Uptime: 2 * time.Second, RxInterval: 100 * time.Millisecond, TxInterval: 100 * time.Millisecond, Multiplier: 3,
				RemoteRxInterval: 100 * time.Millisecond, RemoteTxInterval: 100 * time.Millisecond, RemoteMultiplier: 3},
		}
		if diff := cmp.Diff(wantBFD, bfd, addrCmp); diff != "" {
			t.Errorf("BFD peers (-want +got):\n%s", diff)
		}
	})

	t.Run("BIRD", func(t *testing.T) {
		now, err := birdTime("2026-11-21", "08:09:53.478")
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseBIRDProtocols(string(readRouterData(t, "bird-protocols.txt")), now)
		if err != nil {
			t.Fatal(err)
		}
		want := []NeighborStatus{
			{Address: n1, ASN: 64512, State: "Established", Uptime: 10 * time.Second, Established: -1, Received: 1},
			{Address: n2, ASN: 64512, State: "Connect", Established: -1},
			{Address: v1, ASN: 64512, State: "Established", Uptime: 10036 * time.Millisecond, Established: -1, Received: 1},
			{Address: v2, ASN: 64512, State: "Connect", Established: -1},
		}
		if diff := cmp.Diff(want, got, addrCmp); diff != "" {
			t.Errorf("neighbours (-want +got):\n%s", diff)
		}
		bnow, _ := birdTime("2026-11-21", "08:09:34.941")
		bfd, err := parseBIRDBFD(string(readRouterData(t, "bird-bfd.txt")), bnow)
		if err != nil {
			t.Fatal(err)
		}
		wantBFD := []BFDPeer{
			{Peer: n2, State: "up", Uptime: 10 * time.Second, TxInterval: 100 * time.Millisecond},
			{Peer: n1, State: "up", Uptime: 10827 * time.Millisecond, TxInterval: 100 * time.Millisecond},
		}
		if diff := cmp.Diff(wantBFD, bfd, addrCmp); diff != "" {
			t.Errorf("BFD sessions (-want +got):\n%s", diff)
		}
	})

	t.Run("GoBGP", func(t *testing.T) {
		now := time.Unix(1795248587, 0)
		got, err := parseGoBGPNeighbors(readRouterData(t, "gobgp-neighbors.json"), now)
		if err != nil {
			t.Fatal(err)
		}
		want := []NeighborStatus{
			{Address: n1, ASN: 64512, State: "Established", Uptime: 10 * time.Second, Established: 2, Received: 1},
			{Address: n2, ASN: 64512, State: "Idle", Established: 1},
			{Address: v1, ASN: 64512, State: "Established", Uptime: 10 * time.Second, Established: 2, Received: 1},
			{Address: v2, ASN: 64512, State: "Idle", Established: 1},
		}
		if diff := cmp.Diff(want, got, addrCmp); diff != "" {
			t.Errorf("neighbours (-want +got):\n%s", diff)
		}
	})
}

func TestParseBIRDBFDMultihop(t *testing.T) {
	out := "BIRD 2.0.12 ready.\nbfd1:\nIP address                Interface  State      Since         Interval  Timeout\n" +
		"192.0.2.14                ---        Down       2026-11-21 08:09:42.554    1.000    0.000\n" +
		"2001:db8:1::11            eth0       Init       2026-11-21 08:09:42.554    0.300    0.900\n"
	got, err := parseBIRDBFD(out, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []BFDPeer{
		{Peer: mustAddr("192.0.2.14"), State: "down", Multihop: true, TxInterval: time.Second},
		{Peer: mustAddr("2001:db8:1::11"), State: "init", TxInterval: 300 * time.Millisecond},
	}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("BFD sessions (-want +got):\n%s", diff)
	}
}

func TestRouterValueHelpers(t *testing.T) {
	for in, want := range map[string]string{"noExport": "65535:65281", "no-advertise": "65535:65282", "64512:7": "64512:7", "blackhole": "65535:666"} {
		if got := normCommunity(in); got != want {
			t.Errorf("normCommunity(%q) = %q, want %q", in, got, want)
		}
	}
	if got := communityOf(4227858532); got != "64512:100" {
		t.Errorf("communityOf = %q", got)
	}
	if got := birdTuples("(64512, 1, 2) (64512, 3, 4)"); !cmp.Equal(got, []string{"64512:1:2", "64512:3:4"}) {
		t.Errorf("birdTuples = %q", got)
	}
	if got, err := parseASPath(""); err != nil || got != nil {
		t.Errorf("empty AS path = %v, %v", got, err)
	}
	if _, err := parseASPath("64512 x"); err == nil {
		t.Error("parseASPath accepted a word")
	}
	for in, want := range map[string]string{"ESTABLISHED": "Established", "opensent": "OpenSent", "Active": "Active", "weird": "weird"} {
		if got := bgpState(in); got != want {
			t.Errorf("bgpState(%q) = %q, want %q", in, got, want)
		}
	}
}

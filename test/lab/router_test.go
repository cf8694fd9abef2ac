package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/cluster"
)

// The stand-in speaker's announcements (the real speaker's BGP is not
// written yet): one address per family with a community and a large
// community, from ASN speakerASN on every node.
const speakerASN = 64512

var (
	announcedV4 = netip.MustParsePrefix("203.0.113.5/32")
	announcedV6 = netip.MustParsePrefix("2001:db8:100::5/128")
)

// standInPeer is a session of the stand-in speaker.
type standInPeer struct {
	addr     netip.Addr
	asn      uint32
	password string
	multihop int
	passive  bool
	bfd      bool
}

// standIn runs BIRD as a stand-in BGP speaker in a node's namespace.
type standIn struct {
	l    *Lab
	node *Node
	dir  string
	proc *Proc
}

// startStandIn starts BIRD in node n announcing announcedV4/V6 to peers
// and waits until it answers.
func startStandIn(ctx context.Context, t *testing.T, l *Lab, n *Node, peers []standInPeer) *standIn {
	t.Helper()
	s := &standIn{l: l, node: n, dir: filepath.Join(l.Dir, "standin-"+n.Name)}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.start(ctx, t, peers)
	return s
}

func (s *standIn) start(ctx context.Context, t *testing.T, peers []standInPeer) {
	t.Helper()
	n := s.node
	var b strings.Builder
	fmt.Fprintf(&b, "log stderr all;\nrouter id %s;\nprotocol device {}\n", n.IPv4)
	b.WriteString("protocol bfd {\n  interface \"*\" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };\n" +
		"  multihop { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };\n}\n")
	fmt.Fprintf(&b, "protocol static a4 { ipv4; route %s blackhole { bgp_community.add((%d,100)); bgp_large_community.add((%d,1,2)); }; }\n",
		announcedV4, speakerASN, speakerASN)
	fmt.Fprintf(&b, "protocol static a6 { ipv6; route %s blackhole { bgp_community.add((%d,100)); bgp_large_community.add((%d,1,2)); }; }\n",
		announcedV6, speakerASN, speakerASN)
	for i, p := range peers {
		local, channel, static := n.IPv4, "ipv4", "a4"
		if p.addr.Is6() {
			local, channel, static = n.IPv6, "ipv6", "a6"
		}
		fmt.Fprintf(&b, "protocol bgp p%d {\n  local %s as %d;\n  neighbor %s as %d;\n", i, local, speakerASN, p.addr, p.asn)
		b.WriteString("  connect delay time 1;\n  connect retry time 2;\n  error wait time 1, 2;\n")
		if p.password != "" {
			fmt.Fprintf(&b, "  password \"%s\";\n", p.password)
		}
		if p.multihop > 0 {
			fmt.Fprintf(&b, "  multihop %d;\n", p.multihop)
		}
		if p.passive {
			b.WriteString("  passive on;\n")
		}
		if p.bfd {
			b.WriteString("  bfd on;\n")
		}
		fmt.Fprintf(&b, "  %s { import none; export where proto = \"%s\"; };\n}\n", channel, static)
	}
	conf := filepath.Join(s.dir, "bird.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(s.dir, "bird.ctl")
	_ = os.Remove(sock)
	p, err := s.l.StartProcess(n.Host, "standin", nil, "bird", "-f", "-c", conf, "-s", sock)
	if err != nil {
		t.Fatal(err)
	}
	s.proc = p
	eventually(t, 10*time.Second, n.Name+"'s stand-in speaker answering", func() error {
		if p.Exited() {
			t.Fatalf("stand-in speaker on %s exited:\n%s", n.Name, p.Tail(20))
		}
		out, err := run(ctx, "", "birdc", "-s", sock, "show", "status")
		if err == nil && !strings.Contains(out, "up and running") {
			err = errors.New(out)
		}
		return err
	})
}

func (s *standIn) restart(ctx context.Context, t *testing.T, peers []standInPeer) {
	t.Helper()
	if err := s.proc.StopGrace(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.start(ctx, t, peers)
}

// serveOnNodes puts the announced addresses on every node's loopback and
// serves the node's name over HTTP on them (port 80, in the node's
// namespace): the backend behind the routes.
func serveOnNodes(ctx context.Context, t *testing.T, l *Lab) {
	t.Helper()
	for _, n := range l.Nodes {
		if err := ipBatch(ctx, n.NS,
			fmt.Sprintf("addr add %s dev lo", announcedV4),
			fmt.Sprintf("addr add %s dev lo", announcedV6),
		); err != nil {
			t.Fatal(err)
		}
		ln, err := listenIn(n.NS, "[::]:80")
		if err != nil {
			t.Fatal(err)
		}
		name := n.Name
		srv := &http.Server{
			Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) }),
			ReadHeaderTimeout: 5 * time.Second,
		}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
}

// wantECMP checks that r routes prefix through exactly hops, with the
// stand-in speaker's attributes.
func wantRoute(ctx context.Context, r *Router, prefix netip.Prefix, hops ...netip.Addr) error {
	rt, ok, err := r.Route(ctx, prefix)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s has no route to %v", r.Name, prefix)
	}
	slices.SortFunc(hops, func(a, b netip.Addr) int { return a.Compare(b) })
	if diff := cmp.Diff(hops, rt.NextHops, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		return fmt.Errorf("%s's next hops for %v (-want +got):\n%s", r.Name, prefix, diff)
	}
	if !slices.Contains(rt.Communities, "64512:100") || !slices.Equal(rt.LargeCommunities, []string{"64512:1:2"}) ||
		!slices.Equal(rt.ASPath, []uint32{speakerASN}) || rt.LocalPref != 100 || rt.Origin != "IGP" || len(rt.Paths) != len(hops) {
		return fmt.Errorf("%s's route to %v: %+v", r.Name, prefix, rt)
	}
	return nil
}

func nodeAddrs(l *Lab, f model.Family, names ...string) []netip.Addr {
	var out []netip.Addr
	for _, n := range l.Nodes {
		if len(names) > 0 && !slices.Contains(names, n.Name) {
			continue
		}
		if f == model.IPv6 {
			out = append(out, n.IPv6)
		} else {
			out = append(out, n.IPv4)
		}
	}
	return out
}

// curlBoth fetches http://ip/ from host until both nodes have answered
// (routes hashed over two next hops), at most 40 tries.
func curlBoth(ctx context.Context, t *testing.T, l *Lab, from string, ip netip.Addr) {
	t.Helper()
	seen := map[string]int{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		body, err := l.CurlFrom(ctx, from, ip.String(), 80)
		if err != nil {
			t.Errorf("from %s to %s: %v", from, ip, err)
			return
		}
		if body != "node1" && body != "node2" {
			t.Fatalf("%s answered %q", ip, body)
		}
		seen[body]++
	}
	if len(seen) < 2 {
		t.Errorf("from %s, %s was always answered by %v; want both nodes (ECMP)", from, ip, seen)
	}
}

// TestRouters brings a two-node lab up with one router of each kind on
// the LAN (each with a client behind it) and an FRR router behind a
// transit host, and a stand-in speaker (BIRD) on each node announcing one
// address per family to all of them. It checks the routes (ECMP with the
// attributes), the session and BFD states, traffic from the outside
// clients through the routers, multihop, BFD reacting to a dead link,
// killing and restarting routers, MD5 passwords, and the teardown.
func TestRouters(t *testing.T) {
	l := ForTest(t, Options{Nodes: 2, NoController: true, Progress: logWriter{t}})
	ctx := context.Background()
	const md5 = "lab-md5"
	fastBFD := &BFDOptions{RxInterval: 100 * time.Millisecond, TxInterval: 100 * time.Millisecond, Multiplier: 3}

	nb := func(f model.Family, tmpl Neighbor) []Neighbor {
		return l.NodeNeighbors(f, tmpl)
	}
	both := func(asn uint32, v4, v6 Neighbor) []Neighbor {
		v4.ASN, v6.ASN = asn, asn
		return append(nb(model.IPv4, v4), nb(model.IPv6, v6)...)
	}
	specs := []RouterOptions{
		{Kind: FRR, ASN: 64500, Outside: true,
			Neighbors: both(speakerASN, Neighbor{Passive: true, Password: md5, BFD: fastBFD}, Neighbor{Passive: true, Password: md5})},
		{Kind: BIRD, ASN: 64501, Outside: true, IPv4: mustAddr("198.51.100.2"), IPv6: mustAddr("2001:db8:1::2"),
			Neighbors: both(speakerASN, Neighbor{Password: md5, BFD: fastBFD}, Neighbor{Password: md5})},
		{Kind: GoBGP, ASN: 64502, Outside: true, IPv4: mustAddr("198.51.100.3"), IPv6: mustAddr("2001:db8:1::3"),
			Neighbors: both(speakerASN, Neighbor{Password: md5, HoldTime: 9 * time.Second}, Neighbor{Password: md5, Passive: true})},
		{Kind: FRR, Name: "frrmh", ASN: 64503, Transit: "transit", IPv4: mustAddr("198.51.100.5"), IPv6: mustAddr("2001:db8:1::5"),
			Neighbors: nb(model.IPv4, Neighbor{ASN: speakerASN, Multihop: 3})},
	}
	routers := map[string]*Router{}
	for _, o := range specs {
		r, err := l.AddRouter(ctx, o)
		if err != nil {
			t.Fatalf("AddRouter %s: %v", o.Kind, err)
		}
		routers[r.Name] = r
	}
	frr, bird, gobgp, frrmh := routers["frr"], routers["bird"], routers["gobgp"], routers["frrmh"]
	if frrmh.Transit == nil || frrmh.Host.IPv4 != mustAddr("192.0.2.14") || frr.Outside.IPv4 != mustAddr("192.0.2.2") {
		t.Fatalf("link plan: frrmh at %v behind %v, frr's outside client at %v", frrmh.Host.IPv4, frrmh.Transit, frr.Outside.IPv4)
	}
	if got, err := l.Router("bird"); err != nil || got != bird {
		t.Fatalf("Router(bird) = %v, %v", got, err)
	}

	// What each node's stand-in peers with: passwords right at first.
	peersOf := func(pw string) []standInPeer {
		var ps []standInPeer
		for _, r := range []*Router{frr, bird, gobgp} {
			ps = append(ps,
				standInPeer{addr: r.Host.IPv4, asn: r.ASN, password: pw, bfd: r.Kind != GoBGP},
				standInPeer{addr: r.Host.IPv6, asn: r.ASN, password: pw})
		}
		return append(ps, standInPeer{addr: frrmh.Host.IPv4, asn: frrmh.ASN, multihop: 3, passive: true})
	}
	var speakers []*standIn
	for _, n := range l.Nodes {
		speakers = append(speakers, startStandIn(ctx, t, l, n, peersOf(md5)))
	}
	serveOnNodes(ctx, t, l)
	lan := []*Router{frr, bird, gobgp}

	t.Run("sessions", func(t *testing.T) {
		for _, r := range routers {
			if err := r.WaitEstablished(ctx, 30*time.Second); err != nil {
				t.Error(err)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("ECMP routes with attributes", func(t *testing.T) {
		for _, r := range lan {
			eventually(t, 15*time.Second, r.Name+" IPv4 ECMP", func() error {
				return wantRoute(ctx, r, announcedV4, nodeAddrs(l, model.IPv4)...)
			})
			eventually(t, 15*time.Second, r.Name+" IPv6 ECMP", func() error {
				return wantRoute(ctx, r, announcedV6, nodeAddrs(l, model.IPv6)...)
			})
		}
		eventually(t, 15*time.Second, "frrmh IPv4 ECMP through the transit", func() error {
			return wantRoute(ctx, frrmh, announcedV4, nodeAddrs(l, model.IPv4)...)
		})
		if rs, err := frrmh.Routes(ctx, model.IPv6); err != nil || len(rs) != 0 {
			t.Errorf("frrmh has IPv6 routes %v (%v); it has no IPv6 session", rs, err)
		}
	})

	t.Run("neighbours and BFD", func(t *testing.T) {
		for _, r := range routers {
			ns, err := r.Neighbors(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != len(r.Peers) {
				t.Errorf("%s lists %d neighbours; want %d: %+v", r.Name, len(ns), len(r.Peers), ns)
			}
			for _, n := range ns {
				// FRR 8.4 re-creates a BFD session once BGP is up (it
				// learns its local address then), which can reset the
				// session once.
				countOK := n.Established == 1
				switch {
				case r.Kind == BIRD:
					countOK = n.Established == -1
				case r.Kind == FRR && r.Peers[slices.IndexFunc(r.Peers, func(p Neighbor) bool { return p.Address == n.Address })].BFD != nil:
					countOK = n.Established >= 1
				}
				if !n.Up() || n.ASN != speakerASN || n.Received != 1 || !countOK || n.Uptime <= 0 || n.Uptime > time.Minute {
					t.Errorf("%s's neighbour %v: %+v", r.Name, n.Address, n)
				}
				wantBFD := ""
				if n.Address.Is4() && (r == frr || r == bird) {
					wantBFD = "up"
				}
				if n.BFD != wantBFD {
					t.Errorf("%s's neighbour %v: BFD %q, want %q", r.Name, n.Address, n.BFD, wantBFD)
				}
			}
		}
		eventually(t, 10*time.Second, "FRR's BFD peers up with the negotiated timers", func() error {
			ps, err := frr.BFDPeers(ctx)
			if err != nil {
				return err
			}
			if len(ps) != 2 {
				return fmt.Errorf("BFD peers %+v", ps)
			}
			for i, p := range ps {
				if p.Peer != l.Nodes[i].IPv4 || p.State != "up" || p.Multihop || p.RxInterval != 100*time.Millisecond ||
					p.TxInterval != 100*time.Millisecond || p.Multiplier != 3 || p.RemoteMultiplier != 3 || p.Uptime <= 0 {
					return fmt.Errorf("BFD peer %d: %+v", i, p)
				}
			}
			return nil
		})
		ps, err := bird.BFDPeers(ctx)
		if err != nil || len(ps) != 2 || ps[0].State != "up" || ps[1].State != "up" || ps[0].TxInterval != 100*time.Millisecond {
			t.Errorf("BIRD's BFD peers %+v, %v", ps, err)
		}
	})

	t.Run("forwarding from the outside clients", func(t *testing.T) {
		if err := gobgp.SyncFIB(ctx); err != nil {
			t.Fatal(err)
		}
		if err := frr.SyncFIB(ctx); err == nil {
			t.Error("SyncFIB accepted an FRR router")
		}
		for _, r := range lan {
			for _, p := range []netip.Prefix{announcedV4, announcedV6} {
				want := nodeAddrs(l, model.FamilyOf(p.Addr()))
				eventually(t, 10*time.Second, r.Name+" kernel route "+p.String(), func() error {
					got, err := r.KernelRoute(ctx, p)
					if err != nil {
						return err
					}
					if p.Addr().Is6() && len(got) == 2 && got[0].IsLinkLocalUnicast() {
						return nil // FRR and BIRD route IPv6 through the link-local next hops
					}
					if !slices.Equal(got, want) {
						return fmt.Errorf("gateways %v, want %v", got, want)
					}
					return nil
				})
				curlBoth(ctx, t, l, r.Outside.Name, p.Addr())
			}
		}
	})

	t.Run("multihop through a transit", func(t *testing.T) {
		gws, err := frrmh.KernelRoute(ctx, announcedV4)
		if err != nil || len(gws) != 1 || gws[0] != mustAddr("192.0.2.13") {
			t.Errorf("frrmh's kernel route to %v goes through %v (%v); want the transit 192.0.2.13", announcedV4, gws, err)
		}
		if err := l.Ping(ctx, "node1", frrmh.Host.IPv4.String()); err != nil {
			t.Errorf("node1 cannot reach frrmh through the transit: %v", err)
		}
	})

	t.Run("BFD notices a dead link", func(t *testing.T) {
		n1 := l.Nodes[0]
		before, err := frr.Neighbor(ctx, n1.IPv4)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.LinkDown(ctx, n1.Name); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		eventually(t, 3*time.Second, "FRR dropping node1 on BFD", func() error {
			n, err := frr.Neighbor(ctx, n1.IPv4)
			if err != nil {
				return err
			}
			if n.Up() || n.BFD == "up" {
				return fmt.Errorf("node1: %+v", n)
			}
			return wantRoute(ctx, frr, announcedV4, nodeAddrs(l, model.IPv4, "node2")...)
		})
		t.Logf("FRR withdrew node1's path %v after its link went down", time.Since(start).Round(10*time.Millisecond))
		if err := l.LinkUp(ctx, n1.Name); err != nil {
			t.Fatal(err)
		}
		if err := frr.WaitEstablished(ctx, 20*time.Second, n1.IPv4); err != nil {
			t.Fatal(err)
		}
		after, err := frr.Neighbor(ctx, n1.IPv4)
		if err != nil || after.Established != before.Established+1 || after.Uptime >= before.Uptime+time.Since(start) {
			t.Errorf("after the link came back: %+v (%v); before %+v", after, err, before)
		}
		for _, r := range routers {
			if err := r.WaitEstablished(ctx, 20*time.Second); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("kill and restart", func(t *testing.T) {
		old := frr.PIDs()
		if len(old) != 3 {
			t.Fatalf("FRR runs %v; want zebra, bfdd and bgpd", old)
		}
		if err := frr.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		for _, pid := range old {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("FRR daemon %d survived Kill (%v)", pid, err)
			}
		}
		if frr.Running() {
			t.Error("Running after Kill")
		}
		if gws, err := frr.KernelRoute(ctx, announcedV4); err != nil || len(gws) != 2 {
			t.Errorf("after SIGKILL the kernel route should stay: %v, %v", gws, err)
		}
		if err := frr.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(frr.PIDs(), func(p int) bool { return slices.Contains(old, p) }) {
			t.Errorf("Start kept old PIDs: %v, %v", old, frr.PIDs())
		}
		if err := frr.Start(ctx); err == nil {
			t.Error("Start on a running router succeeded")
		}
		if err := frr.WaitEstablished(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "FRR's routes back after a restart", func() error {
			return wantRoute(ctx, frr, announcedV4, nodeAddrs(l, model.IPv4)...)
		})
		n, err := frr.Neighbor(ctx, l.Nodes[0].IPv6) // no BFD: no extra reset
		if err != nil || n.Established != 1 {
			t.Errorf("a restarted FRR counts %d establishments (%v); want 1", n.Established, err)
		}

		if err := bird.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if gws, err := bird.KernelRoute(ctx, announcedV4); err != nil || len(gws) != 0 {
			t.Errorf("a stopped BIRD left its kernel route: %v, %v", gws, err)
		}
		if err := bird.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := bird.WaitEstablished(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "BIRD's kernel route back", func() error {
			gws, err := bird.KernelRoute(ctx, announcedV4)
			if err == nil && len(gws) != 2 {
				err = fmt.Errorf("gateways %v", gws)
			}
			return err
		})
	})

	t.Run("MD5", func(t *testing.T) {
		// node2's stand-in comes back with a wrong password: its sessions
		// with the LAN routers must stay down, while node1's stay up and
		// node2's unauthenticated multihop session comes back.
		speakers[1].restart(ctx, t, peersOf("wrong"))
		n1, n2 := l.Nodes[0], l.Nodes[1]
		if err := frrmh.WaitEstablished(ctx, 20*time.Second, n2.IPv4); err != nil {
			t.Fatalf("node2's stand-in is not back: %v", err)
		}
		for _, r := range lan {
			eventually(t, 15*time.Second, r.Name+" routing through node1 only", func() error {
				if err := wantRoute(ctx, r, announcedV4, n1.IPv4); err != nil {
					return err
				}
				return wantRoute(ctx, r, announcedV6, n1.IPv6)
			})
		}
		deadline := time.Now().Add(6 * time.Second)
		for time.Now().Before(deadline) {
			for _, r := range lan {
				ns, err := r.Neighbors(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range ns {
					isNode2 := n.Address == n2.IPv4 || n.Address == n2.IPv6
					if n.Up() == isNode2 {
						t.Fatalf("%s: neighbour %v is %s with node2's password wrong", r.Name, n.Address, n.State)
					}
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	parent := t
	t.Run("teardown", func(t *testing.T) {
		if parent.Failed() {
			l.opts.KeepDir = true // for the logs ForTest prints
		}
		var pids []int
		for _, r := range routers {
			pids = append(pids, r.PIDs()...)
		}
		for _, s := range speakers {
			pids = append(pids, s.proc.PID())
		}
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d still exists (kill 0: %v)", pid, err)
			}
		}
		if left, err := namespaces(l.Prefix); err != nil || len(left) > 0 {
			t.Errorf("namespaces left: %v (%v)", left, err)
		}
		if _, err := l.Router("frr"); err == nil {
			t.Error("the closed lab still lists its routers")
		}
	})
}

// TestRouterSecondLab covers what TestRouters has no room for (its four
// links are taken): the outside client's traffic for a LoadBalancer
// Service through an FRR router to node1 (the only node announcing the
// address), whose kube-proxy forwards it to the backend on node2 (BGP
// mode with externalTrafficPolicy Cluster); and a BIRD router behind a
// transit host.
func TestRouterSecondLab(t *testing.T) {
	l := ForTest(t, Options{Nodes: 2, NoController: true})
	ctx := context.Background()
	frr, err := l.AddRouter(ctx, RouterOptions{Kind: FRR, ASN: 64500, Outside: true,
		Neighbors: l.NodeNeighbors(model.IPv4, Neighbor{ASN: speakerASN, Passive: true})})
	if err != nil {
		t.Fatal(err)
	}
	birdmh, err := l.AddRouter(ctx, RouterOptions{Kind: BIRD, Name: "birdmh", ASN: 64501, Transit: "transit",
		IPv4: mustAddr("198.51.100.5"), IPv6: mustAddr("2001:db8:1::5"),
		Neighbors: l.NodeNeighbors(model.IPv4, Neighbor{ASN: speakerASN, Multihop: 3})})
	if err != nil {
		t.Fatal(err)
	}
	if birdmh.Host.IPv4 != mustAddr("192.0.2.6") || birdmh.RouterID != birdmh.Host.IPv4 {
		t.Fatalf("birdmh at %v, router ID %v; want 192.0.2.6 for both (link 1)", birdmh.Host.IPv4, birdmh.RouterID)
	}
	startStandIn(ctx, t, l, l.Nodes[0], []standInPeer{
		{addr: frr.Host.IPv4, asn: frr.ASN},
		{addr: birdmh.Host.IPv4, asn: birdmh.ASN, multihop: 3, passive: true},
	})

	t.Run("kube-proxy behind FRR", func(t *testing.T) {
		svc := cluster.LoadBalancer("default", "web")
		if err := l.Cluster.Client.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: announcedV4.Addr().String()}}
		if err := l.Cluster.Client.Status().Update(ctx, svc); err != nil {
			t.Fatal(err)
		}
		if err := l.Backends(ctx, svc, "node2"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "FRR routing the Service's address to node1", func() error {
			return wantRoute(ctx, frr, announcedV4, l.Nodes[0].IPv4)
		})
		eventually(t, 20*time.Second, "the outside client reaching node2's backend", func() error {
			body, err := l.CurlFrom(ctx, frr.Outside.Name, announcedV4.Addr().String(), 80)
			if err == nil && body != "node2" {
				t.Fatalf("answered by %q; want node2", body)
			}
			return err
		})
	})

	t.Run("BIRD behind a transit", func(t *testing.T) {
		if err := birdmh.WaitEstablished(ctx, 20*time.Second, l.Nodes[0].IPv4); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "birdmh's route and kernel route through the transit", func() error {
			if err := wantRoute(ctx, birdmh, announcedV4, l.Nodes[0].IPv4); err != nil {
				return err
			}
			gws, err := birdmh.KernelRoute(ctx, announcedV4)
			if err == nil && (len(gws) != 1 || gws[0] != mustAddr("192.0.2.5")) {
				err = fmt.Errorf("kernel route through %v; want the transit 192.0.2.5", gws)
			}
			return err
		})
		if rs, err := birdmh.Routes(ctx, model.IPv4); err != nil || len(rs) != 1 {
			t.Errorf("birdmh's IPv4 routes %+v (%v); want the BGP one only (not its static LAN route)", rs, err)
		}
	})
}

package migration

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/lab"
)

// ctrlBin is the controller binary built for this run (lab.RemoveBinaries
// only removes what the lab built itself).
var ctrlBin string

func TestMain(m *testing.M) {
	code := m.Run()
	lab.RemoveBinaries()
	if dir := filepath.Dir(ctrlBin); ctrlBin != "" && strings.HasPrefix(filepath.Base(dir), "ferrolb-bin-") {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// needLab skips the test (or fails it with FERROLB_REQUIRE_LAB=1) without
// root, the lab's tools or FRR's.
func needLab(t *testing.T) {
	t.Helper()
	lab.Need(t, "the migration lab test", lab.AptInstall+" "+strings.Join(lab.RouterPackages, " "),
		"ip", "nft", "arping", "ndisc6", "ping", "vtysh", "/usr/lib/frr/bgpd", "/usr/lib/frr/zebra")
}

// env is the test's view of its lab.
type env struct {
	t   *testing.T
	ctx context.Context
	l   *lab.Lab
	c   client.Client
	ns  string
	r   *lab.Router
}

// --- waiting -------------------------------------------------------------

// eventually, poll: lab.Waiter (every 200 ms; fails at once if the
// controller or a speaker exited).
func (e *env) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	e.waiter().Eventually(timeout, what, cond)
}

func (e *env) poll(timeout time.Duration, what string, cond func() (bool, string)) (bool, string) {
	e.t.Helper()
	return e.waiter().Poll(timeout, what, cond)
}

func (e *env) waiter() lab.Waiter {
	return lab.Waiter{T: e.t, Lab: e.l, Interval: 200 * time.Millisecond}
}

// --- Services ------------------------------------------------------------

func (e *env) get(name string) (*corev1.Service, error) {
	var s corev1.Service
	err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &s)
	return &s, err
}

// waitCondition waits until the Service's AddressAssigned condition has
// the given status (and reason, unless empty) and returns it.
func (e *env) waitCondition(name string, status metav1.ConditionStatus, reason string, timeout time.Duration) metav1.Condition {
	e.t.Helper()
	var got metav1.Condition
	e.eventually(timeout, fmt.Sprintf("%s=%s (%s) on %s", condType, status, reason, name), func() (bool, string) {
		s, err := e.get(name)
		if err != nil {
			return false, err.Error()
		}
		c := condition(s)
		if c == nil {
			return false, "no condition"
		}
		got = *c
		return c.Status == status && (reason == "" || c.Reason == reason) && c.ObservedGeneration == s.Generation,
			fmt.Sprintf("%s/%s: %s (generation %d, observed %d)", c.Status, c.Reason, c.Message, s.Generation, c.ObservedGeneration)
	})
	return got
}

// waitEvent waits for an event of the Service with this type, reason and
// message.
func (e *env) waitEvent(name, typ, reason, message string, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, fmt.Sprintf("a %s event %s %q on %s", typ, reason, message, name), func() (bool, string) {
		var list corev1.EventList
		if err := e.c.List(e.ctx, &list, client.InNamespace(e.ns)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, ev := range list.Items {
			if ev.InvolvedObject.Kind != "Service" || ev.InvolvedObject.Name != name {
				continue
			}
			if ev.Type == typ && ev.Reason == reason && ev.Message == message {
				return true, ""
			}
			seen = append(seen, fmt.Sprintf("%s %s %q", ev.Type, ev.Reason, ev.Message))
		}
		return false, fmt.Sprintf("events of %s: %v", name, seen)
	})
}

// --- layer 2 -------------------------------------------------------------

// waitAnswer waits until exactly one MAC, a node's (node's when node is
// not ""), answers for ip, and returns that node.
func (e *env) waitAnswer(ip, node string, timeout time.Duration) string {
	e.t.Helper()
	var got string
	want := node
	if want == "" {
		want = "one node"
	}
	e.eventually(timeout, fmt.Sprintf("%s to answer for %s", want, ip), func() (bool, string) {
		a, err := e.l.Resolve(e.ctx, ip)
		if err != nil {
			return false, err.Error()
		}
		got = a.Node
		ok := a.MACs == 1 && strings.HasPrefix(a.Node, "node") && (node == "" || a.Node == node)
		return ok, fmt.Sprintf("%d MACs answered, the first %q", a.MACs, a.Node)
	})
	return got
}

// waitHTTP waits until http://ip:port/ from the client answers with a
// backend's name (backend's when not "") and returns it.
func (e *env) waitHTTP(ip string, port int, backend string, timeout time.Duration) string {
	e.t.Helper()
	return e.waiter().HTTP(e.ctx, ip, port, backend, timeout)
}

// --- BGP -----------------------------------------------------------------

func (e *env) nodeAddrs(nodes []string) []netip.Addr {
	e.t.Helper()
	var out []netip.Addr
	for _, name := range nodes {
		n, err := e.l.Node(name)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, n.IPv4)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

// waitPaths waits until FRR holds ip's host route with exactly one path
// from each of nodes, each with the node as next hop, no AS path (iBGP),
// and the advertisement's LOCAL_PREF and communities.
func (e *env) waitPaths(ip string, nodes []string, timeout time.Duration) {
	e.t.Helper()
	a := netip.MustParseAddr(ip)
	prefix := netip.PrefixFrom(a, a.BitLen())
	want := e.nodeAddrs(nodes)
	e.eventually(timeout, fmt.Sprintf("FRR's paths to %v from %v", prefix, nodes), func() (bool, string) {
		rt, ok, err := e.r.Route(e.ctx, prefix)
		switch {
		case err != nil:
			return false, err.Error()
		case !ok:
			return false, "no route"
		}
		var peers []netip.Addr
		for _, p := range rt.Paths {
			peers = append(peers, p.Peer)
			switch {
			case p.NextHop != p.Peer:
				return false, fmt.Sprintf("path from %v has next hop %v", p.Peer, p.NextHop)
			case p.LocalPref != wantLocalPref:
				return false, fmt.Sprintf("path from %v has LOCAL_PREF %d, want %d", p.Peer, p.LocalPref, wantLocalPref)
			case len(p.ASPath) != 0:
				return false, fmt.Sprintf("path from %v has AS path %v, want none (iBGP)", p.Peer, p.ASPath)
			case !slices.Equal(p.Communities, wantCommunities):
				return false, fmt.Sprintf("path from %v has communities %v, want %v", p.Peer, p.Communities, wantCommunities)
			}
		}
		slices.SortFunc(peers, func(a, b netip.Addr) int { return a.Compare(b) })
		return slices.Equal(peers, want), fmt.Sprintf("paths from %v, want one from each of %v", peers, want)
	})
}

// routes lists FRR's IPv4 prefixes.
func (e *env) routes() ([]netip.Prefix, error) {
	rs, err := e.r.Routes(e.ctx, model.IPv4)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, rt := range rs {
		out = append(out, rt.Prefix)
	}
	return out, nil
}

// --- addresses -----------------------------------------------------------

func inRange(ip string, r [2]string) bool {
	a := netip.MustParseAddr(ip)
	lo, hi := netip.MustParseAddr(r[0]), netip.MustParseAddr(r[1])
	return a.BitLen() == lo.BitLen() && lo.Compare(a) <= 0 && a.Compare(hi) <= 0
}

package bgp

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// --- waiting -------------------------------------------------------------

// eventually, poll, never: lab.Waiter, with the speakers the test killed
// left out of its liveness check.
func (e *env) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	e.waiter().Eventually(timeout, what, cond)
}

func (e *env) poll(timeout time.Duration, what string, cond func() (bool, string)) (bool, string) {
	e.t.Helper()
	return e.waiter().Poll(timeout, what, cond)
}

func (e *env) never(d time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	e.waiter().Never(d, what, cond)
}

func (e *env) waiter() lab.Waiter { return lab.Waiter{T: e.t, Lab: e.l, Stopped: e.killed} }

// --- routers' RIBs -------------------------------------------------------

// hostPrefix is the host prefix of an address ("/32" or "/128").
func hostPrefix(ip string) netip.Prefix {
	a := netip.MustParseAddr(ip)
	return netip.PrefixFrom(a, a.BitLen())
}

func familyOf(p netip.Prefix) model.Family { return model.FamilyOf(p.Addr()) }

func describeRoute(rt lab.Route) string {
	return fmt.Sprintf("%v via %v (communities %v, large %v, localpref %d, AS path %v, %d paths)",
		rt.Prefix, rt.NextHops, rt.Communities, rt.LargeCommunities, rt.LocalPref, rt.ASPath, len(rt.Paths))
}

func describeRoutes(rs []lab.Route) string {
	var out []string
	for _, rt := range rs {
		out = append(out, describeRoute(rt))
	}
	return "[" + strings.Join(out, "; ") + "]"
}

// waitRoute waits until r has a route for prefix that check accepts
// (check returns "" when satisfied, else what is wrong) and returns it.
func (e *env) waitRoute(r *lab.Router, prefix netip.Prefix, timeout time.Duration, check func(lab.Route) string) lab.Route {
	e.t.Helper()
	var got lab.Route
	e.eventually(timeout, fmt.Sprintf("router %s's route to %v", r.Name, prefix), func() (bool, string) {
		rt, ok, err := r.Route(e.ctx, prefix)
		switch {
		case err != nil:
			return false, err.Error()
		case !ok:
			return false, "no route"
		}
		got = rt
		if bad := check(rt); bad != "" {
			return false, bad + ": " + describeRoute(rt)
		}
		return true, ""
	})
	return got
}

// waitNextHops waits until r's route for prefix has exactly the given
// nodes' addresses (of the prefix's family) as next hops, and returns it.
func (e *env) waitNextHops(r *lab.Router, prefix netip.Prefix, nodes []string, timeout time.Duration) lab.Route {
	e.t.Helper()
	want := e.nodeAddrs(familyOf(prefix), nodes...)
	return e.waitRoute(r, prefix, timeout, func(rt lab.Route) string {
		if !slices.Equal(rt.NextHops, want) {
			return fmt.Sprintf("next hops %v, want %v (%v)", rt.NextHops, want, nodes)
		}
		return ""
	})
}

// waitKernelRoute waits until r's kernel forwards prefix to exactly the
// given nodes' addresses (FRR and BIRD install their RIB themselves; a
// GoBGP router gets it copied). IPv4 only: IPv6 routes go through link-
// local addresses.
func (e *env) waitKernelRoute(r *lab.Router, prefix netip.Prefix, nodes []string, timeout time.Duration) {
	e.t.Helper()
	want := e.nodeAddrs(model.IPv4, nodes...)
	e.eventually(timeout, fmt.Sprintf("router %s's kernel route to %v through %v", r.Name, prefix, nodes), func() (bool, string) {
		if r.Kind == lab.GoBGP {
			if err := r.SyncFIB(e.ctx); err != nil {
				return false, err.Error()
			}
		}
		gws, err := r.KernelRoute(e.ctx, prefix)
		if err != nil {
			return false, err.Error()
		}
		return slices.Equal(gws, want), fmt.Sprint(gws)
	})
}

// waitNoRoute waits until r has no route for prefix.
func (e *env) waitNoRoute(r *lab.Router, prefix netip.Prefix, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, fmt.Sprintf("router %s without a route to %v", r.Name, prefix), func() (bool, string) {
		rt, ok, err := r.Route(e.ctx, prefix)
		if err != nil {
			return false, err.Error()
		}
		return !ok, describeRoute(rt)
	})
}

// neverRoute fails the test if r gets a route for prefix within d.
func (e *env) neverRoute(r *lab.Router, prefix netip.Prefix, d time.Duration) {
	e.t.Helper()
	e.never(d, fmt.Sprintf("router %s has a route to %v", r.Name, prefix), func() (bool, string) {
		rt, ok, err := r.Route(e.ctx, prefix)
		return err == nil && ok, describeRoute(rt)
	})
}

// waitSessions waits until r's sessions with the given nodes (of the
// family) are Established.
func (e *env) waitSessions(r *lab.Router, family model.Family, nodes []string, timeout time.Duration) {
	e.t.Helper()
	if err := r.WaitEstablished(e.ctx, timeout, e.nodeAddrs(family, nodes...)...); err != nil {
		e.t.Fatal(err)
	}
}

// --- traffic -------------------------------------------------------------

// curlVia fetches http://ip/ from the client behind r, once (a GoBGP
// router gets its RIB copied into its kernel first).
func (e *env) curlVia(r *lab.Router, ip string) (string, error) {
	if r.Outside == nil {
		e.t.Fatalf("router %s has no client behind it", r.Name)
	}
	if r.Kind == lab.GoBGP {
		if err := r.SyncFIB(e.ctx); err != nil {
			return "", err
		}
	}
	return e.l.CurlFrom(e.ctx, r.Outside.Name, ip, lab.BackendPort)
}

// waitHTTPVia waits until HTTP from the client behind r to ip is answered
// by the backend of one of the nodes (any node when none is given).
func (e *env) waitHTTPVia(r *lab.Router, ip string, timeout time.Duration, nodes ...string) string {
	e.t.Helper()
	var body string
	e.eventually(timeout, fmt.Sprintf("HTTP to %s from behind %s answered by %v", ip, r.Name, nodes), func() (bool, string) {
		b, err := e.curlVia(r, ip)
		if err != nil {
			return false, err.Error()
		}
		body = b
		if len(nodes) == 0 {
			return strings.HasPrefix(b, "node"), fmt.Sprintf("body %q", b)
		}
		return slices.Contains(nodes, b), fmt.Sprintf("body %q", b)
	})
	return body
}

// spread makes requests from the client behind r to ip (each a new
// connection, which the router hashes onto one of its next hops) until
// every node in want has answered or attempts run out, and fails the
// test if a node outside want answers or one in want never does. It
// returns the answers per node.
func (e *env) spread(r *lab.Router, ip string, want []string, attempts int) map[string]int {
	e.t.Helper()
	seen := map[string]int{}
	var errs []string
	for i := 0; i < attempts && len(seen) < len(want); i++ {
		b, err := e.curlVia(r, ip)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		seen[b]++
		if !slices.Contains(want, b) {
			e.t.Fatalf("HTTP to %s from behind %s answered by %q; want only %v (answers so far %v)", ip, r.Name, b, want, seen)
		}
	}
	if len(seen) < len(want) {
		e.t.Fatalf("HTTP to %s from behind %s: answers %v after %d requests, want each of %v (errors: %v)", ip, r.Name, seen, attempts, want, errs)
	}
	return seen
}

// --- ServiceBGPStatus ----------------------------------------------------

// statusesIn lists the ServiceBGPStatus objects of Services in namespace ns.
func (e *env) statusesIn(ctx context.Context, ns string) ([]v1beta1.ServiceBGPStatus, error) {
	var list v1beta1.ServiceBGPStatusList
	if err := e.c.List(ctx, &list, client.InNamespace(cluster.Namespace),
		client.MatchingLabels{"metallb.io/service-namespace": ns}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func describeStatuses(list []v1beta1.ServiceBGPStatus) string {
	var out []string
	for _, s := range list {
		out = append(out, fmt.Sprintf("%s{label node %q service %q; status node %q service %s/%s peers %v}",
			s.Name, s.Labels["metallb.io/node"], s.Labels["metallb.io/service-name"],
			s.Status.Node, s.Status.ServiceNamespace, s.Status.ServiceName, s.Status.Peers))
	}
	return fmt.Sprintf("%d objects %v", len(list), out)
}

// waitStatuses waits until svc's ServiceBGPStatus objects are exactly one
// per node of want, each labelled and filled in for that node and the
// Service, listing want[node] as its peers (sorted). An empty want means
// no object at all.
func (e *env) waitStatuses(svc *corev1.Service, want map[string][]string, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, fmt.Sprintf("the ServiceBGPStatus objects of %s to be %v", svc.Name, want), func() (bool, string) {
		all, err := e.statusesIn(e.ctx, svc.Namespace)
		if err != nil {
			return false, err.Error()
		}
		list := slices.DeleteFunc(all, func(s v1beta1.ServiceBGPStatus) bool {
			return s.Labels["metallb.io/service-name"] != svc.Name
		})
		if len(list) != len(want) {
			return false, describeStatuses(list)
		}
		for _, s := range list {
			node := s.Labels["metallb.io/node"]
			peers, ok := want[node]
			if !ok || s.Status.Node != node || s.Status.ServiceName != svc.Name ||
				s.Status.ServiceNamespace != svc.Namespace || !slices.Equal(s.Status.Peers, peers) ||
				!strings.HasPrefix(s.Name, "bgp-") {
				return false, describeStatuses(list)
			}
		}
		return true, ""
	})
}

// --- metrics -------------------------------------------------------------

// metricsPort is the speaker's default metrics port (HTTPS); each node
// namespace has its own port space.
const metricsPort = 9120

// scrape reads a node's speaker metrics (HTTPS, with the admin token, from
// inside the node's namespace) and returns every sample by its series as
// printed: `metallb_bgp_session_up{peer="198.51.100.1:179"}`.
func (e *env) scrape(node string) (map[string]float64, error) {
	out, err := e.l.Exec(e.ctx, node, "curl", "-sS", "-k", "--max-time", "3",
		"-H", "Authorization: Bearer "+e.l.Cluster.Config.BearerToken,
		"https://127.0.0.1:"+strconv.Itoa(metricsPort)+"/metrics")
	if err != nil {
		return nil, err
	}
	// A vector without series is not listed at all; this gauge always is.
	if !strings.Contains(out, "# TYPE metallb_k8s_client_config_loaded_bool gauge") {
		return nil, fmt.Errorf("not the speaker's metrics (%d bytes) from %s", len(out), node)
	}
	samples := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		samples[line[:i]] = v
	}
	return samples, nil
}

// peerSeries is the series of a per-peer BGP metric: the label is
// "address:port", as in MetalLB.
func peerSeries(name string, peer netip.Addr) string {
	return fmt.Sprintf("%s{peer=%q}", name, netip.AddrPortFrom(peer, 179).String())
}

// absent stands, in waitMetrics, for a series that must not exist.
const absent = -1

// waitMetrics waits until node's speaker reports each series with the
// wanted value (absent: no such series).
func (e *env) waitMetrics(node string, want map[string]float64, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, fmt.Sprintf("metrics of %s's speaker %v", node, want), func() (bool, string) {
		got, err := e.scrape(node)
		if err != nil {
			return false, err.Error()
		}
		var bad []string
		for _, k := range slices.Sorted(maps.Keys(want)) {
			v, ok := got[k]
			switch {
			case want[k] == absent && ok:
				bad = append(bad, fmt.Sprintf("%s = %v, want none", k, v))
			case want[k] != absent && !ok:
				bad = append(bad, fmt.Sprintf("%s missing, want %v", k, want[k]))
			case want[k] != absent && v != want[k]:
				bad = append(bad, fmt.Sprintf("%s = %v, want %v", k, v, want[k]))
			}
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	})
}

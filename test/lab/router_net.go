package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// The links behind routers: an outside client's link, or the link between
// a transit host and the router behind it. Link k is LinkPrefixV4(k) and
// LinkPrefixV6(k); its end nearer the LAN (the router, or the transit)
// has .4k+1 and ::1, the far end (the outside client, or the router
// behind the transit) .4k+2 and ::2. 192.0.2.0/28 is the part of PodsV4
// that no node's pods use.
var (
	LinksV4 = netip.MustParsePrefix("192.0.2.0/28")
	LinksV6 = netip.MustParsePrefix("2001:db8:3::/48")
)

// MaxLinks is how many links a lab's routers can have (outside clients
// plus transits).
const MaxLinks = 4

// LinkPrefixV4 is link k's IPv4 prefix, 192.0.2.4k/30 (k = 0..MaxLinks-1).
func LinkPrefixV4(k int) netip.Prefix {
	b := LinksV4.Addr().As4()
	b[3] = byte(4 * k)
	return netip.PrefixFrom(netip.AddrFrom4(b), 30)
}

// LinkPrefixV6 is link k's IPv6 prefix, 2001:db8:3:k::/64.
func LinkPrefixV6(k int) netip.Prefix {
	return netip.MustParsePrefix(fmt.Sprintf("2001:db8:3:%x::/64", k))
}

// linkEnds returns the near (LAN side) and far addresses of link k.
func linkEnds(k int) (near4, far4, near6, far6 netip.Addr) {
	p4, p6 := LinkPrefixV4(k), LinkPrefixV6(k)
	return nth(p4, 1), nth(p4, 2), nth(p6, 1), nth(p6, 2)
}

// forwarding are the sysctls of a host that routes: forwarding on, no
// reverse path filter, and multipath routes hashed on ports too (so
// several connections spread over the next hops).
var forwarding = map[string]string{
	"ipv4/ip_forward":                "1",
	"ipv6/conf/all/forwarding":       "1",
	"ipv4/conf/all/rp_filter":        "0",
	"ipv4/conf/default/rp_filter":    "0",
	"ipv4/fib_multipath_hash_policy": "1",
	"ipv6/fib_multipath_hash_policy": "1",
}

// checkRouterNames rejects a router whose hosts' names are taken or
// invalid, or whose LAN addresses another host has.
func (l *Lab) checkRouterNames(o RouterOptions) error {
	names := []string{o.Name}
	if o.Transit != "" {
		names = append(names, o.Transit)
	}
	if o.Outside {
		names = append(names, o.Name+"-out")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range names {
		if !hostName.MatchString(n) || n == bridge || n == "lan" || strings.HasSuffix(n, "-pod") {
			return fmt.Errorf("lab: bad host name %q (want [a-z][a-z0-9-]*, at most 15 characters, not lan, br0 or *-pod)", n)
		}
		if _, dup := l.hosts[n]; dup {
			return fmt.Errorf("lab: host %s exists", n)
		}
	}
	for _, h := range l.hosts {
		if h.IPv4 == o.IPv4 || h.IPv6 == o.IPv6 {
			return fmt.Errorf("lab: router %s: %v or %v is %s's", o.Name, o.IPv4, o.IPv6, h.Name)
		}
	}
	return nil
}

// plumbRouter makes the router's namespaces and links.
func (l *Lab) plumbRouter(ctx context.Context, rs *routerSet, r *Router) error {
	o := r.opts
	if o.Transit == "" {
		h, err := l.AddHost(ctx, o.Name, o.IPv4, o.IPv6)
		if err != nil {
			return err
		}
		if err := writeSysctls(h.NS, forwarding); err != nil {
			return err
		}
		r.Host = h
	} else {
		t, err := l.AddHost(ctx, o.Transit, o.IPv4, o.IPv6)
		if err != nil {
			return err
		}
		if err := writeSysctls(t.NS, forwarding); err != nil {
			return err
		}
		r.Transit = t
		var k int
		if r.Host, k, err = l.addLink(ctx, rs, t, o.Name); err != nil {
			return err
		}
		if err := writeSysctls(r.Host.NS, forwarding); err != nil {
			return err
		}
		// The LAN through the transit, besides the default route: FRR
		// does not resolve neighbours or next hops through a default
		// route.
		n4, _, n6, _ := linkEnds(k)
		if err := ipBatch(ctx, r.Host.NS,
			fmt.Sprintf("route add %s via %s", LANv4, n4),
			fmt.Sprintf("route add %s via %s", LANv6, n6),
		); err != nil {
			return err
		}
	}
	if o.Outside {
		var err error
		if r.Outside, _, err = l.addLink(ctx, rs, r.Host, o.Name+"-out"); err != nil {
			return err
		}
	}
	return nil
}

// addLink makes host name behind LAN host near on the next free link: a
// namespace whose eth0 is the far end, with default routes through near.
// Every node routes the link through near's LAN addresses. It returns the
// host and the link's number.
func (l *Lab) addLink(ctx context.Context, rs *routerSet, near *Host, name string) (*Host, int, error) {
	if rs.links >= MaxLinks {
		return nil, 0, fmt.Errorf("lab: %s: all %d router links (%v) are taken", name, MaxLinks, LinksV4)
	}
	k := rs.links
	rs.links++
	n4, f4, n6, f6 := linkEnds(k)
	p4, p6 := LinkPrefixV4(k), LinkPrefixV6(k)
	h := &Host{Name: name, NS: l.Prefix + "-" + name, IPv4: f4, IPv6: f6, MAC: LANMAC(f4)}
	if err := l.addNamespace(ctx, h.NS); err != nil {
		return nil, 0, err
	}
	if err := ipBatch(ctx, near.NS,
		"link add eth1 type veth peer name eth0 netns "+h.NS,
		fmt.Sprintf("addr add %s/%d dev eth1", n4, p4.Bits()),
		fmt.Sprintf("addr add %s/%d dev eth1 nodad", n6, p6.Bits()),
		"link set eth1 up",
	); err != nil {
		return nil, 0, err
	}
	if err := ipBatch(ctx, h.NS,
		"link set lo up",
		fmt.Sprintf("link set eth0 address %s up", h.MAC),
		fmt.Sprintf("addr add %s/%d dev eth0", f4, p4.Bits()),
		fmt.Sprintf("addr add %s/%d dev eth0 nodad", f6, p6.Bits()),
		"route add default via "+n4.String(),
		"route add default via "+n6.String(),
	); err != nil {
		return nil, 0, err
	}
	for _, n := range l.Nodes {
		if err := ipBatch(ctx, n.NS,
			fmt.Sprintf("route add %s via %s", p4, near.IPv4),
			fmt.Sprintf("route add %s via %s", p6, near.IPv6),
		); err != nil {
			return nil, 0, err
		}
	}
	l.mu.Lock()
	l.hosts[name] = h
	l.mu.Unlock()
	return h, k, nil
}

// kernelRoute returns the gateways of the kernel route to prefix in
// namespace ns (nil when there is none).
func kernelRoute(ctx context.Context, ns string, prefix netip.Prefix) ([]netip.Addr, error) {
	fam := "-4"
	if prefix.Addr().Is6() {
		fam = "-6"
	}
	out, err := run(ctx, "", "ip", "-n", ns, "-j", fam, "route", "show", "exact", prefix.String())
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Gateway  string `json:"gateway"`
		NHID     int    `json:"nhid"`
		Nexthops []struct {
			Gateway string `json:"gateway"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return nil, fmt.Errorf("lab: ip route %s: %w", prefix, err)
	}
	var gws []string
	for _, rt := range routes {
		switch {
		case len(rt.Nexthops) > 0:
			for _, nh := range rt.Nexthops {
				gws = append(gws, nh.Gateway)
			}
		case rt.Gateway != "":
			gws = append(gws, rt.Gateway)
		case rt.NHID != 0:
			g, err := nexthopGateways(ctx, ns, rt.NHID)
			if err != nil {
				return nil, err
			}
			gws = append(gws, g...)
		}
	}
	var addrs []netip.Addr
	for _, g := range gws {
		a, err := netip.ParseAddr(g)
		if err != nil {
			return nil, fmt.Errorf("lab: ip route %s: gateway %q: %w", prefix, g, err)
		}
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	return addrs, nil
}

// nexthopGateways resolves a kernel nexthop object (or group) into its
// gateways.
func nexthopGateways(ctx context.Context, ns string, id int) ([]string, error) {
	out, err := run(ctx, "", "ip", "-n", ns, "-j", "nexthop", "show", "id", strconv.Itoa(id))
	if err != nil {
		return nil, err
	}
	// One object (or a list of one, depending on the iproute2 version).
	type nh struct {
		Gateway string `json:"gateway"`
		Group   []struct {
			ID int `json:"id"`
		} `json:"group"`
	}
	var objs []nh
	if err := json.Unmarshal(bytes.TrimSpace([]byte(out)), &objs); err != nil {
		var one nh
		if err2 := json.Unmarshal([]byte(out), &one); err2 != nil {
			return nil, fmt.Errorf("lab: ip nexthop %d: %w", id, err)
		}
		objs = []nh{one}
	}
	var gws []string
	for _, o := range objs {
		if o.Gateway != "" {
			gws = append(gws, o.Gateway)
		}
		for _, m := range o.Group {
			g, err := nexthopGateways(ctx, ns, m.ID)
			if err != nil {
				return nil, err
			}
			gws = append(gws, g...)
		}
	}
	return gws, nil
}

// killStaleRouterDaemons ends router daemons left by crashed runs. FRR's
// daemons drop root, which clears their parent-death signal, so if a lab's
// process dies without Close they outlive it. Every daemon writes a PID
// file into its run's directory (<tmp>/flab-<pid>-<hex>/routers/<name>/);
// for runs whose owning process is gone, each recorded PID is killed — by
// PID, from our own records, and only if that process still names the
// run's directory on its command line (so a reused PID is never hit).
// Daemons of live runs are never touched.
func killStaleRouterDaemons() {
	tmp := filepath.Clean(os.TempDir())
	runs, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, run := range runs {
		m := prefixPattern.FindStringSubmatch(run.Name())
		if m == nil || !run.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join("/proc", m[2])); !os.IsNotExist(err) {
			continue // the run's owner is alive
		}
		dir := filepath.Join(tmp, run.Name())
		pidFiles, _ := filepath.Glob(filepath.Join(dir, "routers", "*", "*.pid"))
		for _, pf := range pidFiles {
			b, err := os.ReadFile(pf)
			if err != nil {
				continue
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || pid <= 1 {
				continue
			}
			cmd, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
			if err != nil || !strings.Contains(string(cmd), dir+"/") {
				continue
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

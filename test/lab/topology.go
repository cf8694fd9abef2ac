package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
)

// bridge is the switch of the LAN, in the LAN namespace.
const bridge = "br0"

// Host is a network namespace with one interface, eth0, on the LAN. Its
// port on the bridge (in the LAN namespace) carries the host's name.
type Host struct {
	Name string // "node1", "client", "router"...
	NS   string // network namespace
	IPv4 netip.Addr
	IPv6 netip.Addr
	MAC  net.HardwareAddr
}

var hostName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,14}$`)

// createLAN makes the LAN namespace holding the bridge. IPv6 is off there
// so the switch itself stays silent.
func (l *Lab) createLAN(ctx context.Context) error {
	if err := l.addNamespace(ctx, l.LAN); err != nil {
		return err
	}
	if err := writeSysctls(l.LAN, map[string]string{
		"ipv6/conf/all/disable_ipv6":     "1",
		"ipv6/conf/default/disable_ipv6": "1",
	}); err != nil {
		return err
	}
	return ipBatch(ctx, l.LAN,
		"link set lo up",
		"link add "+bridge+" type bridge mcast_snooping 0",
		"link set "+bridge+" up",
	)
}

// addNamespace creates a network namespace and records it for teardown.
func (l *Lab) addNamespace(ctx context.Context, ns string) error {
	if _, err := run(ctx, "", "ip", "netns", "add", ns); err != nil {
		return err
	}
	l.mu.Lock()
	l.namespaces = append(l.namespaces, ns)
	l.mu.Unlock()
	// Static addresses are usable at once: no duplicate address detection.
	return writeSysctls(ns, map[string]string{
		"ipv6/conf/all/accept_dad":     "0",
		"ipv6/conf/default/accept_dad": "0",
	})
}

// AddHost attaches a new namespace to the LAN with the given addresses
// (inside LANv4 and LANv6) and the MAC LANMAC(v4), and no other route. It
// is how nodes and the client are made, and how a router joins later
// (RouterIPv4, RouterIPv6 are kept for it). The names "lan", "br0" and
// "*-pod" are taken.
func (l *Lab) AddHost(ctx context.Context, name string, v4, v6 netip.Addr) (*Host, error) {
	if !hostName.MatchString(name) || name == bridge || name == "lan" || strings.HasSuffix(name, "-pod") {
		return nil, fmt.Errorf("lab: bad host name %q (want [a-z][a-z0-9-]*, at most 15 characters, not lan, br0 or *-pod)", name)
	}
	if !LANv4.Contains(v4) || !LANv6.Contains(v6) {
		return nil, fmt.Errorf("lab: host %s: %v and %v must be inside %v and %v", name, v4, v6, LANv4, LANv6)
	}
	l.mu.Lock()
	_, dup := l.hosts[name]
	l.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("lab: host %s exists", name)
	}
	h := &Host{Name: name, NS: l.Prefix + "-" + name, IPv4: v4, IPv6: v6, MAC: LANMAC(v4)}
	if err := l.addNamespace(ctx, h.NS); err != nil {
		return nil, err
	}
	if err := ipBatch(ctx, l.LAN,
		fmt.Sprintf("link add %s type veth peer name eth0 netns %s", name, h.NS),
		fmt.Sprintf("link set %s master %s up", name, bridge),
	); err != nil {
		return nil, err
	}
	cmds := []string{
		"link set lo up",
		fmt.Sprintf("link set eth0 address %s up", h.MAC),
		fmt.Sprintf("addr add %s/%d dev eth0", v4, LANv4.Bits()),
		fmt.Sprintf("addr add %s/%d dev eth0 nodad", v6, LANv6.Bits()),
	}
	if err := ipBatch(ctx, h.NS, cmds...); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.hosts[name] = h
	l.mu.Unlock()
	return h, nil
}

// addNode makes node i of n: a LAN host forwarding packets, its pod
// namespace behind a veth pair, static routes to the other nodes' pods, and
// on-link routes to the pool ranges and the Service ranges (so locally sent
// packets to a cluster IP get as far as kube-proxy's rules).
func (l *Lab) addNode(ctx context.Context, i, n int, serviceCIDRs []netip.Prefix) (*Node, error) {
	h, err := l.AddHost(ctx, NodeName(i), NodeIPv4(i), NodeIPv6(i))
	if err != nil {
		return nil, err
	}
	node := &Node{Host: h, Index: i, PodNS: h.NS + "-pod", PodIPv4: PodIPv4(i), PodIPv6: PodIPv6(i)}
	if err := writeSysctls(h.NS, map[string]string{
		"ipv4/ip_forward":             "1",
		"ipv6/conf/all/forwarding":    "1",
		"ipv4/conf/all/rp_filter":     "0",
		"ipv4/conf/default/rp_filter": "0",
	}); err != nil {
		return nil, err
	}
	if err := l.addNamespace(ctx, node.PodNS); err != nil {
		return nil, err
	}
	cmds := []string{
		"link add veth-pod type veth peer name eth0 netns " + node.PodNS,
		fmt.Sprintf("addr add %s/%d dev veth-pod", podGatewayV4(i), PodPrefixV4(i).Bits()),
		fmt.Sprintf("addr add %s/%d dev veth-pod nodad", podGatewayV6(i), PodPrefixV6(i).Bits()),
		"link set veth-pod up",
	}
	for j := 1; j <= n; j++ {
		if j != i {
			cmds = append(cmds,
				fmt.Sprintf("route add %s via %s dev eth0", PodPrefixV4(j), NodeIPv4(j)),
				fmt.Sprintf("route add %s via %s dev eth0", PodPrefixV6(j), NodeIPv6(j)))
		}
	}
	for _, p := range append(serviceCIDRs, l.onLink...) {
		cmds = append(cmds, fmt.Sprintf("route add %s dev eth0", p))
	}
	if err := ipBatch(ctx, h.NS, cmds...); err != nil {
		return nil, err
	}
	if err := ipBatch(ctx, node.PodNS,
		"link set lo up",
		"link set eth0 up",
		fmt.Sprintf("addr add %s/%d dev eth0", node.PodIPv4, PodPrefixV4(i).Bits()),
		fmt.Sprintf("addr add %s/%d dev eth0 nodad", node.PodIPv6, PodPrefixV6(i).Bits()),
		fmt.Sprintf("route add default via %s", podGatewayV4(i)),
		fmt.Sprintf("route add default via %s", podGatewayV6(i)),
	); err != nil {
		return nil, err
	}
	return node, nil
}

// LinkDown takes a host's LAN link down at the switch: its port on the
// bridge goes down and the host's eth0 loses carrier. Nothing reaches the
// host or leaves it; its processes keep running.
func (l *Lab) LinkDown(ctx context.Context, host string) error { return l.setPort(ctx, host, "down") }

// LinkUp undoes LinkDown.
func (l *Lab) LinkUp(ctx context.Context, host string) error { return l.setPort(ctx, host, "up") }

func (l *Lab) setPort(ctx context.Context, host, state string) error {
	if _, err := l.Host(host); err != nil {
		return err
	}
	return ipBatch(ctx, l.LAN, "link set "+host+" "+state)
}

// AddLANAddress adds ip (as a /32 or /128) to a host's eth0: the host then
// answers ARP or NDP for it, like an announcement done by the kernel.
func (l *Lab) AddLANAddress(ctx context.Context, host string, ip netip.Addr) error {
	return l.lanAddress(ctx, host, "add", ip)
}

// DelLANAddress removes an address AddLANAddress added.
func (l *Lab) DelLANAddress(ctx context.Context, host string, ip netip.Addr) error {
	return l.lanAddress(ctx, host, "del", ip)
}

func (l *Lab) lanAddress(ctx context.Context, host, op string, ip netip.Addr) error {
	h, err := l.Host(host)
	if err != nil {
		return err
	}
	opts := ""
	if ip.Is6() && op == "add" {
		opts = " nodad"
	}
	return ipBatch(ctx, h.NS, fmt.Sprintf("addr %s %s/%d dev eth0%s", op, ip, ip.BitLen(), opts))
}

// addClient makes the client: a LAN host that also reaches the pool ranges
// on-link.
func (l *Lab) addClient(ctx context.Context) error {
	h, err := l.AddHost(ctx, "client", ClientIPv4, ClientIPv6)
	if err != nil {
		return err
	}
	var cmds []string
	for _, p := range l.onLink {
		cmds = append(cmds, fmt.Sprintf("route add %s dev eth0", p))
	}
	if len(cmds) > 0 {
		if err := ipBatch(ctx, h.NS, cmds...); err != nil {
			return err
		}
	}
	l.Client = h
	return nil
}

// Exec runs a program inside a host's namespace (with its /sys) and
// returns its combined output; at most 10 s.
func (l *Lab) Exec(ctx context.Context, host, name string, args ...string) (string, error) {
	h, err := l.Host(host)
	if err != nil {
		return "", err
	}
	return nsExec(ctx, h.NS, name, args...)
}

// Host returns a host of the LAN by name.
func (l *Lab) Host(name string) (*Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.hosts[name]
	if !ok {
		return nil, fmt.Errorf("lab: no host %q", name)
	}
	return h, nil
}

// parsePrefixes parses a comma-separated list of CIDRs.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

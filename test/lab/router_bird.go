package lab

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// birdImpl runs BIRD 2 as root, with a kernel protocol per family that
// exports the BGP routes (merge paths: one multipath route per prefix).
type birdImpl struct{}

func (birdImpl) tools() []string { return []string{"bird", "birdc"} }

func (birdImpl) check(o RouterOptions) error {
	for _, n := range o.Neighbors {
		if n.BFD != nil && n.BFD.EchoInterval > 0 {
			return fmt.Errorf("lab: router %s: BIRD has no BFD echo mode (neighbour %v)", o.Name, n.Address)
		}
	}
	return nil
}

func (birdImpl) configure(r *Router) error {
	var gw4, gw6 netip.Addr
	if r.Transit != nil {
		gw4, gw6 = transitGateways(r)
	}
	text := birdConfig(r.RouterID, r.ASN, r.Peers, r.maxPaths(), gw4, gw6)
	if err := os.WriteFile(filepath.Join(r.Dir, "bird.conf"), []byte(text), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// transitGateways returns the transit's addresses on the link of a
// router behind it.
func transitGateways(r *Router) (gw4, gw6 netip.Addr) {
	p4 := netip.PrefixFrom(r.Host.IPv4, LinkPrefixV4(0).Bits()).Masked()
	p6 := netip.PrefixFrom(r.Host.IPv6, LinkPrefixV6(0).Bits()).Masked()
	return nth(p4, 1), nth(p6, 1)
}

func (birdImpl) daemons(r *Router) []daemon {
	return []daemon{{
		name: "bird", bin: "bird",
		args:    []string{"-f", "-c", filepath.Join(r.Dir, "bird.conf"), "-s", birdSocket(r), "-P", filepath.Join(r.Dir, "bird.pid")},
		sockets: []string{birdSocket(r)},
	}}
}

func birdSocket(r *Router) string { return filepath.Join(r.Dir, "bird.ctl") }

// birdProtocol names the BGP protocol of a neighbour: n<i>.
func birdProtocol(i int) string { return fmt.Sprintf("n%d", i) }

// birdConfig is BIRD's configuration. Behind a transit (gw4/gw6 valid),
// static routes to the LAN through it let BIRD resolve the multihop next
// hops. Sessions retry fast after errors (BIRD waits a minute by default).
func birdConfig(id netip.Addr, asn uint32, ns []Neighbor, maxPaths int, gw4, gw6 netip.Addr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "log stderr all;\nrouter id %s;\n", id)
	for _, t := range []string{"base", "log", "protocol", "route"} {
		fmt.Fprintf(&b, "timeformat %s iso long ms;\n", t)
	}
	b.WriteString("protocol device {}\n")
	merge := fmt.Sprintf("on limit %d", maxPaths)
	if maxPaths <= 1 {
		merge = "off"
	}
	for _, f := range []string{"ipv4", "ipv6"} {
		fmt.Fprintf(&b, "protocol kernel k%s {\n  %s { import none; export where source = RTS_BGP; };\n  merge paths %s;\n}\n",
			f[3:], f, merge)
	}
	if gw4.IsValid() {
		fmt.Fprintf(&b, "protocol static lan4 { ipv4; route %s via %s; }\n", LANv4, gw4)
		fmt.Fprintf(&b, "protocol static lan6 { ipv6; route %s via %s; }\n", LANv6, gw6)
	}
	if i := slices.IndexFunc(ns, func(n Neighbor) bool { return n.BFD != nil }); i >= 0 {
		t := ns[i].BFD
		timers := fmt.Sprintf("min rx interval %d ms; min tx interval %d ms; multiplier %d;",
			t.RxInterval.Milliseconds(), t.TxInterval.Milliseconds(), t.Multiplier)
		fmt.Fprintf(&b, "protocol bfd {\n  interface \"*\" { %s };\n  multihop { %s };\n}\n", timers, timers)
	}
	for i, n := range ns {
		fmt.Fprintf(&b, "protocol bgp %s {\n  local as %d;\n  neighbor %s as %d;\n", birdProtocol(i), asn, n.Address, n.ASN)
		b.WriteString("  connect delay time 1;\n  connect retry time 5;\n  error wait time 1, 5;\n")
		if n.Passive {
			b.WriteString("  passive on;\n")
		}
		if n.Password != "" {
			fmt.Fprintf(&b, "  password \"%s\";\n", n.Password)
		}
		if n.Multihop > 0 {
			fmt.Fprintf(&b, "  multihop %d;\n", n.Multihop)
		}
		if n.HoldTime > 0 {
			hold := int(n.HoldTime / time.Second)
			fmt.Fprintf(&b, "  hold time %d;\n  keepalive time %d;\n", hold, max(hold/3, 1))
		}
		if n.BFD != nil {
			b.WriteString("  bfd on;\n")
		}
		if n.GracefulRestart {
			b.WriteString("  graceful restart on;\n")
		}
		for _, f := range n.Families {
			fmt.Fprintf(&b, "  %s { import all; export none; };\n", birdChannel(f))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func birdChannel(f model.Family) string {
	if f == model.IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// birdc runs a birdc command (its words) against the router.
func (r *Router) birdc(ctx context.Context, words ...string) (string, error) {
	return run(ctx, "", "birdc", append([]string{"-s", birdSocket(r)}, words...)...)
}

func (birdImpl) ready(ctx context.Context, r *Router) error {
	out, err := r.birdc(ctx, "show", "status")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Daemon is up and running") {
		return fmt.Errorf("BIRD status: %s", out)
	}
	return nil
}

func (birdImpl) routes(ctx context.Context, r *Router, f model.Family) ([]Route, error) {
	table := "master4"
	if f == model.IPv6 {
		table = "master6"
	}
	out, err := r.birdc(ctx, "show", "route", "all", "table", table)
	if err != nil {
		return nil, err
	}
	peers := map[string]netip.Addr{}
	for i, n := range r.Peers {
		peers[birdProtocol(i)] = n.Address
	}
	return parseBIRDRoutes(out, peers)
}

// parseBIRDRoutes reads `birdc show route all` (BIRD 2): a line per route
// ("<prefix> unicast [<proto> <since>] * (<pref>) [...]", the prefix left
// out for further routes of the same prefix) followed by tab-indented
// attribute lines. Only BGP routes count; the primary one (*) is best.
// peers maps protocol names to neighbour addresses.
func parseBIRDRoutes(out string, peers map[string]netip.Addr) ([]Route, error) {
	type pending struct {
		prefix netip.Prefix
		paths  []Path
	}
	var (
		routes []Route
		cur    *pending
		path   *Path
		isBGP  bool
	)
	endPath := func() {
		if path != nil && isBGP && cur != nil {
			cur.paths = append(cur.paths, *path)
		}
		path, isBGP = nil, false
	}
	endPrefix := func() {
		endPath()
		if cur != nil && len(cur.paths) > 0 {
			routes = append(routes, finishRoute(cur.prefix, cur.paths, nil))
		}
		cur = nil
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "", strings.HasPrefix(line, "BIRD "), strings.HasPrefix(line, "Table "):
			continue
		case strings.HasPrefix(line, "\t"):
			if path == nil {
				continue
			}
			if err := birdAttribute(path, &isBGP, strings.TrimSpace(line)); err != nil {
				return nil, err
			}
		default:
			fields := strings.Fields(line)
			if !strings.HasPrefix(line, " ") {
				endPrefix()
				p, err := netip.ParsePrefix(fields[0])
				if err != nil {
					return nil, fmt.Errorf("BIRD routes: %q: %w", line, err)
				}
				cur = &pending{prefix: p}
				fields = fields[1:]
			} else {
				endPath()
			}
			if cur == nil {
				return nil, fmt.Errorf("BIRD routes: route line without a prefix: %q", line)
			}
			path = &Path{LocalPref: 100, Best: slices.Contains(fields, "*")}
			if i := slices.IndexFunc(fields, func(f string) bool { return strings.HasPrefix(f, "[") }); i >= 0 {
				path.Peer = peers[strings.TrimPrefix(fields[i], "[")]
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	endPrefix()
	return routes, nil
}

// birdAttribute applies one attribute line of a BIRD route to p.
func birdAttribute(p *Path, isBGP *bool, line string) error {
	key, val, ok := strings.Cut(line, ":")
	if !ok {
		return nil // "via 198.51.100.11 on eth0" and the like
	}
	val = strings.TrimSpace(val)
	var err error
	switch key {
	case "Type":
		*isBGP = strings.HasPrefix(val, "BGP")
	case "BGP.origin":
		p.Origin = normOrigin(val)
	case "BGP.as_path":
		p.ASPath, err = parseASPath(val)
	case "BGP.next_hop":
		// An IPv6 next hop may come with its link-local address.
		if f := strings.Fields(val); len(f) > 0 {
			p.NextHop, err = netip.ParseAddr(f[0])
		}
	case "BGP.local_pref":
		p.LocalPref, err = parseUint32(val)
	case "BGP.med":
		p.MED, err = parseUint32(val)
	case "BGP.community":
		p.Communities = sorted(birdTuples(val))
	case "BGP.large_community":
		p.LargeCommunities = sorted(birdTuples(val))
	}
	if err != nil {
		return fmt.Errorf("BIRD routes: %q: %w", line, err)
	}
	return nil
}

// birdTuples turns "(64512,100) (64512, 200)" into ["64512:100",
// "64512:200"].
func birdTuples(s string) []string {
	var out []string
	for _, t := range strings.Split(s, "(")[1:] {
		t, _, _ = strings.Cut(t, ")")
		parts := strings.Split(t, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		out = append(out, strings.Join(parts, ":"))
	}
	return out
}

func parseUint32(s string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	return uint32(n), err
}

func (birdImpl) neighbors(ctx context.Context, r *Router) ([]NeighborStatus, error) {
	out, err := r.birdc(ctx, "show", "protocols", "all")
	if err != nil {
		return nil, err
	}
	ns, err := parseBIRDProtocols(out, time.Now())
	if err != nil {
		return nil, err
	}
	bfd, err := birdImpl{}.bfdPeers(ctx, r)
	if err != nil {
		return nil, err
	}
	addBFDStates(ns, bfd)
	return ns, nil
}

// birdTime reads a BIRD time in the "iso long ms" format (local time).
func birdTime(date, clock string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02 15:04:05.000", date+" "+clock, time.Local)
}

// parseBIRDProtocols reads `birdc show protocols all`: a header line per
// protocol ("<name> <proto> <table> <state> <since date> <since time>
// <info>") and indented details. Only BGP protocols count.
func parseBIRDProtocols(out string, now time.Time) ([]NeighborStatus, error) {
	var (
		ns    []NeighborStatus
		cur   *NeighborStatus
		since time.Time
	)
	end := func() {
		if cur != nil {
			if cur.Up() && !since.IsZero() {
				cur.Uptime = max(now.Sub(since), 0)
			}
			ns = append(ns, *cur)
		}
		cur = nil
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "BIRD ") || strings.HasPrefix(line, "Name ") {
			continue
		}
		if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			end()
			f := strings.Fields(line)
			if len(f) < 6 || f[1] != "BGP" {
				continue
			}
			cur = &NeighborStatus{Established: -1}
			var err error
			if since, err = birdTime(f[4], f[5]); err != nil {
				since = time.Time{}
			}
			continue
		}
		if cur == nil {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "BGP state":
			cur.State = bgpState(val)
		case "Neighbor address":
			cur.Address, err = netip.ParseAddr(strings.Fields(val)[0])
		case "Neighbor AS":
			cur.ASN, err = parseUint32(val)
		case "Routes":
			// "1 imported, 0 exported, 1 preferred"
			if f := strings.Fields(val); len(f) > 1 && strings.HasPrefix(f[1], "imported") {
				var n uint32
				n, err = parseUint32(f[0])
				cur.Received += int(n)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("BIRD protocols: %q: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	end()
	// A protocol that is down shows no BGP state.
	for i := range ns {
		if ns[i].State == "" {
			ns[i].State = "Idle"
		}
	}
	return ns, nil
}

func (birdImpl) bfdPeers(ctx context.Context, r *Router) ([]BFDPeer, error) {
	if !slices.ContainsFunc(r.Peers, func(n Neighbor) bool { return n.BFD != nil }) {
		return nil, nil // no bfd protocol
	}
	out, err := r.birdc(ctx, "show", "bfd", "sessions")
	if err != nil {
		return nil, err
	}
	return parseBIRDBFD(out, time.Now())
}

// parseBIRDBFD reads `birdc show bfd sessions`: per session "<ip>
// [<interface>] <state> <since date> <since time> <interval> <timeout>".
// A session without an interface is multihop.
func parseBIRDBFD(out string, now time.Time) ([]BFDPeer, error) {
	var ps []BFDPeer
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		addr, err := netip.ParseAddr(f[0])
		if err != nil {
			continue // headers
		}
		st := slices.IndexFunc(f[1:], func(s string) bool {
			switch strings.ToLower(s) {
			case "up", "down", "init", "admindown":
				return true
			}
			return false
		}) + 1
		if st == 0 || len(f) < st+5 {
			return nil, fmt.Errorf("BIRD BFD sessions: %q", line)
		}
		p := BFDPeer{Peer: addr, State: bfdState(f[st]), Multihop: st == 1 || f[1] == "---"}
		if p.State == "up" {
			if since, err := birdTime(f[st+1], f[st+2]); err == nil {
				p.Uptime = max(now.Sub(since), 0)
			}
		}
		if sec, err := strconv.ParseFloat(f[st+3], 64); err == nil {
			p.TxInterval = time.Duration(sec * float64(time.Second)).Round(time.Millisecond)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

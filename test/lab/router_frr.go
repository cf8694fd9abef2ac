package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// frrDir is where Debian's frr package keeps its daemons.
const frrDir = "/usr/lib/frr"

// frrImpl runs FRR: zebra (the router's kernel routes), bfdd and bgpd,
// each with its own configuration file, all talking through a zebra socket
// and vty sockets in the router's directory, as user frr (FRR's vty group
// does not take root).
type frrImpl struct{}

func (frrImpl) tools() []string {
	return []string{filepath.Join(frrDir, "zebra"), filepath.Join(frrDir, "bgpd"), filepath.Join(frrDir, "bfdd"), "vtysh"}
}

func (frrImpl) check(RouterOptions) error { return nil }

func (frrImpl) configure(r *Router) error {
	files := map[string]string{
		"zebra.conf": "hostname " + r.Name + "\n",
		"bfdd.conf":  frrBFDConfig(r.Name, r.Peers),
		"bgpd.conf":  frrBGPConfig(r.Name, r.ASN, r.RouterID, r.Peers, r.maxPaths()),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(r.Dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	// The daemons write their pid files and sockets there as user frr.
	u, err := user.Lookup("frr")
	if err != nil {
		return fmt.Errorf("lab: FRR needs its user frr (apt-get install -y frr): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(r.Dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
}

func (frrImpl) daemons(r *Router) []daemon {
	d := func(name string, extra ...string) daemon {
		args := []string{
			"-f", filepath.Join(r.Dir, name+".conf"), "-i", filepath.Join(r.Dir, name+".pid"),
			"--vty_socket", r.Dir, "-z", filepath.Join(r.Dir, "zserv.api"),
			"-u", "frr", "-g", "frr", "-P", "0", "--log", "stdout",
		}
		return daemon{
			name: name, bin: filepath.Join(frrDir, name), args: append(args, extra...),
			sockets: []string{filepath.Join(r.Dir, name+".vty")},
		}
	}
	zebra := d("zebra")
	zebra.sockets = append(zebra.sockets, filepath.Join(r.Dir, "zserv.api"))
	return []daemon{zebra, d("bfdd", "--bfdctl", filepath.Join(r.Dir, "bfdd.sock")), d("bgpd")}
}

// frrBFDConfig is bfdd's configuration: one profile per BFD neighbour.
func frrBFDConfig(name string, ns []Neighbor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hostname %s\n!\nbfd\n", name)
	for i, n := range ns {
		if n.BFD == nil {
			continue
		}
		fmt.Fprintf(&b, " profile n%d\n  detect-multiplier %d\n  receive-interval %d\n  transmit-interval %d\n",
			i, n.BFD.Multiplier, n.BFD.RxInterval.Milliseconds(), n.BFD.TxInterval.Milliseconds())
		if e := n.BFD.EchoInterval.Milliseconds(); e > 0 {
			fmt.Fprintf(&b, "  echo-mode\n  echo transmit-interval %d\n  echo receive-interval %d\n", e, e)
		}
		b.WriteString(" exit\n !\n")
	}
	b.WriteString("exit\n")
	return b.String()
}

// frrBGPConfig is bgpd's configuration. Neighbours are static (FRR's
// dynamic "bgp listen range" neighbours proved unreliable) and retry
// every 5 s; no policy is required on eBGP sessions.
func frrBGPConfig(name string, asn uint32, id netip.Addr, ns []Neighbor, maxPaths int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hostname %s\n!\nrouter bgp %d\n bgp router-id %s\n", name, asn, id)
	b.WriteString(" no bgp ebgp-requires-policy\n no bgp default ipv4-unicast\n no bgp network import-check\n")
	b.WriteString(" bgp bestpath as-path multipath-relax\n")
	for i, n := range ns {
		a := n.Address.String()
		fmt.Fprintf(&b, " neighbor %s remote-as %d\n", a, n.ASN)
		fmt.Fprintf(&b, " neighbor %s timers connect 5\n", a)
		if n.Passive {
			fmt.Fprintf(&b, " neighbor %s passive\n", a)
		}
		if n.Password != "" {
			fmt.Fprintf(&b, " neighbor %s password %s\n", a, n.Password)
		}
		if n.Multihop > 0 {
			fmt.Fprintf(&b, " neighbor %s ebgp-multihop %d\n", a, n.Multihop)
		}
		if n.HoldTime > 0 {
			hold := int(n.HoldTime / time.Second)
			fmt.Fprintf(&b, " neighbor %s timers %d %d\n", a, max(hold/3, 1), hold)
		}
		if n.BFD != nil {
			fmt.Fprintf(&b, " neighbor %s bfd\n neighbor %s bfd profile n%d\n", a, a, i)
		}
		if n.GracefulRestart {
			fmt.Fprintf(&b, " neighbor %s graceful-restart\n", a)
		}
	}
	for _, f := range []model.Family{model.IPv4, model.IPv6} {
		fmt.Fprintf(&b, " !\n address-family %s unicast\n  maximum-paths %d\n", frrAFI(f), maxPaths)
		for _, n := range ns {
			for _, nf := range n.Families {
				if nf == f {
					fmt.Fprintf(&b, "  neighbor %s activate\n", n.Address)
				}
			}
		}
		b.WriteString(" exit-address-family\n")
	}
	b.WriteString("exit\n")
	return b.String()
}

func frrAFI(f model.Family) string {
	if f == model.IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// vtysh runs vtysh commands against the router's daemons and returns the
// output from its first JSON character on.
func (r *Router) vtysh(ctx context.Context, cmds ...string) (string, error) {
	args := []string{"--vty_socket", r.Dir}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := run(ctx, "", "vtysh", args...)
	if err != nil {
		return "", err
	}
	if i := strings.IndexAny(out, "{["); i >= 0 {
		return out[i:], nil
	}
	return "", fmt.Errorf("vtysh %s: no JSON in %q", strings.Join(cmds, "; "), out)
}

func (frrImpl) ready(ctx context.Context, r *Router) error {
	out, err := r.vtysh(ctx, "show bgp summary json")
	if err != nil {
		return err
	}
	var v map[string]any
	return json.Unmarshal([]byte(out), &v)
}

func (frrImpl) routes(ctx context.Context, r *Router, f model.Family) ([]Route, error) {
	out, err := r.vtysh(ctx, "show bgp "+frrAFI(f)+" unicast json detail")
	if err != nil {
		return nil, err
	}
	return parseFRRRoutes([]byte(out))
}

// frrPath is a path of `show bgp <afi> unicast json detail` (FRR 8.4).
// The list of a prefix starts with an element holding only the prefix.
type frrPath struct {
	Prefix string `json:"prefix"`
	ASPath *struct {
		Segments []struct {
			List []uint32 `json:"list"`
		} `json:"segments"`
	} `json:"aspath"`
	Origin    string `json:"origin"`
	Valid     bool   `json:"valid"`
	Multipath bool   `json:"multipath"`
	Bestpath  *struct {
		Overall bool `json:"overall"`
	} `json:"bestpath"`
	Community *struct {
		List []string `json:"list"`
	} `json:"community"`
	LargeCommunity *struct {
		List []string `json:"list"`
	} `json:"largeCommunity"`
	LocPrf   *uint32 `json:"locPrf"`
	Metric   uint32  `json:"metric"`
	Nexthops []struct {
		IP    string `json:"ip"`
		Scope string `json:"scope"`
	} `json:"nexthops"`
	Peer struct {
		PeerID string `json:"peerId"`
	} `json:"peer"`
}

// parseFRRRoutes reads `show bgp <afi> unicast json detail`.
func parseFRRRoutes(out []byte) ([]Route, error) {
	var rib struct {
		DefaultLocPrf uint32               `json:"defaultLocPrf"`
		Routes        map[string][]frrPath `json:"routes"`
	}
	if err := json.Unmarshal(out, &rib); err != nil {
		return nil, fmt.Errorf("FRR RIB: %w", err)
	}
	var routes []Route
	for key, elems := range rib.Routes {
		prefix, err := netip.ParsePrefix(key)
		if err != nil {
			return nil, fmt.Errorf("FRR RIB: %w", err)
		}
		var paths []Path
		var multi []bool
		for _, e := range elems {
			if len(e.Nexthops) == 0 || !e.Valid {
				continue // the header element, or an unusable path
			}
			p := Path{Origin: normOrigin(e.Origin), MED: e.Metric, LocalPref: rib.DefaultLocPrf}
			if p.LocalPref == 0 {
				p.LocalPref = 100
			}
			if e.LocPrf != nil {
				p.LocalPref = *e.LocPrf
			}
			p.Best = e.Bestpath != nil && e.Bestpath.Overall
			if e.ASPath != nil {
				for _, s := range e.ASPath.Segments {
					p.ASPath = append(p.ASPath, s.List...)
				}
			}
			if e.Community != nil {
				for _, c := range e.Community.List {
					p.Communities = append(p.Communities, normCommunity(c))
				}
			}
			if e.LargeCommunity != nil {
				p.LargeCommunities = append(p.LargeCommunities, e.LargeCommunity.List...)
			}
			sorted(p.Communities)
			sorted(p.LargeCommunities)
			for _, nh := range e.Nexthops {
				if nh.Scope == "" || nh.Scope == "global" {
					if p.NextHop, err = netip.ParseAddr(nh.IP); err != nil {
						return nil, fmt.Errorf("FRR RIB %s: %w", key, err)
					}
					break
				}
			}
			if e.Peer.PeerID != "" {
				if p.Peer, err = netip.ParseAddr(e.Peer.PeerID); err != nil {
					return nil, fmt.Errorf("FRR RIB %s: %w", key, err)
				}
			}
			paths = append(paths, p)
			multi = append(multi, e.Multipath)
		}
		if len(paths) > 0 {
			routes = append(routes, finishRoute(prefix, paths, multi))
		}
	}
	return routes, nil
}

func (frrImpl) neighbors(ctx context.Context, r *Router) ([]NeighborStatus, error) {
	out, err := r.vtysh(ctx, "show bgp neighbors json")
	if err != nil {
		return nil, err
	}
	ns, err := parseFRRNeighbors([]byte(out))
	if err != nil {
		return nil, err
	}
	bfd, err := frrImpl{}.bfdPeers(ctx, r)
	if err != nil {
		return nil, err
	}
	addBFDStates(ns, bfd)
	return ns, nil
}

// parseFRRNeighbors reads `show bgp neighbors json`.
func parseFRRNeighbors(out []byte) ([]NeighborStatus, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("FRR neighbours: %w", err)
	}
	var ns []NeighborStatus
	for key, raw := range m {
		addr, err := netip.ParseAddr(key)
		if err != nil {
			continue // not a neighbour entry
		}
		var n struct {
			RemoteAs               uint32 `json:"remoteAs"`
			BgpState               string `json:"bgpState"`
			BgpTimerUpMsec         int64  `json:"bgpTimerUpMsec"`
			ConnectionsEstablished int    `json:"connectionsEstablished"`
			AddressFamilyInfo      map[string]struct {
				AcceptedPrefixCounter int `json:"acceptedPrefixCounter"`
			} `json:"addressFamilyInfo"`
		}
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("FRR neighbour %s: %w", key, err)
		}
		s := NeighborStatus{Address: addr, ASN: n.RemoteAs, State: bgpState(n.BgpState), Established: n.ConnectionsEstablished}
		if s.Up() {
			s.Uptime = time.Duration(n.BgpTimerUpMsec) * time.Millisecond
		}
		for _, af := range n.AddressFamilyInfo {
			s.Received += af.AcceptedPrefixCounter
		}
		ns = append(ns, s)
	}
	return ns, nil
}

// addBFDStates sets each neighbour's BFD state from the BFD sessions.
func addBFDStates(ns []NeighborStatus, peers []BFDPeer) {
	for i := range ns {
		for _, p := range peers {
			if p.Peer == ns[i].Address {
				ns[i].BFD = p.State
			}
		}
	}
}

func (frrImpl) bfdPeers(ctx context.Context, r *Router) ([]BFDPeer, error) {
	out, err := r.vtysh(ctx, "show bfd peers json")
	if err != nil {
		return nil, err
	}
	return parseFRRBFD([]byte(out))
}

// parseFRRBFD reads `show bfd peers json`.
func parseFRRBFD(out []byte) ([]BFDPeer, error) {
	var raw []struct {
		Peer             string `json:"peer"`
		Multihop         bool   `json:"multihop"`
		Status           string `json:"status"`
		Uptime           int64  `json:"uptime"`
		RxInterval       int64  `json:"receive-interval"`
		TxInterval       int64  `json:"transmit-interval"`
		Multiplier       int    `json:"detect-multiplier"`
		RemoteRxInterval int64  `json:"remote-receive-interval"`
		RemoteTxInterval int64  `json:"remote-transmit-interval"`
		RemoteMultiplier int    `json:"remote-detect-multiplier"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("FRR BFD peers: %w", err)
	}
	var ps []BFDPeer
	for _, p := range raw {
		addr, err := netip.ParseAddr(p.Peer)
		if err != nil {
			return nil, fmt.Errorf("FRR BFD peers: %w", err)
		}
		b := BFDPeer{
			Peer: addr, State: bfdState(p.Status), Multihop: p.Multihop,
			RxInterval: ms(p.RxInterval), TxInterval: ms(p.TxInterval), Multiplier: p.Multiplier,
			RemoteRxInterval: ms(p.RemoteRxInterval), RemoteTxInterval: ms(p.RemoteTxInterval), RemoteMultiplier: p.RemoteMultiplier,
		}
		if b.State == "up" {
			b.Uptime = time.Duration(p.Uptime) * time.Second
		}
		ps = append(ps, b)
	}
	return ps, nil
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// bfdState spells a BFD state as BFDPeer.State has it.
func bfdState(s string) string {
	switch strings.ToLower(s) {
	case "up":
		return "up"
	case "down":
		return "down"
	case "init":
		return "init"
	case "shutdown", "admindown", "admin-down":
		return "admin-down"
	}
	return strings.ToLower(s)
}

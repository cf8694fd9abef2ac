package lab

import (
	"context"
	"encoding/json"
	"errors"
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

// gobgpAPI is where gobgpd serves its gRPC API, inside the router's
// namespace (so every GoBGP router can use the same port).
const gobgpAPI = "127.0.0.1:50051"

// gobgpImpl runs gobgpd 3.x (Debian's) as root with a TOML file. Its
// zebra client does not speak FRR 8.4's protocol, so nothing installs its
// routes into the kernel: SyncFIB does that on demand. It has no BFD.
type gobgpImpl struct{}

func (gobgpImpl) tools() []string { return []string{"gobgpd", "gobgp"} }

func (gobgpImpl) check(o RouterOptions) error {
	for _, n := range o.Neighbors {
		if n.BFD != nil {
			return fmt.Errorf("lab: router %s: gobgpd 3.x has no BFD (neighbour %v)", o.Name, n.Address)
		}
	}
	return nil
}

func (gobgpImpl) configure(r *Router) error {
	text := gobgpConfig(r.RouterID, r.ASN, r.Peers, r.maxPaths())
	if err := os.WriteFile(filepath.Join(r.Dir, "gobgpd.toml"), []byte(text), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

func (gobgpImpl) daemons(r *Router) []daemon {
	return []daemon{{
		name: "gobgpd", bin: "gobgpd",
		args: []string{"-f", filepath.Join(r.Dir, "gobgpd.toml"), "-t", "toml", "-p", "--api-hosts", gobgpAPI, "--pprof-disable"},
	}}
}

// gobgpConfig is gobgpd's TOML configuration. Sessions retry every 5 s,
// also right after a reset (gobgpd waits 30 s by default).
func gobgpConfig(id netip.Addr, asn uint32, ns []Neighbor, maxPaths int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[global.config]\n  as = %d\n  router-id = %q\n", asn, id.String())
	if maxPaths > 1 {
		b.WriteString("[global.use-multiple-paths.config]\n  enabled = true\n")
	}
	for _, n := range ns {
		fmt.Fprintf(&b, "\n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = %q\n    peer-as = %d\n", n.Address.String(), n.ASN)
		if n.Password != "" {
			fmt.Fprintf(&b, "    auth-password = %q\n", n.Password)
		}
		b.WriteString("  [neighbors.timers.config]\n    connect-retry = 5\n    idle-hold-time-after-reset = 1\n")
		if n.HoldTime > 0 {
			hold := int(n.HoldTime / time.Second)
			fmt.Fprintf(&b, "    hold-time = %d\n    keepalive-interval = %d\n", hold, max(hold/3, 1))
		}
		if n.Passive {
			b.WriteString("  [neighbors.transport.config]\n    passive-mode = true\n")
		}
		if n.Multihop > 0 {
			fmt.Fprintf(&b, "  [neighbors.ebgp-multihop.config]\n    enabled = true\n    multihop-ttl = %d\n", n.Multihop)
		}
		if n.GracefulRestart {
			b.WriteString("  [neighbors.graceful-restart.config]\n    enabled = true\n")
		}
		for _, f := range n.Families {
			fmt.Fprintf(&b, "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = %q\n", gobgpFamily(f))
			if n.GracefulRestart {
				b.WriteString("    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n")
			}
		}
	}
	return b.String()
}

func gobgpFamily(f model.Family) string {
	if f == model.IPv6 {
		return "ipv6-unicast"
	}
	return "ipv4-unicast"
}

// gobgp runs the gobgp client with JSON output inside the router's
// namespace.
func (r *Router) gobgp(ctx context.Context, args ...string) (string, error) {
	host, port, _ := strings.Cut(gobgpAPI, ":")
	return nsExec(ctx, r.Host.NS, "gobgp", append([]string{"-u", host, "-p", port, "-j"}, args...)...)
}

func (gobgpImpl) ready(ctx context.Context, r *Router) error {
	out, err := r.gobgp(ctx, "global")
	if err != nil {
		return err
	}
	var v map[string]any
	return json.Unmarshal([]byte(out), &v)
}

func (gobgpImpl) routes(ctx context.Context, r *Router, f model.Family) ([]Route, error) {
	out, err := r.gobgp(ctx, "global", "rib", "-a", frrAFI(f))
	if err != nil {
		return nil, err
	}
	return parseGoBGPRoutes([]byte(out))
}

// gobgpPath is a path of `gobgp -j global rib`.
type gobgpPath struct {
	Best       bool              `json:"best"`
	Attrs      []json.RawMessage `json:"attrs"`
	NeighborIP string            `json:"neighbor-ip"`
}

// parseGoBGPRoutes reads `gobgp -j global rib -a <afi>`: paths by prefix,
// each with its attributes by type code.
func parseGoBGPRoutes(out []byte) ([]Route, error) {
	var rib map[string][]gobgpPath
	trimmed := strings.TrimSpace(string(out))
	if trimmed == "" || trimmed == "null" {
		return nil, nil
	}
	if err := json.Unmarshal(out, &rib); err != nil {
		return nil, fmt.Errorf("GoBGP RIB: %w", err)
	}
	var routes []Route
	for key, gps := range rib {
		prefix, err := netip.ParsePrefix(key)
		if err != nil {
			return nil, fmt.Errorf("GoBGP RIB: %w", err)
		}
		var paths []Path
		for _, gp := range gps {
			p := Path{Best: gp.Best, LocalPref: 100}
			if gp.NeighborIP != "" {
				if p.Peer, err = netip.ParseAddr(gp.NeighborIP); err != nil {
					return nil, fmt.Errorf("GoBGP RIB %s: %w", key, err)
				}
			}
			for _, raw := range gp.Attrs {
				if err := gobgpAttribute(&p, raw); err != nil {
					return nil, fmt.Errorf("GoBGP RIB %s: %w", key, err)
				}
			}
			sorted(p.Communities)
			sorted(p.LargeCommunities)
			paths = append(paths, p)
		}
		if len(paths) > 0 {
			routes = append(routes, finishRoute(prefix, paths, nil))
		}
	}
	return routes, nil
}

// gobgpAttribute applies one path attribute (gobgp's JSON) to p.
func gobgpAttribute(p *Path, raw json.RawMessage) error {
	var a struct {
		Type    int             `json:"type"`
		Value   json.RawMessage `json:"value"`
		Nexthop string          `json:"nexthop"`
		Metric  uint32          `json:"metric"`
		ASPaths []struct {
			ASNs []uint32 `json:"asns"`
		} `json:"as_paths"`
		Communities []uint32 `json:"communities"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return err
	}
	var err error
	switch a.Type {
	case 1: // ORIGIN
		var v int
		err = json.Unmarshal(a.Value, &v)
		p.Origin = normOrigin(strconv.Itoa(v))
	case 2: // AS_PATH
		for _, s := range a.ASPaths {
			p.ASPath = append(p.ASPath, s.ASNs...)
		}
	case 3, 14: // NEXT_HOP, MP_REACH_NLRI
		if a.Nexthop != "" {
			p.NextHop, err = netip.ParseAddr(a.Nexthop)
		}
	case 4: // MULTI_EXIT_DISC
		p.MED = a.Metric
	case 5: // LOCAL_PREF
		err = json.Unmarshal(a.Value, &p.LocalPref)
	case 8: // COMMUNITIES
		for _, c := range a.Communities {
			p.Communities = append(p.Communities, communityOf(c))
		}
	case 32: // LARGE_COMMUNITY
		var lcs []struct {
			ASN, LocalData1, LocalData2 uint32
		}
		err = json.Unmarshal(a.Value, &lcs)
		for _, c := range lcs {
			p.LargeCommunities = append(p.LargeCommunities, fmt.Sprintf("%d:%d:%d", c.ASN, c.LocalData1, c.LocalData2))
		}
	}
	return err
}

func (gobgpImpl) neighbors(ctx context.Context, r *Router) ([]NeighborStatus, error) {
	out, err := r.gobgp(ctx, "neighbor")
	if err != nil {
		return nil, err
	}
	return parseGoBGPNeighbors([]byte(out), time.Now())
}

// gobgpSessionStates are the values of session_state, as numbers or as
// names.
var gobgpSessionStates = map[string]string{
	"1": "Idle", "2": "Connect", "3": "Active", "4": "OpenSent", "5": "OpenConfirm", "6": "Established",
	"IDLE": "Idle", "CONNECT": "Connect", "ACTIVE": "Active", "OPENSENT": "OpenSent",
	"OPENCONFIRM": "OpenConfirm", "ESTABLISHED": "Established",
}

// parseGoBGPNeighbors reads `gobgp -j neighbor`. gobgpd 3.x leaves its
// flop counter at zero: the OPEN messages received count the sessions
// instead (a session that fails right after the OPEN counts too).
func parseGoBGPNeighbors(out []byte, now time.Time) ([]NeighborStatus, error) {
	var raw []struct {
		Conf struct {
			NeighborAddress string `json:"neighbor_address"`
			PeerASN         uint32 `json:"peer_asn"`
		} `json:"conf"`
		State struct {
			SessionState json.RawMessage `json:"session_state"`
			Messages     struct {
				Received struct {
					Open int `json:"open"`
				} `json:"received"`
			} `json:"messages"`
		} `json:"state"`
		Timers struct {
			State struct {
				Uptime struct {
					Seconds int64 `json:"seconds"`
				} `json:"uptime"`
			} `json:"state"`
		} `json:"timers"`
		AfiSafis []struct {
			State struct {
				Accepted int `json:"accepted"`
			} `json:"state"`
		} `json:"afi_safis"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("GoBGP neighbours: %w", err)
	}
	var ns []NeighborStatus
	for _, n := range raw {
		addr, err := netip.ParseAddr(n.Conf.NeighborAddress)
		if err != nil {
			return nil, fmt.Errorf("GoBGP neighbours: %w", err)
		}
		st := strings.Trim(string(n.State.SessionState), `"`)
		s := NeighborStatus{Address: addr, ASN: n.Conf.PeerASN, State: gobgpSessionStates[st], Established: n.State.Messages.Received.Open}
		if s.State == "" {
			s.State = "Idle"
		}
		if s.Up() {
			if t := n.Timers.State.Uptime.Seconds; t > 0 {
				s.Uptime = max(now.Sub(time.Unix(t, 0)), 0)
			}
		}
		for _, af := range n.AfiSafis {
			s.Received += af.State.Accepted
		}
		ns = append(ns, s)
	}
	return ns, nil
}

func (gobgpImpl) bfdPeers(context.Context, *Router) ([]BFDPeer, error) { return nil, nil }

// fibProto is the routing protocol SyncFIB marks its kernel routes with.
const fibProto = "bgp"

// SyncFIB copies a GoBGP router's routes into its kernel, once: every
// prefix through its next hops (a multipath route with several), and
// removes the routes an earlier SyncFIB installed that are gone from the
// RIB. Call it after the RIB changed. FRR and BIRD routers install their
// routes themselves; SyncFIB refuses them.
func (r *Router) SyncFIB(ctx context.Context) error {
	if r.Kind != GoBGP {
		return fmt.Errorf("lab: router %s (%s) installs its routes itself", r.Name, r.Kind)
	}
	var errs []error
	for _, f := range []model.Family{model.IPv4, model.IPv6} {
		routes, err := r.Routes(ctx, f)
		if err != nil {
			return err
		}
		want := map[netip.Prefix]bool{}
		var cmds []string
		for _, rt := range routes {
			if len(rt.NextHops) == 0 {
				continue
			}
			want[rt.Prefix] = true
			cmds = append(cmds, "route replace "+rt.Prefix.String()+" proto "+fibProto+fibNextHops(rt.NextHops))
		}
		have, err := kernelPrefixes(ctx, r.Host.NS, f)
		if err != nil {
			return err
		}
		for _, p := range have {
			if !want[p] {
				cmds = append(cmds, "route del "+p.String()+" proto "+fibProto)
			}
		}
		if len(cmds) > 0 {
			if err := ipBatch(ctx, r.Host.NS, cmds...); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func fibNextHops(hops []netip.Addr) string {
	if len(hops) == 1 {
		return " via " + hops[0].String()
	}
	var b strings.Builder
	for _, h := range hops {
		b.WriteString(" nexthop via " + h.String())
	}
	return b.String()
}

// kernelPrefixes lists the prefixes of the kernel routes SyncFIB made.
func kernelPrefixes(ctx context.Context, ns string, f model.Family) ([]netip.Prefix, error) {
	fam := "-4"
	if f == model.IPv6 {
		fam = "-6"
	}
	out, err := run(ctx, "", "ip", "-n", ns, "-j", fam, "route", "show", "proto", fibProto)
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Dst string `json:"dst"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return nil, fmt.Errorf("lab: ip route: %w", err)
	}
	var ps []netip.Prefix
	for _, rt := range routes {
		p, err := netip.ParsePrefix(rt.Dst)
		if err != nil {
			a, aerr := netip.ParseAddr(rt.Dst)
			if aerr != nil {
				return nil, fmt.Errorf("lab: ip route: %w", err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

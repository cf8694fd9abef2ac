package gobgp

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/osrg/gobgp/v4/pkg/config/oc"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	gbgp "github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// Timer defaults of this backend.
const (
	// DefaultConnectRetry paces connection attempts when Peer.ConnectTime is
	// 0. GoBGP's own default (120 s) would leave a session down for two
	// minutes after a router restart, since the speaker only dials out.
	DefaultConnectRetry = 5 * time.Second
	// idleAfterReset is how long a session waits after the backend reset
	// it (BFD down) before dialing again.
	idleAfterReset = time.Second
	// GracefulRestartTime is the Restart Time advertised with graceful
	// restart: how long the router keeps the routes of a restarting
	// speaker (FRR's default).
	GracefulRestartTime = 120 * time.Second
	// gracefulDeferral bounds how long a restarting session waits for the
	// router's End-of-RIB before sending its routes.
	gracefulDeferral = 10 * time.Second
)

// sessionParams are the facts about the local end that translation needs
// besides the Peer.
type sessionParams struct {
	routerID netip.Addr
	// restarting sets the Restart State bit (RFC 4724): the first session
	// to this peer since the backend started.
	restarting bool
}

// globalConfig is the GoBGP global configuration of a peer's server:
// outbound only (no listener).
func globalConfig(p *bgp.Peer, sp sessionParams) *api.Global {
	return &api.Global{
		Asn:        p.MyASN,
		RouterId:   sp.routerID.String(),
		ListenPort: -1,
		// Only the families the session carries: left empty, GoBGP sets
		// up tables for all ~37 families it knows (about 10 MB per peer),
		// and each table costs ~200 KB even when empty. A change of the
		// session's families reopens the session with a new server.
		Families: globalFamilies(p),
	}
}

// sessionFamilies are the unicast families a session carries: its own
// address family, both with DualStackAddressFamily (as Peer.Carries).
func sessionFamilies(p *bgp.Peer) []*api.Family {
	switch {
	case p.DualStackAddressFamily:
		return []*api.Family{familyV4, familyV6}
	case p.Address.Is6():
		return []*api.Family{familyV6}
	}
	return []*api.Family{familyV4}
}

func globalFamilies(p *bgp.Peer) []uint32 {
	var out []uint32
	for _, f := range sessionFamilies(p) {
		t := oc.AFI_SAFI_TYPE_IPV4_UNICAST
		if f == familyV6 {
			t = oc.AFI_SAFI_TYPE_IPV6_UNICAST
		}
		out = append(out, uint32(oc.AfiSafiTypeToIntMap[t]))
	}
	return out
}

var (
	familyV4 = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	familyV6 = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
)

// peerASN is the ASN GoBGP requires of the peer: the configured one, ours
// for a dynamic internal peer, 0 (whatever the OPEN says) for a dynamic
// external one, which the backend checks once the session is up.
func peerASN(p *bgp.Peer) uint32 {
	switch {
	case p.PeerASN != 0:
		return p.PeerASN
	case p.DynamicASN == bgp.DynamicInternal:
		return p.MyASN
	default:
		return 0
	}
}

// peerConfig translates a Peer into GoBGP's neighbor configuration.
func peerConfig(p *bgp.Peer, sp sessionParams) *api.Peer {
	secs := func(d time.Duration) uint64 { return uint64(d / time.Second) }
	connect := p.ConnectTime
	if connect == 0 {
		connect = DefaultConnectRetry
	}
	families := sessionFamilies(p)
	out := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: p.Address.String(),
			PeerAsn:         peerASN(p),
			LocalAsn:        p.MyASN,
			AuthPassword:    p.Password,
		},
		Transport: &api.Transport{
			RemotePort:    uint32(p.RemotePort()),
			BindInterface: p.VRF,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry:           secs(connect),
			HoldTime:               secs(p.HoldTime),
			KeepaliveInterval:      secs(p.KeepaliveTime),
			IdleHoldTimeAfterReset: secs(idleAfterReset),
		}},
	}
	if p.SourceAddress.IsValid() {
		out.Transport.LocalAddress = p.SourceAddress.String()
	}
	if p.EBGPMultiHop {
		out.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: 255}
	}
	if p.GracefulRestart {
		out.GracefulRestart = &api.GracefulRestart{
			Enabled:         true,
			RestartTime:     uint32(GracefulRestartTime / time.Second),
			DeferralTime:    uint32(gracefulDeferral / time.Second),
			LocalRestarting: sp.restarting,
		}
	}
	for _, f := range families {
		af := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true}}
		if p.GracefulRestart {
			af.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
		}
		out.AfiSafis = append(out.AfiSafis, af)
	}
	return out
}

// nextHops are the next hops of the routes of a session, by family. An
// unspecified address lets GoBGP use the local address of the TCP session,
// which is right for routes of the session's own family.
type nextHops struct {
	v4, v6 netip.Addr
}

func (n nextHops) forPrefix(pfx netip.Prefix) netip.Addr {
	if pfx.Addr().Is4() {
		if n.v4.IsValid() {
			return n.v4
		}
		return netip.IPv4Unspecified()
	}
	if n.v6.IsValid() {
		return n.v6
	}
	return netip.IPv6Unspecified()
}

// toPath builds the GoBGP path of an advertisement: ORIGIN IGP, the next
// hop, COMMUNITIES and LARGE_COMMUNITY when present, LOCAL_PREF when set
// and the session is iBGP (GoBGP strips it towards eBGP peers anyway, and
// adds 100 towards iBGP peers when absent). AS_PATH is left to GoBGP: empty
// towards iBGP peers, the local AS prepended towards eBGP peers.
func toPath(a bgp.Advertisement, nh netip.Addr, ibgp, withdraw bool) (*apiutil.Path, error) {
	nlri, err := gbgp.NewIPAddrPrefix(a.Prefix)
	if err != nil {
		return nil, fmt.Errorf("prefix %v: %w", a.Prefix, err)
	}
	family := gbgp.RF_IPv4_UC
	if a.Prefix.Addr().Is6() {
		family = gbgp.RF_IPv6_UC
	}
	attrs := []gbgp.PathAttributeInterface{gbgp.NewPathAttributeOrigin(gbgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	if family == gbgp.RF_IPv4_UC && nh.Is4() {
		a, err := gbgp.NewPathAttributeNextHop(nh)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	} else {
		a, err := gbgp.NewPathAttributeMpReachNLRI(family, []gbgp.PathNLRI{{NLRI: nlri}}, nh)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	var legacy []uint32
	var large []*gbgp.LargeCommunity
	for _, c := range a.Communities {
		if c.Large {
			large = append(large, gbgp.NewLargeCommunity(c.Global, c.Local1, c.Local2))
		} else {
			legacy = append(legacy, c.Value())
		}
	}
	if len(legacy) > 0 {
		attrs = append(attrs, gbgp.NewPathAttributeCommunities(legacy))
	}
	if len(large) > 0 {
		attrs = append(attrs, gbgp.NewPathAttributeLargeCommunities(large))
	}
	if ibgp && a.LocalPref != 0 {
		attrs = append(attrs, gbgp.NewPathAttributeLocalPref(a.LocalPref))
	}
	return &apiutil.Path{Family: family, Nlri: nlri, Attrs: attrs, Withdrawal: withdraw}, nil
}

// forSession keeps the advertisements a session carries and drops what it
// would not send anyway (LOCAL_PREF towards eBGP peers), so a change of an
// unsent attribute causes no UPDATE. It returns the number of prefixes left
// out because the session does not carry their family.
//
// When the session carries every advertisement as it is, the result is ads
// itself: callers treat both as read-only.
func forSession(p *bgp.Peer, ads map[netip.Prefix]bgp.Advertisement) (map[netip.Prefix]bgp.Advertisement, int) {
	asIs := true
	for pfx, a := range ads {
		if !p.Carries(pfx) || (!p.IBGP() && a.LocalPref != 0) {
			asIs = false
			break
		}
	}
	if asIs {
		return ads, 0
	}
	out := make(map[netip.Prefix]bgp.Advertisement, len(ads))
	skipped := 0
	for pfx, a := range ads {
		if !p.Carries(pfx) {
			skipped++
			continue
		}
		if !p.IBGP() {
			a.LocalPref = 0
		}
		out[pfx] = a
	}
	return out, skipped
}

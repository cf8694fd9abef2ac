package gobgp

import (
	"hash/crc32"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/config/oc"
	gbgp "github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func basePeer() bgp.Peer {
	return bgp.Peer{Name: "r", Address: addr("198.51.100.2"), MyASN: 4200000001, PeerASN: 64512,
		HoldTime: 9 * time.Second, KeepaliveTime: 3 * time.Second}
}

func families(p *api.Peer) []string {
	var out []string
	for _, af := range p.AfiSafis {
		out = append(out, af.Config.Family.Afi.String())
	}
	return out
}

func TestPeerConfig(t *testing.T) {
	sp := sessionParams{routerID: addr("198.51.100.1")}
	t.Run("dynamic ASN", func(t *testing.T) {
		p := basePeer()
		p.PeerASN, p.DynamicASN = 0, bgp.DynamicInternal
		if got := peerConfig(&p, sp).Conf.PeerAsn; got != p.MyASN {
			t.Errorf("internal: GoBGP requires ASN %d, want ours (%d)", got, p.MyASN)
		}
		p.DynamicASN = bgp.DynamicExternal
		if got := peerConfig(&p, sp).Conf.PeerAsn; got != 0 {
			t.Errorf("external: GoBGP requires ASN %d, want 0 (any)", got)
		}
	})
	t.Run("ebgp defaults", func(t *testing.T) {
		p := basePeer()
		c := peerConfig(&p, sp)
		if c.Conf.NeighborAddress != "198.51.100.2" || c.Conf.PeerAsn != 64512 || c.Conf.LocalAsn != 4200000001 {
			t.Errorf("conf %v", c.Conf)
		}
		if c.Transport.RemotePort != 179 || c.Transport.LocalAddress != "" || c.Transport.BindInterface != "" {
			t.Errorf("transport %v", c.Transport)
		}
		want := &api.TimersConfig{ConnectRetry: 5, HoldTime: 9, KeepaliveInterval: 3, IdleHoldTimeAfterReset: 1}
		if got := c.Timers.Config; got.ConnectRetry != want.ConnectRetry || got.HoldTime != want.HoldTime ||
			got.KeepaliveInterval != want.KeepaliveInterval || got.IdleHoldTimeAfterReset != want.IdleHoldTimeAfterReset {
			t.Errorf("timers %v, want %v", got, want)
		}
		if diff := cmp.Diff([]string{"AFI_IP"}, families(c)); diff != "" {
			t.Errorf("families (-want +got):\n%s", diff)
		}
		if c.EbgpMultihop != nil || c.GracefulRestart != nil || c.Conf.AuthPassword != "" {
			t.Errorf("unexpected options: %v %v", c.EbgpMultihop, c.GracefulRestart)
		}
	})
	t.Run("every option", func(t *testing.T) {
		p := basePeer()
		p.Port, p.Password, p.EBGPMultiHop, p.VRF = 1179, "s3cret", true, "red"
		p.SourceAddress, p.ConnectTime = addr("198.51.100.1"), 30*time.Second
		p.GracefulRestart, p.DualStackAddressFamily = true, true
		c := peerConfig(&p, sessionParams{routerID: addr("198.51.100.1"), restarting: true})
		if c.Transport.RemotePort != 1179 || c.Transport.LocalAddress != "198.51.100.1" || c.Transport.BindInterface != "red" {
			t.Errorf("transport %v", c.Transport)
		}
		if c.Conf.AuthPassword != "s3cret" || c.Timers.Config.ConnectRetry != 30 {
			t.Errorf("password or connect retry: %v %v", c.Conf, c.Timers.Config)
		}
		if c.EbgpMultihop == nil || !c.EbgpMultihop.Enabled || c.EbgpMultihop.MultihopTtl != 255 {
			t.Errorf("multihop %v", c.EbgpMultihop)
		}
		gr := c.GracefulRestart
		if gr == nil || !gr.Enabled || !gr.LocalRestarting || gr.RestartTime != 120 {
			t.Errorf("graceful restart %v", gr)
		}
		if diff := cmp.Diff([]string{"AFI_IP", "AFI_IP6"}, families(c)); diff != "" {
			t.Errorf("families (-want +got):\n%s", diff)
		}
		for _, af := range c.AfiSafis {
			if af.MpGracefulRestart == nil || !af.MpGracefulRestart.Config.Enabled {
				t.Errorf("family %v without graceful restart", af.Config.Family)
			}
		}
	})
	t.Run("ipv6 session", func(t *testing.T) {
		p := basePeer()
		p.Address = addr("2001:db8::2")
		if diff := cmp.Diff([]string{"AFI_IP6"}, families(peerConfig(&p, sp))); diff != "" {
			t.Errorf("families (-want +got):\n%s", diff)
		}
	})
}

// attrTypes lists the attribute types of a path, for comparison.
func attrTypes(attrs []gbgp.PathAttributeInterface) []gbgp.BGPAttrType {
	var out []gbgp.BGPAttrType
	for _, a := range attrs {
		out = append(out, a.GetType())
	}
	return out
}

func TestToPath(t *testing.T) {
	ad := bgp.Advertisement{Prefix: mustPrefix("198.51.100.200/32"), LocalPref: 150,
		Communities: []bgp.Community{{Global: 64500, Local1: 7}, {Large: true, Global: 1, Local1: 2, Local2: 3}}}
	t.Run("ibgp ipv4", func(t *testing.T) {
		p, err := toPath(ad, netip.IPv4Unspecified(), true, false)
		if err != nil {
			t.Fatal(err)
		}
		want := []gbgp.BGPAttrType{gbgp.BGP_ATTR_TYPE_ORIGIN, gbgp.BGP_ATTR_TYPE_NEXT_HOP, gbgp.BGP_ATTR_TYPE_COMMUNITIES,
			gbgp.BGP_ATTR_TYPE_LARGE_COMMUNITY, gbgp.BGP_ATTR_TYPE_LOCAL_PREF}
		if diff := cmp.Diff(want, attrTypes(p.Attrs)); diff != "" {
			t.Errorf("attributes (-want +got):\n%s", diff)
		}
		if p.Family != gbgp.RF_IPv4_UC || p.Withdrawal {
			t.Errorf("family %v withdrawal %v", p.Family, p.Withdrawal)
		}
		comm := p.Attrs[2].(*gbgp.PathAttributeCommunities)
		if diff := cmp.Diff([]uint32{64500<<16 | 7}, comm.Value); diff != "" {
			t.Errorf("communities (-want +got):\n%s", diff)
		}
		lc := p.Attrs[3].(*gbgp.PathAttributeLargeCommunities)
		if len(lc.Values) != 1 || lc.Values[0].ASN != 1 || lc.Values[0].LocalData1 != 2 || lc.Values[0].LocalData2 != 3 {
			t.Errorf("large communities %v", lc.Values)
		}
		if lp := p.Attrs[4].(*gbgp.PathAttributeLocalPref); lp.Value != 150 {
			t.Errorf("local pref %d", lp.Value)
		}
	})
	t.Run("ebgp has no local pref", func(t *testing.T) {
		p, err := toPath(ad, netip.IPv4Unspecified(), false, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Attrs {
			if a.GetType() == gbgp.BGP_ATTR_TYPE_LOCAL_PREF {
				t.Error("LOCAL_PREF on an eBGP path")
			}
		}
	})
	t.Run("ipv6 uses MP_REACH with the given next hop", func(t *testing.T) {
		p, err := toPath(bgp.Advertisement{Prefix: mustPrefix("2001:db8::ff:1/128")}, addr("2001:db8::1:1"), false, false)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]gbgp.BGPAttrType{gbgp.BGP_ATTR_TYPE_ORIGIN, gbgp.BGP_ATTR_TYPE_MP_REACH_NLRI}, attrTypes(p.Attrs)); diff != "" {
			t.Errorf("attributes (-want +got):\n%s", diff)
		}
		if nh := p.Attrs[1].(*gbgp.PathAttributeMpReachNLRI).Nexthop; nh != addr("2001:db8::1:1") {
			t.Errorf("next hop %v", nh)
		}
	})
	t.Run("withdrawal", func(t *testing.T) {
		p, err := toPath(bgp.Advertisement{Prefix: mustPrefix("198.51.100.200/32")}, netip.IPv4Unspecified(), false, true)
		if err != nil || !p.Withdrawal {
			t.Errorf("withdrawal %v, err %v", p.Withdrawal, err)
		}
	})
}

func TestForSession(t *testing.T) {
	ads, err := bgp.Normalize([]bgp.Advertisement{
		{Prefix: mustPrefix("198.51.100.200/32"), LocalPref: 150},
		{Prefix: mustPrefix("2001:db8::ff:1/128"), LocalPref: 150},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		edit        func(p *bgp.Peer)
		wantPrefix  []netip.Prefix
		wantSkipped int
		wantPref    uint32
	}{
		{"ebgp ipv4 only, local pref dropped", func(p *bgp.Peer) {}, []netip.Prefix{mustPrefix("198.51.100.200/32")}, 1, 0},
		{"ibgp keeps local pref", func(p *bgp.Peer) { p.PeerASN = p.MyASN }, []netip.Prefix{mustPrefix("198.51.100.200/32")}, 1, 150},
		{"ipv6 session", func(p *bgp.Peer) { p.Address = addr("2001:db8::2") }, []netip.Prefix{mustPrefix("2001:db8::ff:1/128")}, 1, 0},
		{"dual stack", func(p *bgp.Peer) { p.DualStackAddressFamily = true },
			[]netip.Prefix{mustPrefix("198.51.100.200/32"), mustPrefix("2001:db8::ff:1/128")}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := basePeer()
			tc.edit(&p)
			got, skipped := forSession(&p, ads)
			if skipped != tc.wantSkipped || len(got) != len(tc.wantPrefix) {
				t.Fatalf("got %v skipped %d", got, skipped)
			}
			for _, pf := range tc.wantPrefix {
				if a, ok := got[pf]; !ok || a.LocalPref != tc.wantPref {
					t.Errorf("%v: %+v present %v, want local pref %d", pf, a, ok, tc.wantPref)
				}
			}
		})
	}
}

func TestRouterIDAndNextHops(t *testing.T) {
	le4 := localEnd{addr: addr("198.51.100.1"), ifaceAddrs: []netip.Addr{addr("198.51.100.1"), addr("fe80::1"), addr("2001:db8::1")}}
	le6 := localEnd{addr: addr("2001:db8::1"), ifaceAddrs: []netip.Addr{addr("fe80::1"), addr("2001:db8::1"), addr("198.51.100.9")}}
	le6only := localEnd{addr: addr("2001:db8::1"), ifaceAddrs: []netip.Addr{addr("2001:db8::1")}}
	p := basePeer()
	p6 := basePeer()
	p6.Address = addr("2001:db8::2")
	configured := basePeer()
	configured.RouterID = addr("192.0.2.7")

	for _, tc := range []struct {
		name string
		p    bgp.Peer
		le   localEnd
		want netip.Addr
	}{
		{"configured", configured, le4, addr("192.0.2.7")},
		{"local ipv4", p, le4, addr("198.51.100.1")},
		{"ipv4 of the same interface", p6, le6, addr("198.51.100.9")},
		{"crc32 of the node name", p6, le6only, func() netip.Addr {
			// The CRC-32 (IEEE) of the name, least significant byte first.
			c := crc32.ChecksumIEEE([]byte("node-a"))
			return netip.AddrFrom4([4]byte{byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)})
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := routerID(&tc.p, tc.le, "node-a"); got != tc.want {
				t.Errorf("routerID = %v, want %v", got, tc.want)
			}
		})
	}

	dual := p
	dual.DualStackAddressFamily = true
	if nh := crossFamilyNextHops(&dual, le4); nh.v6 != addr("2001:db8::1") || nh.v4.IsValid() {
		t.Errorf("v4 session next hops %+v, want global v6 of the interface", nh)
	}
	dual6 := p6
	dual6.DualStackAddressFamily = true
	if nh := crossFamilyNextHops(&dual6, le6); nh.v4 != addr("198.51.100.9") || nh.v6.IsValid() {
		t.Errorf("v6 session next hops %+v", nh)
	}
	if nh := crossFamilyNextHops(&p, le4); nh != (nextHops{}) {
		t.Errorf("single-family session has cross-family next hops %+v", nh)
	}
	if got := (nextHops{}).forPrefix(mustPrefix("2001:db8::/64")); got != netip.IPv6Unspecified() {
		t.Errorf("default v6 next hop %v", got)
	}
}

// The server's global RIB has tables only for the families its session
// carries, the same as the neighbor's.
func TestGlobalFamiliesFollowTheSession(t *testing.T) {
	// GoBGP's API numbers families by its AfiSafiType enumeration.
	v4 := uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_IPV4_UNICAST])
	v6 := uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_IPV6_UNICAST])
	for _, tc := range []struct {
		name string
		mod  func(*bgp.Peer)
		want []uint32
	}{
		{"IPv4 session", func(*bgp.Peer) {}, []uint32{v4}},
		{"IPv6 session", func(p *bgp.Peer) { p.Address = addr("2001:db8::2") }, []uint32{v6}},
		{"dual-stack", func(p *bgp.Peer) { p.DualStackAddressFamily = true }, []uint32{v4, v6}},
	} {
		p := basePeer()
		tc.mod(&p)
		got := globalConfig(&p, sessionParams{routerID: addr("192.0.2.1")}).Families
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%s: global families %v, want %v", tc.name, got, tc.want)
		}
		if n := len(peerConfig(&p, sessionParams{}).AfiSafis); n != len(tc.want) {
			t.Errorf("%s: %d neighbor families, want %d", tc.name, n, len(tc.want))
		}
	}
}

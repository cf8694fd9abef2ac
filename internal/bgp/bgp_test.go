package bgp

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func legacy(as, v uint32) Community { return Community{Global: as, Local1: v} }

func large(g, a, b uint32) Community { return Community{Large: true, Global: g, Local1: a, Local2: b} }

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Advertisement
		want map[netip.Prefix]Advertisement
		err  bool
	}{
		{name: "empty", in: nil, want: map[netip.Prefix]Advertisement{}},
		{
			name: "prefix masked, communities sorted legacy first and deduplicated",
			in: []Advertisement{{Prefix: pfx("198.51.100.7/24"), LocalPref: 50,
				Communities: []Community{large(1, 2, 3), legacy(65000, 2), legacy(65000, 1), legacy(65000, 2)}}},
			want: map[netip.Prefix]Advertisement{pfx("198.51.100.0/24"): {Prefix: pfx("198.51.100.0/24"), LocalPref: 50,
				Communities: []Community{legacy(65000, 1), legacy(65000, 2), large(1, 2, 3)}}},
		},
		{
			name: "duplicates merged: union of communities, highest local pref",
			in: []Advertisement{
				{Prefix: pfx("198.51.100.10/32"), LocalPref: 100, Communities: []Community{legacy(1, 1)}},
				{Prefix: pfx("198.51.100.10/32"), LocalPref: 200, Communities: []Community{legacy(1, 2), legacy(1, 1)}},
				{Prefix: pfx("2001:db8::1/128")},
			},
			want: map[netip.Prefix]Advertisement{
				pfx("198.51.100.10/32"): {Prefix: pfx("198.51.100.10/32"), LocalPref: 200, Communities: []Community{legacy(1, 1), legacy(1, 2)}},
				pfx("2001:db8::1/128"):  {Prefix: pfx("2001:db8::1/128")},
			},
		},
		{name: "invalid prefix", in: []Advertisement{{}}, err: true},
		{name: "mapped prefix", in: []Advertisement{{Prefix: pfx("::ffff:198.51.100.1/128")}}, err: true},
		{name: "legacy community out of range", in: []Advertisement{{Prefix: pfx("198.51.100.1/32"), Communities: []Community{legacy(70000, 1)}}}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := Advertisement{Prefix: pfx("198.51.100.1/32")}
	b := Advertisement{Prefix: pfx("198.51.100.2/32"), Communities: []Community{legacy(1, 1)}}
	bChanged := Advertisement{Prefix: pfx("198.51.100.2/32"), Communities: []Community{legacy(1, 2)}}
	c := Advertisement{Prefix: pfx("2001:db8::3/128"), LocalPref: 10}
	set := func(ads ...Advertisement) map[netip.Prefix]Advertisement {
		m := map[netip.Prefix]Advertisement{}
		for _, x := range ads {
			m[x.Prefix] = x
		}
		return m
	}
	for _, tc := range []struct {
		name          string
		sent, desired map[netip.Prefix]Advertisement
		announce      []Advertisement
		withdraw      []netip.Prefix
	}{
		{"nothing to do", set(a, b), set(a, b), nil, nil},
		{"first announcement", set(), set(b, a), []Advertisement{a, b}, nil},
		{"one added", set(a), set(a, c), []Advertisement{c}, nil},
		{"one removed", set(a, c), set(a), nil, []netip.Prefix{c.Prefix}},
		{"attribute change re-announces, no withdrawal", set(a, b), set(a, bChanged), []Advertisement{bChanged}, nil},
		{"everything withdrawn", set(c, a), set(), nil, []netip.Prefix{a.Prefix, c.Prefix}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			announce, withdraw := Diff(tc.sent, tc.desired)
			if diff := cmp.Diff(tc.announce, announce); diff != "" {
				t.Errorf("announce (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.withdraw, withdraw, cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); diff != "" {
				t.Errorf("withdraw (-want +got):\n%s", diff)
			}
		})
	}
}

func validPeer() Peer {
	return Peer{Name: "p", Address: netip.MustParseAddr("198.51.100.2"), MyASN: 64500, PeerASN: 64501,
		HoldTime: 90 * time.Second, KeepaliveTime: 30 * time.Second}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p *Peer)
		ok   bool
	}{
		{"valid", func(p *Peer) {}, true},
		{"valid ipv6 with source and bfd", func(p *Peer) {
			p.Address, p.SourceAddress = netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1")
			p.BFD = &BFDProfile{ReceiveInterval: 100 * time.Millisecond, TransmitInterval: 100 * time.Millisecond, DetectMultiplier: 3}
		}, true},
		{"hold 0", func(p *Peer) { p.HoldTime, p.KeepaliveTime = 0, 0 }, true},
		{"no name", func(p *Peer) { p.Name = "" }, false},
		{"no address", func(p *Peer) { p.Address = netip.Addr{} }, false},
		{"mapped address", func(p *Peer) { p.Address = netip.MustParseAddr("::ffff:198.51.100.2") }, false},
		{"no local asn", func(p *Peer) { p.MyASN = 0 }, false},
		{"no peer asn", func(p *Peer) { p.PeerASN = 0 }, false},
		{"dynamic external", func(p *Peer) { p.PeerASN, p.DynamicASN = 0, DynamicExternal }, true},
		{"dynamic internal", func(p *Peer) { p.PeerASN, p.DynamicASN = 0, DynamicInternal }, true},
		{"dynamic and peer asn", func(p *Peer) { p.DynamicASN = DynamicExternal }, false},
		{"dynamic unknown", func(p *Peer) { p.PeerASN, p.DynamicASN = 0, "any" }, false},
		{"multihop dynamic internal", func(p *Peer) { p.PeerASN, p.DynamicASN, p.EBGPMultiHop = 0, DynamicInternal, true }, false},
		{"multihop dynamic external", func(p *Peer) { p.PeerASN, p.DynamicASN, p.EBGPMultiHop = 0, DynamicExternal, true }, true},
		{"ipv6 router id", func(p *Peer) { p.RouterID = netip.MustParseAddr("2001:db8::1") }, false},
		{"source of other family", func(p *Peer) { p.SourceAddress = netip.MustParseAddr("2001:db8::1") }, false},
		{"hold 2s", func(p *Peer) { p.HoldTime, p.KeepaliveTime = 2*time.Second, time.Second }, false},
		{"hold fractional", func(p *Peer) { p.HoldTime = 3500 * time.Millisecond }, false},
		{"keepalive above hold", func(p *Peer) { p.KeepaliveTime = 91 * time.Second }, false},
		{"connect fractional", func(p *Peer) { p.ConnectTime = 1500 * time.Millisecond }, false},
		{"multihop ibgp", func(p *Peer) { p.PeerASN, p.EBGPMultiHop = p.MyASN, true }, false},
		{"long password", func(p *Peer) { p.Password = string(make([]byte, 81)) }, false},
		{"bfd multiplier 0", func(p *Peer) { p.BFD = &BFDProfile{ReceiveInterval: time.Second, TransmitInterval: time.Second} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validPeer()
			tc.edit(&p)
			err := p.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPeer) {
				t.Errorf("error %v does not wrap ErrInvalidPeer", err)
			}
		})
	}
}

func TestSessionEqualIgnoresBFD(t *testing.T) {
	a := validPeer()
	b := a
	b.BFD = &BFDProfile{ReceiveInterval: time.Second, TransmitInterval: time.Second, DetectMultiplier: 3}
	if !a.SessionEqual(b) || a.BFDEqual(b) {
		t.Errorf("a BFD change must not change the session: SessionEqual %v BFDEqual %v", a.SessionEqual(b), a.BFDEqual(b))
	}
	c := b
	c.BFD = &BFDProfile{ReceiveInterval: time.Second, TransmitInterval: time.Second, DetectMultiplier: 3}
	if !b.BFDEqual(c) {
		t.Error("equal profiles behind different pointers differ")
	}
	for name, edit := range map[string]func(p *Peer){
		"hold":     func(p *Peer) { p.HoldTime = 30 * time.Second },
		"password": func(p *Peer) { p.Password = "x" },
		"port":     func(p *Peer) { p.Port = 1179 },
		"vrf":      func(p *Peer) { p.VRF = "red" },
		"gr":       func(p *Peer) { p.GracefulRestart = true },
		"dynamic":  func(p *Peer) { p.PeerASN, p.DynamicASN = 0, DynamicExternal },
	} {
		d := a
		edit(&d)
		if a.SessionEqual(d) {
			t.Errorf("%s change not seen by SessionEqual", name)
		}
	}
}

func TestPeerHelpers(t *testing.T) {
	p := validPeer()
	if p.ID() != "198.51.100.2:179" {
		t.Errorf("ID %q", p.ID())
	}
	p.Address, p.Port = netip.MustParseAddr("2001:db8::2"), 1179
	if p.ID() != "[2001:db8::2]:1179" {
		t.Errorf("ID %q", p.ID())
	}
	if p.Carries(pfx("198.51.100.0/24")) || !p.Carries(pfx("2001:db8::/64")) {
		t.Error("an IPv6 session carries IPv6 routes only")
	}
	p.DualStackAddressFamily = true
	if !p.Carries(pfx("198.51.100.0/24")) {
		t.Error("a dual-stack session carries IPv4 routes")
	}
	for _, c := range []struct {
		my, peer uint32
		dynamic  string
		ibgp     bool
	}{
		{64500, 64500, "", true},
		{64500, 64501, "", false},
		{64500, 0, DynamicInternal, true},
		{64500, 0, DynamicExternal, false},
	} {
		q := Peer{MyASN: c.my, PeerASN: c.peer, DynamicASN: c.dynamic}
		if q.IBGP() != c.ibgp {
			t.Errorf("IBGP of %+v = %v", c, q.IBGP())
		}
	}
	if got := (Community{Global: 65000, Local1: 100}).Value(); got != 65000<<16|100 {
		t.Errorf("Value %d", got)
	}
	if got := large(1, 2, 3).String(); got != "large:1:2:3" {
		t.Errorf("String %q", got)
	}
}

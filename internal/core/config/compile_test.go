package config

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// TestCompileConfig checks the compiled output of a valid snapshot:
// defaults, summarised ranges, resolved selectors, aliases, secrets and
// profiles.
func TestCompileConfig(t *testing.T) {
	prod := map[string]string{"env": "prod"}
	s := Snapshot{
		Pools: []PoolSpec{
			{Meta: Meta{Name: "web", Labels: prod}, Addresses: []string{"192.0.2.10-192.0.2.20", "2001:db8::/120"}, AvoidBuggyIPs: true},
			{Meta: Meta{Name: "manual"}, Addresses: []string{"198.51.100.0/24"}, AutoAssign: ptr(false)},
			{Meta: Meta{Name: "prio"}, Addresses: []string{"203.0.113.0/28"}, Allocation: &ServiceAllocationSpec{Priority: 5}},
			{Meta: Meta{Name: "team"}, Addresses: []string{"203.0.113.16/28"}, Allocation: &ServiceAllocationSpec{
				Namespaces:         []string{"listed"},
				NamespaceSelectors: []model.Selector{sel("team", "blue")},
			}},
			{Meta: Meta{Name: "svc"}, Addresses: []string{"203.0.113.32/28"}, Allocation: &ServiceAllocationSpec{
				ServiceSelectors: []model.Selector{sel("app", "db")},
			}},
			{Meta: Meta{Name: "nobody"}, Addresses: []string{"203.0.113.48/28"}, Allocation: &ServiceAllocationSpec{
				NamespaceSelectors: []model.Selector{sel("team", "none")},
			}},
		},
		Namespaces: []Namespace{
			{Name: "blue-1", Labels: map[string]string{"team": "blue"}},
			{Name: "blue-2", Labels: map[string]string{"team": "blue"}},
			{Name: "red", Labels: map[string]string{"team": "red"}},
		},
		L2Advertisements: []L2AdvertisementSpec{
			{Meta: Meta{Name: "all"}, Interfaces: []string{"eth1", "eth0", "eth1"}},
			{Meta: Meta{Name: "some"}, IPAddressPools: []string{"manual", "does-not-exist"}, IPAddressPoolSelectors: []model.Selector{sel("env", "prod")},
				NodeSelectors: []model.Selector{sel("zone", "a")}, PreferredNodeSelectors: []PreferredNodeSelector{{Weight: 10, Preference: sel("disk", "ssd")}}},
		},
		Communities: []CommunitySpec{{Meta: Meta{Name: "c"}, Communities: []CommunityAlias{
			{Name: "gold", Value: "65000:100"}, {Name: "big", Value: "large:4200000000:1:2"},
		}}},
		BGPAdvertisements: []BGPAdvertisementSpec{
			{Meta: Meta{Name: "default"}, IPAddressPools: []string{"web"}, Peers: []string{"tor", "hold"}},
			{Meta: Meta{Name: "tuned"}, IPAddressPools: []string{"manual"}, AggregationLength: ptr[int32](24), LocalPref: 150,
				Communities: []string{"big", "65000:100", "gold", "1:2"}, Peers: []string{"tor"}},
		},
		BFDProfiles: []BFDProfileSpec{
			{Meta: Meta{Name: "defaults"}},
			{Meta: Meta{Name: "tuned"}, ReceiveInterval: ptr[uint32](100), TransmitInterval: ptr[uint32](200), DetectMultiplier: ptr[uint32](5),
				EchoInterval: ptr[uint32](20), EchoMode: ptr(true), PassiveMode: ptr(true), MinimumTTL: ptr[uint32](250)},
		},
		Secrets: []SecretSpec{{Name: "tor-auth", Type: SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("s3cret")}}},
		BGPPeers: []BGPPeerSpec{
			{Meta: Meta{Name: "tor"}, MyASN: 64500, PeerASN: 64501, PeerAddress: "::ffff:192.0.2.1", SourceAddress: "192.0.2.100",
				RouterID: "10.0.0.1", PasswordSecret: "tor-auth", BFDProfile: "defaults"},
			{Meta: Meta{Name: "hold"}, MyASN: 64500, PeerASN: 64502, PeerAddress: "2001:db8::1", PeerPort: 1179,
				HoldTime: dur(9400 * time.Millisecond), Password: "plain", RouterID: "10.0.0.1"},
			{Meta: Meta{Name: "ka"}, MyASN: 64500, DynamicASN: "internal", Interface: "eth2", KeepaliveTime: dur(10 * time.Second),
				ConnectTime: dur(5 * time.Second), BFDProfile: "tuned", NodeSelectors: []model.Selector{sel("zone", "a")}},
		},
	}
	cfg, errs := Compile(s)
	if len(errs) != 0 {
		t.Fatalf("Compile: unexpected errors:\n%v", errs)
	}

	wantPools := map[string]*model.Pool{
		"web": {Name: "web", Labels: prod, AutoAssign: true, AvoidBuggyIPs: true,
			CIDRs: prefixes("192.0.2.10/31", "192.0.2.12/30", "192.0.2.16/30", "192.0.2.20/32", "2001:db8::/120")},
		"manual": {Name: "manual", AutoAssign: false, CIDRs: prefixes("198.51.100.0/24")},
		"prio": {Name: "prio", AutoAssign: true, CIDRs: prefixes("203.0.113.0/28"),
			Allocation: &model.Allocation{Priority: 5, ServiceSelectors: []model.Selector{{}}}},
		"team": {Name: "team", AutoAssign: true, CIDRs: prefixes("203.0.113.16/28"),
			Allocation: &model.Allocation{NamespaceRestricted: true, Namespaces: map[string]bool{"listed": true, "blue-1": true, "blue-2": true}}},
		"svc": {Name: "svc", AutoAssign: true, CIDRs: prefixes("203.0.113.32/28"),
			Allocation: &model.Allocation{ServiceSelectors: []model.Selector{sel("app", "db")}}},
		"nobody": {Name: "nobody", AutoAssign: true, CIDRs: prefixes("203.0.113.48/28"),
			Allocation: &model.Allocation{NamespaceRestricted: true, Namespaces: map[string]bool{}}},
	}
	defaults := &BFDProfile{Name: "defaults", ReceiveInterval: 300 * time.Millisecond, TransmitInterval: 300 * time.Millisecond,
		DetectMultiplier: 3, EchoInterval: 50 * time.Millisecond, MinimumTTL: 254}
	tuned := &BFDProfile{Name: "tuned", ReceiveInterval: 100 * time.Millisecond, TransmitInterval: 200 * time.Millisecond,
		DetectMultiplier: 5, EchoInterval: 20 * time.Millisecond, EchoMode: true, PassiveMode: true, MinimumTTL: 250}
	want := &Config{
		Pools:     wantPools,
		PoolNames: []string{"manual", "nobody", "prio", "svc", "team", "web"},
		L2Advertisements: []*L2Advertisement{
			{Name: "all", Pools: []string{"manual", "nobody", "prio", "svc", "team", "web"}, Interfaces: []string{"eth0", "eth1"}},
			{Name: "some", Pools: []string{"manual", "web"}, NodeSelectors: []model.Selector{sel("zone", "a")},
				PreferredNodeSelectors: []PreferredNodeSelector{{Weight: 10, Preference: sel("disk", "ssd")}}},
		},
		BGPAdvertisements: []*BGPAdvertisement{
			{Name: "default", AggregationLength: 32, AggregationLengthV6: 128, Pools: []string{"web"}, Peers: []string{"tor", "hold"}},
			{Name: "tuned", AggregationLength: 24, AggregationLengthV6: 128, LocalPref: 150, Pools: []string{"manual"}, Peers: []string{"tor"},
				Communities: []Community{{Global: 1, Local1: 2}, {Global: 65000, Local1: 100}, {Large: true, Global: 4200000000, Local1: 1, Local2: 2}}},
		},
		BGPPeers: []*BGPPeer{
			{Name: "hold", MyASN: 64500, PeerASN: 64502, Address: netip.MustParseAddr("2001:db8::1"), Port: 1179,
				RouterID: netip.MustParseAddr("10.0.0.1"), HoldTime: 9 * time.Second, KeepaliveTime: 3 * time.Second, Password: "plain"},
			{Name: "ka", MyASN: 64500, DynamicASN: "internal", Interface: "eth2", Port: 179,
				HoldTime: 30 * time.Second, KeepaliveTime: 10 * time.Second, ConnectTime: 5 * time.Second,
				NodeSelectors: []model.Selector{sel("zone", "a")}, BFDProfile: tuned},
			{Name: "tor", MyASN: 64500, PeerASN: 64501, Address: netip.MustParseAddr("192.0.2.1"), Port: 179,
				SourceAddress: netip.MustParseAddr("192.0.2.100"), RouterID: netip.MustParseAddr("10.0.0.1"),
				HoldTime: 90 * time.Second, KeepaliveTime: 30 * time.Second, Password: "s3cret", BFDProfile: defaults},
		},
		BFDProfiles: map[string]*BFDProfile{"defaults": defaults, "tuned": tuned},
	}
	if diff := cmp.Diff(want, cfg, netipCmp); diff != "" {
		t.Errorf("Compile (-want +got):\n%s", diff)
	}
	if cfg.BGPPeers[2].BFDProfile != cfg.BFDProfiles["defaults"] {
		t.Errorf("peer BFD profile does not point into Config.BFDProfiles")
	}
}

// TestCompileKeepsValidObjects checks that invalid objects are left out
// while every valid one stays.
func TestCompileKeepsValidObjects(t *testing.T) {
	s := Snapshot{
		Pools: []PoolSpec{pool("good", "192.0.2.0/24"), pool("bad", "nonsense"), pool("clash-1", "198.51.100.0/24"), pool("clash-2", "198.51.100.128/25")},
		BGPAdvertisements: []BGPAdvertisementSpec{
			{Meta: Meta{Name: "ok"}, IPAddressPools: []string{"good", "bad", "clash-1"}},
			{Meta: Meta{Name: "broken"}, Communities: []string{"x:y"}},
		},
		BGPPeers: []BGPPeerSpec{peer("ok", "192.0.2.1"), peer("no-asn", "192.0.2.2")},
	}
	s.BGPPeers[1].MyASN = 0
	cfg, errs := Compile(s)
	wantObjects := []ObjectRef{
		{KindPool, "bad"}, {KindPool, "clash-1"}, {KindPool, "clash-2"},
		{KindBGPPeer, "no-asn"}, {KindBGPAdvertisement, "broken"},
	}
	if diff := cmp.Diff(wantObjects, errs.Objects()); diff != "" {
		t.Errorf("Objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"good"}, cfg.PoolNames); diff != "" {
		t.Errorf("PoolNames (-want +got):\n%s", diff)
	}
	if len(cfg.BGPAdvertisements) != 1 || cfg.BGPAdvertisements[0].Name != "ok" {
		t.Fatalf("BGPAdvertisements = %+v, want only ok", cfg.BGPAdvertisements)
	}
	// Names of invalid pools are ignored, not errors.
	if diff := cmp.Diff([]string{"good"}, cfg.BGPAdvertisements[0].Pools); diff != "" {
		t.Errorf("ad pools (-want +got):\n%s", diff)
	}
	if len(cfg.BGPPeers) != 1 || cfg.BGPPeers[0].Name != "ok" {
		t.Errorf("BGPPeers = %+v, want only ok", cfg.BGPPeers)
	}
}

// TestCompileLargeOverlapSweep checks that the overlap sweep finds the one
// clash among many prefixes, and stays fast (O(n log n)): 100,000 CIDRs
// in 1,000 pools.
func TestCompileLargeOverlapSweep(t *testing.T) {
	var s Snapshot
	for p := range 1000 {
		ps := PoolSpec{Meta: Meta{Name: fmt.Sprintf("p%04d", p)}}
		for i := range 100 {
			n := p*100 + i
			ps.Addresses = append(ps.Addresses, netip.AddrFrom4([4]byte{198, 18 + byte(n>>16), byte(n >> 8), byte(n)}).String()+"/32")
		}
		s.Pools = append(s.Pools, ps)
	}
	s.Pools[999].Addresses[99] = "198.18.0.5/32" // also in p0000
	start := time.Now()
	_, errs := Compile(s)
	elapsed := time.Since(start)
	want := []Error{
		perr(KindPool, "p0000", "spec.addresses[5]", `CIDR "198.18.0.5/32" overlaps with CIDR "198.18.0.5/32" of IPAddressPool "p0999"`),
		perr(KindPool, "p0999", "spec.addresses[99]", `CIDR "198.18.0.5/32" overlaps with CIDR "198.18.0.5/32" of IPAddressPool "p0000"`),
	}
	if diff := cmp.Diff(want, []Error(errs)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if elapsed > 10*time.Second {
		t.Errorf("Compile of 100,000 CIDRs took %s", elapsed)
	}
}

func TestErrors(t *testing.T) {
	errs := Errors{
		perr(KindPool, "a", "spec.addresses[0]", "bad"),
		transient(KindBGPPeer, "p", "spec.bfdProfile", "missing"),
		perr(KindPool, "a", "", "whole object"),
	}
	wantText := "IPAddressPool \"a\": spec.addresses[0]: bad\nBGPPeer \"p\": spec.bfdProfile: missing\nIPAddressPool \"a\": whole object"
	if got := errs.Error(); got != wantText {
		t.Errorf("Error() = %q, want %q", got, wantText)
	}
	if diff := cmp.Diff([]ObjectRef{{KindPool, "a"}, {KindBGPPeer, "p"}}, errs.Objects()); diff != "" {
		t.Errorf("Objects (-want +got):\n%s", diff)
	}
	if got := len(errs.For(KindPool, "a")); got != 2 {
		t.Errorf("For(pool a) has %d errors, want 2", got)
	}
	if errs.Transient() {
		t.Errorf("Transient() = true with a permanent error")
	}
	if !errs.For(KindBGPPeer, "p").Transient() {
		t.Errorf("Transient() = false with only transient errors")
	}
	if Errors(nil).Err() != nil || errs.Err() == nil {
		t.Errorf("Err() must be nil exactly when there is no error")
	}
}

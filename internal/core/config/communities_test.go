package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

func TestParseCommunity(t *testing.T) {
	tests := []struct {
		in        string
		want      Community
		wantValue uint32
	}{
		{in: "0:0", want: Community{}},
		{in: "65000:100", want: Community{Global: 65000, Local1: 100}, wantValue: 65000<<16 | 100},
		{in: "65535:65535", want: Community{Global: 65535, Local1: 65535}, wantValue: 0xffffffff},
		{in: "large:4294967295:0:7", want: Community{Large: true, Global: 4294967295, Local2: 7}},
	}
	for _, tc := range tests {
		got, err := ParseCommunity(tc.in)
		if err != nil {
			t.Fatalf("ParseCommunity(%q): %v", tc.in, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseCommunity(%q) (-want +got):\n%s", tc.in, diff)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
		if got.Value() != tc.wantValue {
			t.Errorf("%s: Value() = %#x, want %#x", tc.in, got.Value(), tc.wantValue)
		}
	}
	for _, bad := range []string{"", "1", "-1:2", "65536:1", "large:1:2:4294967296", "LARGE:1:2:3", "1:2:3:4:5", " 1:2"} {
		if _, err := ParseCommunity(bad); err == nil {
			t.Errorf("ParseCommunity(%q) succeeded, want an error", bad)
		}
	}
}

func TestSelectsHelpers(t *testing.T) {
	cfg, errs := Compile(Snapshot{
		Pools:             []PoolSpec{pool("a", "192.0.2.0/24")},
		L2Advertisements:  []L2AdvertisementSpec{{Meta: Meta{Name: "l2"}, NodeSelectors: []model.Selector{sel("zone", "a")}}},
		BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "all"}}, {Meta: Meta{Name: "some"}, Peers: []string{"p"}, ServiceSelectors: []model.Selector{sel("app", "web")}}},
		BGPPeers:          []BGPPeerSpec{with(peer("p", "192.0.2.1"), func(p *BGPPeerSpec) { p.NodeSelectors = []model.Selector{in("zone", "a", "b")} })},
	})
	if len(errs) != 0 {
		t.Fatalf("Compile: %v", errs)
	}
	zoneA, zoneC := map[string]string{"zone": "a"}, map[string]string{"zone": "c"}
	web, db := map[string]string{"app": "web"}, map[string]string{"app": "db"}
	l2, all, some, p := cfg.L2Advertisements[0], cfg.BGPAdvertisements[0], cfg.BGPAdvertisements[1], cfg.BGPPeers[0]
	checks := []struct {
		what      string
		got, want bool
	}{
		{"l2 selects node in zone a", l2.SelectsNode(zoneA), true},
		{"l2 selects node in zone c", l2.SelectsNode(zoneC), false},
		{"l2 without serviceSelectors selects any service", l2.SelectsService(db), true},
		{"bgp ad without nodeSelectors selects any node", all.SelectsNode(zoneC), true},
		{"bgp ad without peers selects any peer", all.SelectsPeer("x"), true},
		{"bgp ad with peers selects a listed peer", some.SelectsPeer("p"), true},
		{"bgp ad with peers skips another peer", some.SelectsPeer("x"), false},
		{"bgp ad with serviceSelectors selects web", some.SelectsService(web), true},
		{"bgp ad with serviceSelectors skips db", some.SelectsService(db), false},
		{"peer selects zone a", p.SelectsNode(zoneA), true},
		{"peer skips zone c", p.SelectsNode(zoneC), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if p.ID() != "192.0.2.1" {
		t.Errorf("ID() = %q, want 192.0.2.1", p.ID())
	}
}

package config

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// resolveStep is one step of a Resolve script: the cluster state, then
// what the running config must hold (pool name -> CIDRs, peer names) and
// which objects are reported at fault.
type resolveStep struct {
	desc      string
	s         Snapshot
	wantPools map[string][]string
	wantPeers []string
	wantBad   []ObjectRef
	transient bool // all reported errors are transient
}

func runResolveScript(t *testing.T, steps []resolveStep) {
	t.Helper()
	var lastGood *Snapshot
	for i, st := range steps {
		cfg, used, errs := Resolve(st.s, lastGood)

		gotPools := map[string][]string{}
		for name, p := range cfg.Pools {
			for _, c := range p.CIDRs {
				gotPools[name] = append(gotPools[name], c.String())
			}
		}
		if st.wantPools == nil {
			st.wantPools = map[string][]string{}
		}
		if diff := cmp.Diff(st.wantPools, gotPools); diff != "" {
			t.Errorf("step %d (%s): pools (-want +got):\n%s", i, st.desc, diff)
		}
		var gotPeers []string
		for _, p := range cfg.BGPPeers {
			gotPeers = append(gotPeers, p.Name)
		}
		if diff := cmp.Diff(st.wantPeers, gotPeers); diff != "" {
			t.Errorf("step %d (%s): peers (-want +got):\n%s", i, st.desc, diff)
		}
		if diff := cmp.Diff(st.wantBad, errs.Objects()); diff != "" {
			t.Errorf("step %d (%s): objects at fault (-want +got):\n%s", i, st.desc, diff)
		}
		if len(errs) > 0 && errs.Transient() != st.transient {
			t.Errorf("step %d (%s): Transient() = %v, want %v", i, st.desc, errs.Transient(), st.transient)
		}
		// The used snapshot compiles cleanly to the returned config, and
		// resolving the same state again is stable.
		if ucfg, uerrs := Compile(used); len(uerrs) != 0 || !reflect.DeepEqual(ucfg, cfg) {
			t.Errorf("step %d (%s): used snapshot compiles to errors %v or to another config", i, st.desc, uerrs)
		}
		cfg2, used2, _ := Resolve(st.s, &used)
		if !reflect.DeepEqual(cfg2, cfg) || !reflect.DeepEqual(used2, used) {
			t.Errorf("step %d (%s): resolving again with the new lastGood changed the result", i, st.desc)
		}
		lastGood = &used
	}
}

func TestResolvePoolEdits(t *testing.T) {
	a := ObjectRef{KindPool, "a"}
	b := ObjectRef{KindPool, "b"}
	c := ObjectRef{KindPool, "c"}
	runResolveScript(t, []resolveStep{
		{
			desc:      "pool a is valid",
			s:         Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.0/25")}},
			wantPools: map[string][]string{"a": {"192.0.2.0/25"}},
		},
		{
			desc:      "a edited to something invalid keeps its old addresses",
			s:         Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.0/25", "192.0.2.300/32")}},
			wantPools: map[string][]string{"a": {"192.0.2.0/25"}},
			wantBad:   []ObjectRef{a},
		},
		{
			desc:      "a fixed uses the new addresses",
			s:         Snapshot{Pools: []PoolSpec{pool("a", "192.0.2.0/25", "198.51.100.0/30")}},
			wantPools: map[string][]string{"a": {"192.0.2.0/25", "198.51.100.0/30"}},
		},
		{
			desc: "a new pool overlapping a does not disturb a",
			s: Snapshot{Pools: []PoolSpec{
				pool("a", "192.0.2.0/25", "198.51.100.0/30"), pool("b", "192.0.2.64/26"),
			}},
			wantPools: map[string][]string{"a": {"192.0.2.0/25", "198.51.100.0/30"}},
			wantBad:   []ObjectRef{a, b},
		},
		{
			desc: "an invalid new pool does not disturb a valid new one",
			s: Snapshot{Pools: []PoolSpec{
				pool("a", "192.0.2.0/25", "198.51.100.0/30"), pool("b", "192.0.2.64/26"), pool("c", "nonsense"), pool("d", "203.0.113.0/24"),
			}},
			wantPools: map[string][]string{"a": {"192.0.2.0/25", "198.51.100.0/30"}, "d": {"203.0.113.0/24"}},
			wantBad:   []ObjectRef{a, b, c},
		},
		{
			desc: "deleting pool a is honoured, and b becomes valid",
			s: Snapshot{Pools: []PoolSpec{
				pool("b", "192.0.2.64/26"), pool("c", "nonsense"), pool("d", "203.0.113.0/24"),
			}},
			wantPools: map[string][]string{"b": {"192.0.2.64/26"}, "d": {"203.0.113.0/24"}},
			wantBad:   []ObjectRef{c},
		},
		{
			desc: "a valid edit is taken even while another object is invalid",
			s: Snapshot{Pools: []PoolSpec{
				pool("b", "192.0.2.64/27"), pool("c", "nonsense"), pool("d", "203.0.113.0/24"),
			}},
			wantPools: map[string][]string{"b": {"192.0.2.64/27"}, "d": {"203.0.113.0/24"}},
			wantBad:   []ObjectRef{c},
		},
		{
			desc:      "everything deleted",
			s:         Snapshot{},
			wantPools: nil,
		},
	})
}

// TestResolveOneAtATime covers the case where the first try fails: a valid
// edit of b clashes with the last-good version of d, whose own edit is
// invalid. Both keep their last-good addresses, while an unrelated new
// pool e is still taken and unchanged objects of every kind stay.
func TestResolveOneAtATime(t *testing.T) {
	d := ObjectRef{KindPool, "d"}
	others := Snapshot{
		Communities:       []CommunitySpec{{Meta: Meta{Name: "c"}, Communities: []CommunityAlias{{Name: "gold", Value: "65000:1"}}}},
		BGPAdvertisements: []BGPAdvertisementSpec{{Meta: Meta{Name: "ad"}, Communities: []string{"gold"}}},
		L2Advertisements:  []L2AdvertisementSpec{{Meta: Meta{Name: "l2"}}},
		BFDProfiles:       []BFDProfileSpec{{Meta: Meta{Name: "fast"}}},
		BGPPeers:          []BGPPeerSpec{peer("p", "192.0.2.1")},
	}
	with := func(pools ...PoolSpec) Snapshot {
		s := others
		s.Pools = pools
		return s
	}
	runResolveScript(t, []resolveStep{
		{
			desc:      "b and d valid",
			s:         with(pool("b", "192.0.2.0/24"), pool("d", "198.51.100.0/24")),
			wantPools: map[string][]string{"b": {"192.0.2.0/24"}, "d": {"198.51.100.0/24"}},
			wantPeers: []string{"p"},
		},
		{
			desc:      "b moves to d's range while d's move is invalid; e is new",
			s:         with(pool("b", "198.51.100.0/24"), pool("d", "192.0.2.0/24", "junk"), pool("e", "203.0.113.0/24")),
			wantPools: map[string][]string{"b": {"192.0.2.0/24"}, "d": {"198.51.100.0/24"}, "e": {"203.0.113.0/24"}},
			wantPeers: []string{"p"},
			wantBad:   []ObjectRef{d},
		},
		{
			desc:      "d's move fixed: both moves applied",
			s:         with(pool("b", "198.51.100.0/24"), pool("d", "192.0.2.0/24"), pool("e", "203.0.113.0/24")),
			wantPools: map[string][]string{"b": {"198.51.100.0/24"}, "d": {"192.0.2.0/24"}, "e": {"203.0.113.0/24"}},
			wantPeers: []string{"p"},
		},
	})
}

// TestResolveReferences covers objects that become invalid without being
// edited (a Secret deleted) and references to objects that appear later.
func TestResolveReferences(t *testing.T) {
	withSecret := func(p BGPPeerSpec) BGPPeerSpec { p.PasswordSecret = "auth"; return p }
	withBFD := func(p BGPPeerSpec) BGPPeerSpec { p.BFDProfile = "fast"; return p }
	secret := SecretSpec{Name: "auth", Type: SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("pw")}}
	p := ObjectRef{KindBGPPeer, "p"}
	q := ObjectRef{KindBGPPeer, "q"}
	runResolveScript(t, []resolveStep{
		{
			desc:      "peer p with its Secret",
			s:         Snapshot{Secrets: []SecretSpec{secret}, BGPPeers: []BGPPeerSpec{withSecret(peer("p", "192.0.2.1"))}},
			wantPeers: []string{"p"},
		},
		{
			desc:      "Secret deleted: p cannot run, the error is transient",
			s:         Snapshot{BGPPeers: []BGPPeerSpec{withSecret(peer("p", "192.0.2.1"))}},
			wantBad:   []ObjectRef{p},
			transient: true,
		},
		{
			desc:      "Secret back: p runs again",
			s:         Snapshot{Secrets: []SecretSpec{secret}, BGPPeers: []BGPPeerSpec{withSecret(peer("p", "192.0.2.1"))}},
			wantPeers: []string{"p"},
		},
		{
			desc: "new peer q refers to a BFD profile that does not exist yet",
			s: Snapshot{Secrets: []SecretSpec{secret}, BGPPeers: []BGPPeerSpec{
				withSecret(peer("p", "192.0.2.1")), withBFD(peer("q", "192.0.2.2")),
			}},
			wantPeers: []string{"p"},
			wantBad:   []ObjectRef{q},
			transient: true,
		},
		{
			desc: "the profile appears: q runs",
			s: Snapshot{
				Secrets:     []SecretSpec{secret},
				BFDProfiles: []BFDProfileSpec{{Meta: Meta{Name: "fast"}}},
				BGPPeers:    []BGPPeerSpec{withSecret(peer("p", "192.0.2.1")), withBFD(peer("q", "192.0.2.2"))},
			},
			wantPeers: []string{"p", "q"},
		},
		{
			desc: "a bad edit of the profile keeps its last-good version, so q keeps running",
			s: Snapshot{
				Secrets:     []SecretSpec{secret},
				BFDProfiles: []BFDProfileSpec{{Meta: Meta{Name: "fast"}, DetectMultiplier: ptr[uint32](1)}},
				BGPPeers:    []BGPPeerSpec{withSecret(peer("p", "192.0.2.1")), withBFD(peer("q", "192.0.2.2"))},
			},
			wantPeers: []string{"p", "q"},
			wantBad:   []ObjectRef{{KindBFDProfile, "fast"}, q},
		},
	})
}

// TestResolveFromScratch: with no last-good snapshot, invalid objects are
// left out and valid ones run.
func TestResolveFromScratch(t *testing.T) {
	s := Snapshot{
		Pools:            []PoolSpec{pool("a", "192.0.2.0/24"), pool("b", "192.0.2.0/25"), pool("c", "198.51.100.0/24")},
		L2Advertisements: []L2AdvertisementSpec{{Meta: Meta{Name: "l2"}}},
	}
	cfg, used, errs := Resolve(s, nil)
	if diff := cmp.Diff([]ObjectRef{{KindPool, "a"}, {KindPool, "b"}}, errs.Objects()); diff != "" {
		t.Errorf("objects at fault (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c"}, cfg.PoolNames); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
	if len(cfg.L2Advertisements) != 1 || !reflect.DeepEqual(cfg.L2Advertisements[0].Pools, []string{"c"}) {
		t.Errorf("L2Advertisements = %+v, want l2 over pool c", cfg.L2Advertisements)
	}
	if len(used.Pools) != 1 || used.Pools[0].Name != "c" {
		t.Errorf("used pools = %+v, want only c", used.Pools)
	}
}

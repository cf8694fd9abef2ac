package config

import (
	"maps"
	"reflect"
	"slices"
)

// Resolve applies the rule "bad input never takes down good config". s is
// the current state of the cluster, lastGood the snapshot Resolve returned
// last time (nil at start). It returns the Config to run with, the snapshot
// it was compiled from (pass it as lastGood next time) and every error of
// Compile(s), to be reported.
//
// When s compiles without error, it is used as is. Otherwise:
//
//  1. First try: every object of s that has no error, at its current
//     version, plus the last-good version of each object that has one
//     (objects with errors and no last-good version are left out). This
//     succeeds in the common case of independent mistakes, in one Compile.
//  2. Otherwise, one object at a time: start from the last-good version of
//     every object still present in s (objects deleted from s are gone),
//     dropping any that no longer compile (for example a peer whose Secret
//     was deleted); then, for each object that is new or changed, in the
//     order kind (BFDProfile, Community, IPAddressPool, BGPPeer,
//     BGPAdvertisement, L2Advertisement) then name, try its current
//     version in place of its last-good one and keep it if the whole still
//     compiles without error, else keep the last-good version (or nothing,
//     for a new object).
//
// So a bad edit to a pool keeps the pool's previous addresses (a Service
// holding an IP never loses it to a bad edit), an invalid new pool never
// takes down valid ones, and deletions are honoured. Secrets, namespaces
// and nodes are always taken from s.
//
// Objects are compared by name and deep equality of their spec. Resolve is
// pure. Cost: with C the cost of one Compile, n objects and k of them new
// or changed, C when s is valid, 2C when the first try succeeds, and at
// most (k + d + 3)·C otherwise, where d (usually 0) is the number of
// last-good objects dropped while cleaning the starting point.
func Resolve(s Snapshot, lastGood *Snapshot) (cfg *Config, used Snapshot, errs Errors) {
	cfg, errs = Compile(s)
	if len(errs) == 0 {
		return cfg, s, nil
	}
	cur := objectsOf(s)
	prev := objects{}
	if lastGood != nil {
		prev = objectsOf(*lastGood)
	}
	faulty := map[ObjectRef]bool{}
	for _, r := range errs.Objects() {
		faulty[r] = true
	}

	first := objects{}
	for r, v := range cur {
		if old, had := prev[r]; faulty[r] && had {
			first[r] = old
		} else if !faulty[r] {
			first[r] = v
		}
	}
	firstSnap := first.snapshot(s)
	if c, e := Compile(firstSnap); len(e) == 0 {
		return c, firstSnap, errs
	}

	base := objects{}
	for r := range cur {
		if old, had := prev[r]; had {
			base[r] = old
		}
	}
	cfg, base = clean(base, s)
	for _, r := range cur.sortedRefs() {
		if old, had := base[r]; had && reflect.DeepEqual(old, cur[r]) {
			continue
		}
		trial := maps.Clone(base)
		trial[r] = cur[r]
		if c, e := Compile(trial.snapshot(s)); len(e) == 0 {
			cfg, base = c, trial
		}
	}
	return cfg, base.snapshot(s), errs
}

// clean removes from o the objects at fault until what remains compiles
// without error. Each round removes at least one object, so there are at
// most len(o)+1 rounds.
func clean(o objects, env Snapshot) (*Config, objects) {
	for range len(o) + 1 {
		cfg, errs := Compile(o.snapshot(env))
		if len(errs) == 0 {
			return cfg, o
		}
		removed := false
		for _, r := range errs.Objects() {
			if _, ok := o[r]; ok {
				delete(o, r)
				removed = true
			}
		}
		if !removed {
			break
		}
	}
	// Unreachable with a consistent Compile; fall back to nothing but the
	// environment, which always compiles.
	o = objects{}
	cfg, _ := Compile(o.snapshot(env))
	return cfg, o
}

// objects holds the metallb.io objects of a snapshot by kind and name; the
// values are the spec structs (PoolSpec, BGPPeerSpec, ...).
type objects map[ObjectRef]any

// objectsOf indexes the objects of s; of several objects with one name,
// the first is kept.
func objectsOf(s Snapshot) objects {
	o := objects{}
	put := func(k Kind, name string, v any) {
		r := ObjectRef{k, name}
		if _, dup := o[r]; !dup {
			o[r] = v
		}
	}
	for _, v := range s.Pools {
		put(KindPool, v.Name, v)
	}
	for _, v := range s.L2Advertisements {
		put(KindL2Advertisement, v.Name, v)
	}
	for _, v := range s.BGPAdvertisements {
		put(KindBGPAdvertisement, v.Name, v)
	}
	for _, v := range s.BGPPeers {
		put(KindBGPPeer, v.Name, v)
	}
	for _, v := range s.BFDProfiles {
		put(KindBFDProfile, v.Name, v)
	}
	for _, v := range s.Communities {
		put(KindCommunity, v.Name, v)
	}
	return o
}

func (o objects) sortedRefs() []ObjectRef {
	return slices.SortedFunc(maps.Keys(o), compareRefs)
}

// snapshot rebuilds a Snapshot from o (objects sorted by name) with the
// secrets, namespaces and nodes of env.
func (o objects) snapshot(env Snapshot) Snapshot {
	out := Snapshot{Secrets: env.Secrets, Namespaces: env.Namespaces, Nodes: env.Nodes}
	for _, r := range o.sortedRefs() {
		switch v := o[r].(type) {
		case PoolSpec:
			out.Pools = append(out.Pools, v)
		case L2AdvertisementSpec:
			out.L2Advertisements = append(out.L2Advertisements, v)
		case BGPAdvertisementSpec:
			out.BGPAdvertisements = append(out.BGPAdvertisements, v)
		case BGPPeerSpec:
			out.BGPPeers = append(out.BGPPeers, v)
		case BFDProfileSpec:
			out.BFDProfiles = append(out.BFDProfiles, v)
		case CommunitySpec:
			out.Communities = append(out.Communities, v)
		}
	}
	return out
}

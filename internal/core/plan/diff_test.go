package plan

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ann(ip string, ifaces []string, svcs ...string) Announcement {
	a := Announcement{IP: mustAddr(ip), Interfaces: ifaces, Services: svcs}
	if ifaces == nil {
		a.AllInterfaces = true
	}
	return a
}

func annMap(as ...Announcement) map[netip.Addr]Announcement {
	m := map[netip.Addr]Announcement{}
	for _, a := range as {
		m[a.IP] = a
	}
	return m
}

func TestDiff(t *testing.T) {
	a1 := ann("203.0.113.1", nil, "ns/a")
	a2 := ann("203.0.113.2", []string{"eth0"}, "ns/b")
	a2eth1 := ann("203.0.113.2", []string{"eth1"}, "ns/b")
	a2more := ann("203.0.113.2", []string{"eth0"}, "ns/b", "ns/c")
	a2all := ann("203.0.113.2", nil, "ns/b")
	v6 := ann("2001:db8:1::5", nil, "ns/d")
	tests := []struct {
		name             string
		current, desired map[netip.Addr]Announcement
		add, remove      []Announcement
		change           []Change
	}{
		{name: "both empty"},
		{name: "nil current", desired: annMap(a1), add: []Announcement{a1}},
		{name: "nil desired", current: annMap(a1), remove: []Announcement{a1}},
		{name: "equal", current: annMap(a1, a2), desired: annMap(a1, a2)},
		{name: "add and remove sorted by IP", current: annMap(a2), desired: annMap(v6, a1),
			add: []Announcement{a1, v6}, remove: []Announcement{a2}},
		{name: "interface change", current: annMap(a1, a2), desired: annMap(a1, a2eth1),
			change: []Change{{Old: a2, New: a2eth1}}},
		{name: "to all interfaces", current: annMap(a2), desired: annMap(a2all),
			change: []Change{{Old: a2, New: a2all}}},
		{name: "Service set change", current: annMap(a2), desired: annMap(a2more),
			change: []Change{{Old: a2, New: a2more}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			add, remove, change := Diff(tt.current, tt.desired)
			if diff := cmp.Diff(tt.add, add, cmpAddr); diff != "" {
				t.Errorf("add (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.remove, remove, cmpAddr); diff != "" {
				t.Errorf("remove (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.change, change, cmpAddr); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
			// Applying the diff to current gives desired.
			got := map[netip.Addr]Announcement{}
			for ip, a := range tt.current {
				got[ip] = a
			}
			for _, a := range remove {
				delete(got, a.IP)
			}
			for _, a := range add {
				got[a.IP] = a
			}
			for _, c := range change {
				got[c.New.IP] = c.New
			}
			want := tt.desired
			if want == nil {
				want = map[netip.Addr]Announcement{}
			}
			if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
				t.Errorf("current after the diff (-want +got):\n%s", diff)
			}
		})
	}
}

// Desired feeds Diff: a node that loses an IP to a new node removes it,
// the new owner adds it.
func TestDiffFollowsElection(t *testing.T) {
	ip := wonBy(v4, "n4", "n1", "n2", "n3", "n4")
	in := Input{Nodes: threeNodes(), Config: cfg(allPools, ad("all")), Services: []Service{svc("ns/a", ip)}}
	before := everyNode(in)
	in.Nodes = append(threeNodes(), node("n4"))
	after := everyNode(in)
	removers := 0
	for _, n := range []string{"n1", "n2", "n3"} {
		add, remove, change := Diff(before[n].Announcements, after[n].Announcements)
		if len(add)+len(change) != 0 {
			t.Errorf("%s: add %v change %v, want none", n, add, change)
		}
		if _, had := before[n].Announcements[mustAddr(ip)]; had != (len(remove) == 1) {
			t.Errorf("%s: had the IP %v, removes %v", n, had, remove)
		}
		removers += len(remove)
	}
	if removers != 1 {
		t.Errorf("%d nodes withdraw the IP, want 1", removers)
	}
	add, remove, _ := Diff(nil, after["n4"].Announcements)
	if len(add) != 1 || add[0].IP != mustAddr(ip) || len(remove) != 0 {
		t.Errorf("n4: add %v remove %v, want the IP added", add, remove)
	}
}

package plan

import (
	"net/netip"
	"slices"
)

// Change is an IP announced both now and in the desired state, with a
// different set of interfaces or Services.
type Change struct {
	Old, New Announcement
}

// Diff compares the announcements made now with the desired ones: add
// holds the desired announcements of IPs not announced now, remove the
// current announcements of IPs no longer desired, change the IPs whose
// announcement differs (Announcement.Equal). Each list is sorted by IP.
// Applying all three to current yields desired. The map keys are
// authoritative: each returned Announcement carries its key as IP.
func Diff(current, desired map[netip.Addr]Announcement) (add, remove []Announcement, change []Change) {
	for ip, want := range desired {
		want.IP = ip
		have, ok := current[ip]
		have.IP = ip
		switch {
		case !ok:
			add = append(add, want)
		case !have.Equal(want):
			change = append(change, Change{Old: have, New: want})
		}
	}
	for ip, have := range current {
		if _, ok := desired[ip]; !ok {
			have.IP = ip
			remove = append(remove, have)
		}
	}
	byIP := func(a, b Announcement) int { return a.IP.Compare(b.IP) }
	slices.SortFunc(add, byIP)
	slices.SortFunc(remove, byIP)
	slices.SortFunc(change, func(a, b Change) int { return a.New.IP.Compare(b.New.IP) })
	return add, remove, change
}

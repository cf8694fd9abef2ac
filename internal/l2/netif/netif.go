package netif

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
)

// Interface is what the announcer needs to know about one interface.
type Interface struct {
	Name  string
	Index int
	MAC   net.HardwareAddr
	// Flags from the kernel.
	Up, Broadcast, NoARP bool
	// Enslaved: the interface has a master (bridge port, bond member, VRF
	// member); MetalLB skips those.
	Enslaved bool
	// LinkLocal is the first usable (not tentative, not duplicate) IPv6
	// link-local address, or the zero Addr.
	LinkLocal netip.Addr
}

// ServesIPv4 reports whether ARP can run here (RFC 826 needs broadcast).
func (i Interface) ServesIPv4() bool { return i.Broadcast }

// Same reports whether two observations are the same link for a responder:
// same index and hardware address, same BROADCAST flag.
func (i Interface) Same(j Interface) bool {
	return i.Name == j.Name && i.Index == j.Index && slices.Equal(i.MAC, j.MAC) && i.Broadcast == j.Broadcast
}

// Lister lists network interfaces.
type Lister interface {
	Interfaces() ([]Interface, error)
}

// ListerFunc adapts a function to Lister.
type ListerFunc func() ([]Interface, error)

// Interfaces calls f.
func (f ListerFunc) Interfaces() ([]Interface, error) { return f() }

// DefaultExclude is MetalLB's default announcedInterfacesToExclude list:
// container, virtual-bridge and tunnel interfaces and loopback.
var DefaultExclude = []string{
	`^docker.*`, `^cbr.*`, `^dummy.*`, `^virbr.*`, `^lxcbr.*`, `^veth.*`, `^lo$`,
	`^cali.*`, `^tunl.*`, `^flannel.*`, `^kube-ipvs.*`, `^cni.*`, `^nodelocaldns.*`, `^lxc.*`,
}

// Skip reasons reported by Filter.Usable.
const (
	SkipExcluded = "excluded by name"
	SkipDown     = "down"
	SkipEnslaved = "enslaved to a master"
	SkipNoARP    = "NOARP"
	SkipNoMAC    = "no ethernet address"
)

// Filter decides which interfaces are usable.
type Filter struct {
	exclude []*regexp.Regexp
}

// NewFilter compiles the exclusion patterns (Go regexp syntax, matched
// anywhere in the name unless anchored). A nil slice means DefaultExclude;
// an empty one excludes nothing.
func NewFilter(patterns []string) (*Filter, error) {
	if patterns == nil {
		patterns = DefaultExclude
	}
	f := &Filter{}
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("interface exclusion pattern %q: %w", p, err)
		}
		f.exclude = append(f.exclude, re)
	}
	return f, nil
}

// Usable splits ifs into the usable interfaces (in input order) and the
// reason each other one was skipped, keyed by name.
func (f *Filter) Usable(ifs []Interface) (usable []Interface, skipped map[string]string) {
	skipped = map[string]string{}
	for _, i := range ifs {
		if reason := f.skip(i); reason != "" {
			skipped[i.Name] = reason
			continue
		}
		usable = append(usable, i)
	}
	return usable, skipped
}

func (f *Filter) skip(i Interface) string {
	for _, re := range f.exclude {
		if re.MatchString(i.Name) {
			return SkipExcluded
		}
	}
	switch {
	case !i.Up:
		return SkipDown
	case i.Enslaved:
		return SkipEnslaved
	case i.NoARP:
		return SkipNoARP
	case len(i.MAC) != 6 || isZero(i.MAC):
		return SkipNoMAC
	}
	return ""
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

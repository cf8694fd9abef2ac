package lab

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Route is what a router holds for one prefix, whatever its kind.
type Route struct {
	Prefix netip.Prefix
	// NextHops are the BGP next hops the router forwards to: the best
	// path's and those of the paths equal to it up to the tie-breakers
	// (local preference, AS path length, origin, MED), which is the
	// equal-cost set with ECMP on. Sorted.
	NextHops []netip.Addr
	// The attributes of the best path.
	Communities      []string // "64512:100", sorted
	LargeCommunities []string // "64512:1:2", sorted
	LocalPref        uint32   // the value the router uses (100 when the path had none)
	MED              uint32
	ASPath           []uint32
	Origin           string // "IGP", "EGP" or "incomplete"
	// Paths are every path the router holds for the prefix, best first.
	Paths []Path
}

// Path is one path of a Route.
type Path struct {
	NextHop          netip.Addr
	Peer             netip.Addr // the neighbour it came from
	Best             bool
	Communities      []string
	LargeCommunities []string
	LocalPref        uint32
	MED              uint32
	ASPath           []uint32
	Origin           string
}

// NeighborStatus is a BGP session as a router sees it.
type NeighborStatus struct {
	Address netip.Addr
	ASN     uint32
	// State is the BGP FSM state: "Idle", "Connect", "Active", "OpenSent",
	// "OpenConfirm" or "Established".
	State string
	// Uptime is how long the session has been Established (0 otherwise).
	Uptime time.Duration
	// Established counts the times the session came up since the router
	// started (GoBGP: the OPEN messages received); -1 when the router
	// does not count them (BIRD): compare Uptime to detect a reset then.
	Established int
	// Received is the number of prefixes accepted from the neighbour.
	Received int
	// BFD is the state of the neighbour's BFD session: "up", "down",
	// "init", "admin-down", or "" when there is none.
	BFD string
}

// Up reports whether the session is Established.
func (n NeighborStatus) Up() bool { return n.State == "Established" }

// BFDPeer is a BFD session as a router sees it.
type BFDPeer struct {
	Peer     netip.Addr
	State    string // "up", "down", "init" or "admin-down"
	Multihop bool
	Uptime   time.Duration // 0 unless up
	// The local and remote timers, when the router shows them (zero
	// otherwise). BIRD shows only the transmit interval in use.
	RxInterval, TxInterval             time.Duration
	Multiplier                         int
	RemoteRxInterval, RemoteTxInterval time.Duration
	RemoteMultiplier                   int
}

// bgpStates are the BGP FSM states, spelled as NeighborStatus.State has
// them, by their lower-case names.
var bgpStates = map[string]string{
	"idle": "Idle", "connect": "Connect", "active": "Active", "opensent": "OpenSent",
	"openconfirm": "OpenConfirm", "established": "Established",
}

// bgpState normalizes a state name ("Established", "established",
// "OPENSENT"...); an unknown name is returned as is.
func bgpState(s string) string {
	if n, ok := bgpStates[strings.ToLower(s)]; ok {
		return n
	}
	return s
}

// finishRoute fills a Route from its paths: orders them best first,
// copies the best path's attributes and computes the next hops (those of
// the paths marked multipath, or, when multipath is nil, of the paths tied
// with the best one). A prefix without a best path uses its first path.
func finishRoute(prefix netip.Prefix, paths []Path, multipath []bool) Route {
	r := Route{Prefix: prefix}
	if len(paths) == 0 {
		return r
	}
	best := slices.IndexFunc(paths, func(p Path) bool { return p.Best })
	if best < 0 {
		best = 0
	}
	b := paths[best]
	var hops []netip.Addr
	for i, p := range paths {
		use := i == best
		if multipath != nil {
			use = use || multipath[i]
		} else {
			use = use || tied(b, p)
		}
		if use && p.NextHop.IsValid() && !slices.Contains(hops, p.NextHop) {
			hops = append(hops, p.NextHop)
		}
	}
	slices.SortFunc(hops, func(a, b netip.Addr) int { return a.Compare(b) })
	r.NextHops = hops
	r.Communities, r.LargeCommunities = b.Communities, b.LargeCommunities
	r.LocalPref, r.MED, r.ASPath, r.Origin = b.LocalPref, b.MED, b.ASPath, b.Origin
	ordered := append([]Path{b}, slices.Delete(slices.Clone(paths), best, best+1)...)
	slices.SortStableFunc(ordered[1:], func(x, y Path) int { return x.Peer.Compare(y.Peer) })
	r.Paths = ordered
	return r
}

// tied reports whether path p is as good as the best path b up to the
// tie-breakers, the usual condition for BGP multipath.
func tied(b, p Path) bool {
	return p.LocalPref == b.LocalPref && len(p.ASPath) == len(b.ASPath) && p.Origin == b.Origin && p.MED == b.MED
}

// sortRoutes orders routes by prefix.
func sortRoutes(rs []Route) {
	slices.SortFunc(rs, func(a, b Route) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits())
	})
}

// wellKnownCommunities are the names FRR may print instead of numbers.
var wellKnownCommunities = map[string]string{
	"gshut": "65535:0", "accept-own": "65535:1", "acceptown": "65535:1", "llgr-stale": "65535:6",
	"llgrstale": "65535:6", "no-llgr": "65535:7", "nollgr": "65535:7", "blackhole": "65535:666",
	"no-export": "65535:65281", "noexport": "65535:65281", "no-advertise": "65535:65282",
	"noadvertise": "65535:65282", "local-as": "65535:65283", "localas": "65535:65283",
	"no-peer": "65535:65284", "nopeer": "65535:65284", "internet": "0:0",
}

// normCommunity writes a standard community as "high:low".
func normCommunity(s string) string {
	if n, ok := wellKnownCommunities[strings.ToLower(s)]; ok {
		return n
	}
	return s
}

// communityOf writes a community given as one 32-bit number.
func communityOf(v uint32) string { return fmt.Sprintf("%d:%d", v>>16, v&0xffff) }

// sorted returns s sorted (nil stays nil).
func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// parseASPath reads the numbers of an AS path string ("64512 64513",
// "64512 {64520,64521}"), ignoring set and confederation brackets.
func parseASPath(s string) ([]uint32, error) {
	var out []uint32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == ',' || r == '{' || r == '}' || r == '(' || r == ')' || r == '[' || r == ']'
	}) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("AS path %q: %w", s, err)
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

// normOrigin spells an origin as Route.Origin has it.
func normOrigin(s string) string {
	switch strings.ToLower(s) {
	case "igp", "i", "0":
		return "IGP"
	case "egp", "e", "1":
		return "EGP"
	case "incomplete", "?", "2":
		return "incomplete"
	}
	return s
}

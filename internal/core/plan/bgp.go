// BGP mode: DesiredBGP computes the sessions this node opens, the prefixes
// it advertises to each of them, and a decision for every Service, as a
// pure function of the same Input as layer 2 (Input.Speakers is not read:
// in BGP every eligible node announces and the routers spread the traffic,
// ECMP; there is no election).
//
// # Sessions
//
// The sessions are the BGPPeers of the configuration whose nodeSelectors
// match this node's labels (no selector: every node), sorted by name. They
// are kept when the node has NetworkUnavailable or the exclusion label:
// such a node advertises nothing but stays peered. If this node's own Node
// object is missing from the snapshot, nothing is known about its labels
// and conditions: no session, nothing advertised (nodeUnknown; MetalLB has
// no such case).
//
// # Rules
//
// For each Service the first failing rule gives the reason it is not
// announced (Reason* constants). Whole Service, as in layer 2: noConfig,
// notLoadBalancer, noIPAllocated, invalidIP, ipNotAllowed; then nodeUnknown.
// Then for each IP, with P the IP's pool:
//
//	a. notOwner: no BGPAdvertisement of P selects this node.
//	b. noMatchingAdvertisement: none of those selects the Service.
//	   The remaining ones are the IP's applying advertisements.
//	c. conflictingAdvertisements: see Conflicts.
//	d. nodeNetworkUnavailable: this node has NetworkUnavailable=True;
//	   nodeOutOfService: it carries TaintOutOfService.
//	e. nodeLabeledExcludeBalancers: this node carries
//	   LabelExcludeFromLB (unless IgnoreExcludeLB).
//	f. externalTrafficPolicy Local: noLocalEndpoints unless an endpoint
//	   on this node can serve (Endpoint.CanServe) and has addresses.
//	g. otherwise: noEndpoints unless some endpoint, anywhere (or on no
//	   node), can serve and has addresses.
//
// An IP passing every rule is announced.
//
// # Contributions
//
// Each applying advertisement A of an IP contributes, to each session S
// that A selects (A.peers names S, or A.peers is empty), the prefix made of
// the IP with A's aggregationLength (IPv4) or aggregationLengthV6 (IPv6),
// host bits cleared, with A's communities and a LOCAL_PREF: A.localPref if
// S is iBGP (peerASN equals myASN, or dynamicASN "internal"), 0 otherwise.
// LOCAL_PREF is never sent to an external peer (RFC 4271 §5.1.5), so the
// plan drops it rather than each backend: an Advertisement is what goes on
// the wire, and two advertisements that differ only in localPref do not
// conflict toward an eBGP session. A length outside the family's range,
// which Compile never produces, stands for the host prefix.
//
// # Conflicts
//
// The contributions of every IP that passes the whole-Service rules and
// rules a and b are grouped by (session, prefix); the group is conflicting
// when its contributions carry different LOCAL_PREFs. Conflicts are
// decided before, and independently of, rules d to g: they are a property
// of the configuration and must not come and go with endpoints or node
// conditions. Every IP with a contribution in a conflicting group is not
// announced at all (conflictingAdvertisements, on every Service involved,
// toward every session), so a conflicting prefix is not advertised to its
// session. Conflicts arise from advertisements with serviceSelectors (which
// Compile cannot check) and from aggregation across pools (one aggregated
// prefix fed by two pools whose advertisements disagree).
//
// # Advertisements
//
// The contributions of the announced IPs are merged per (session,
// prefix): communities are the union (sorted: legacy before large, then by
// value; each once); LOCAL_PREF is the one they share (no conflict is
// left). A prefix is advertised to a session while at least one announced
// IP contributes to it, so an aggregated prefix that rolls up several
// Services stays up while one of them is announceable and goes with the
// last. Each IP of a dual-stack Service contributes with its own family's
// aggregation length.
//
// A Service's Peers are the sorted names of the sessions receiving at
// least one contribution of its announced IPs: what it is configured to
// be advertised to from this node (ServiceBGPStatus peers), not session
// state. An announced IP whose applying advertisements select no session
// of this node is still announced (as in MetalLB), with no peer.

package plan

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/ferrolb/ferrolb/internal/core/config"
)

// Reasons specific to BGP (the others are shared with layer 2). MetalLB
// uses the same strings, except ReasonNodeUnknown.
const (
	ReasonConflictingAdvertisements   = "conflictingAdvertisements"
	ReasonNodeNetworkUnavailable      = "nodeNetworkUnavailable"
	ReasonNodeLabeledExcludeBalancers = "nodeLabeledExcludeBalancers"
	ReasonNoLocalEndpoints            = "noLocalEndpoints"
	// ReasonNodeUnknown: this node's Node object is not in the snapshot.
	ReasonNodeUnknown = "nodeUnknown"
	// ReasonNodeOutOfService: this node carries TaintOutOfService (MetalLB
	// does not look at it).
	ReasonNodeOutOfService = "nodeOutOfService"
)

// BGPResult is the desired BGP state of one node.
type BGPResult struct {
	// Sessions are the BGPPeers this node peers with, sorted by name. They
	// point into the Config: read-only.
	Sessions []*config.BGPPeer
	// Advertisements by session (BGPPeer name), each list sorted by
	// prefix. Sessions without any advertisement have no key.
	Advertisements map[string][]Advertisement
	// Services holds a BGPDecision for every input Service, by key.
	Services map[string]BGPDecision
}

// Advertisement is one prefix advertised to one session.
type Advertisement struct {
	// Prefix, masked (host bits zero).
	Prefix netip.Prefix
	// LocalPref is the LOCAL_PREF attribute; 0 means none. Always 0
	// toward an eBGP session.
	LocalPref uint32
	// Communities sorted (legacy before large, then by value), each once;
	// nil when none.
	Communities []config.Community
}

// Equal reports whether a and b carry the same prefix and attributes.
func (a Advertisement) Equal(b Advertisement) bool {
	return a.Prefix == b.Prefix && a.LocalPref == b.LocalPref && slices.Equal(a.Communities, b.Communities)
}

// BGPDecision is what this node decided for one Service in BGP mode.
type BGPDecision struct {
	// Reason rejects the Service as a whole (noConfig, notLoadBalancer,
	// noIPAllocated, invalidIP, ipNotAllowed, nodeUnknown); IPs is then
	// empty. "" when the IPs were considered one by one.
	Reason string
	// IPs in the order of the Service's status, each once.
	IPs []BGPIPDecision
	// Peers are the sorted names of the sessions the Service's announced
	// IPs are advertised to; nil when none.
	Peers []string
}

// BGPIPDecision is the outcome for one IP of a Service.
type BGPIPDecision struct {
	IP netip.Addr
	// Announce is true when this node advertises the IP (in a prefix of
	// its own or an aggregate).
	Announce bool
	// Reason the IP is not announced; "" when Announce.
	Reason string
}

// Announced reports whether this node announces at least one IP of the
// Service.
func (d BGPDecision) Announced() bool {
	return slices.ContainsFunc(d.IPs, func(ip BGPIPDecision) bool { return ip.Announce })
}

// IsIBGP reports whether a session is internal BGP, the only kind that
// carries LOCAL_PREF: the peer's ASN is the one the session presents
// (localASN when set, else myASN), or dynamicASN is "internal".
func IsIBGP(p *config.BGPPeer) bool {
	return p.DynamicASN == "internal" || (p.PeerASN != 0 && p.PeerASN == SessionASN(p))
}

// SessionASN is the ASN a session presents to the peer: localASN when set
// (FRR's "local-as N no-prepend replace-as": myASN does not appear at
// all), else myASN.
func SessionASN(p *config.BGPPeer) uint32 {
	if p.LocalASN != 0 {
		return p.LocalASN
	}
	return p.MyASN
}

// bgpKey identifies a group of contributions: a session (index into
// BGPResult.Sessions) and a prefix.
type bgpKey struct {
	session int
	prefix  netip.Prefix
}

// bgpGroup accumulates the contributions of one bgpKey.
type bgpGroup struct {
	key       bgpKey
	localPref uint32 // of the first contribution
	conflict  bool
	live      bool // an announced IP contributes
	comms     []config.Community
}

// bgpContribution is one (IP, applying advertisement, session).
type bgpContribution struct {
	group int // index into the groups
	ad    int // index into Config.BGPAdvertisements
}

// bgpIP is one IP that passed rules a and b, waiting for the conflict
// check: its contributions are contribs[from:to].
type bgpIP struct {
	svc, ip  int
	from, to int
	// runtime is the reason from rules d to g ("" if none fails).
	runtime string
}

// DesiredBGP returns this node's BGP sessions, advertisements and a
// decision for every Service, following the rules at the top of this file.
// The result does not depend on the order of the input slices.
//
// Cost: O(S·(E + I·A·P) + G log G) for S Services with E endpoints and I
// IPs each, A advertisements per pool, P sessions, and G advertised
// prefixes.
func DesiredBGP(in Input) BGPResult {
	svcs := uniqueServices(in.Services)
	res := BGPResult{
		Advertisements: map[string][]Advertisement{},
		Services:       make(map[string]BGPDecision, len(svcs)),
	}
	cfg := in.Config
	if cfg == nil {
		for _, s := range svcs {
			res.Services[s.Key] = BGPDecision{Reason: ReasonNoConfig}
		}
		return res
	}
	me := ownNode(in)
	if me != nil {
		for _, p := range cfg.BGPPeers {
			if p.SelectsNode(me.Labels) {
				res.Sessions = append(res.Sessions, p)
			}
		}
		slices.SortStableFunc(res.Sessions, func(a, b *config.BGPPeer) int { return cmp.Compare(a.Name, b.Name) })
	}
	ibgp := make([]bool, len(res.Sessions))
	for i, p := range res.Sessions {
		ibgp[i] = IsIBGP(p)
	}

	// The advertisements selecting this node, by pool, with the sessions
	// each one selects.
	adSessions := make([][]int, len(cfg.BGPAdvertisements))
	byPool := map[string][]int{}
	if me != nil {
		for a, ad := range cfg.BGPAdvertisements {
			if !ad.SelectsNode(me.Labels) {
				continue
			}
			for i, p := range res.Sessions {
				if ad.SelectsPeer(p.Name) {
					adSessions[a] = append(adSessions[a], i)
				}
			}
			for _, pool := range ad.Pools {
				byPool[pool] = append(byPool[pool], a)
			}
		}
	}
	nodeReason := ""
	if me != nil {
		_, excluded := me.Labels[LabelExcludeFromLB]
		switch {
		case me.NetworkUnavailable:
			nodeReason = ReasonNodeNetworkUnavailable
		case me.OutOfService:
			nodeReason = ReasonNodeOutOfService
		case excluded && !in.IgnoreExcludeLB:
			nodeReason = ReasonNodeLabeledExcludeBalancers
		}
	}

	// Rules up to b, and every contribution, grouped by (session, prefix).
	decisions := make([]BGPDecision, len(svcs))
	guess := len(svcs) * max(1, len(res.Sessions)) // typical number of groups
	groupOf := make(map[bgpKey]int, guess)
	groups := make([]bgpGroup, 0, guess)
	contribs := make([]bgpContribution, 0, guess)
	pending := make([]bgpIP, 0, len(svcs))
	for k, s := range svcs {
		ips, pools, reason := serviceIPs(s, cfg)
		if reason == "" && me == nil {
			reason = ReasonNodeUnknown
		}
		if reason != "" {
			decisions[k].Reason = reason
			continue
		}
		decisions[k].IPs = make([]BGPIPDecision, len(ips))
		runtime := nodeReason
		if runtime == "" {
			runtime = endpointReason(s, in.Node)
		}
		for j, ip := range ips {
			d := &decisions[k].IPs[j]
			d.IP = ip
			mine := byPool[pools[j]]
			if len(mine) == 0 {
				d.Reason = ReasonNotOwner
				continue
			}
			p := bgpIP{svc: k, ip: j, from: len(contribs), runtime: runtime}
			applies := false
			for _, a := range mine {
				ad := cfg.BGPAdvertisements[a]
				if !ad.SelectsService(s.Labels) {
					continue
				}
				applies = true
				prefix := aggregate(ip, ad)
				for _, sess := range adSessions[a] {
					var lp uint32
					if ibgp[sess] {
						lp = ad.LocalPref
					}
					key := bgpKey{session: sess, prefix: prefix}
					g, ok := groupOf[key]
					if !ok {
						g = len(groups)
						groupOf[key] = g
						groups = append(groups, bgpGroup{key: key, localPref: lp})
					} else if groups[g].localPref != lp {
						groups[g].conflict = true
					}
					contribs = append(contribs, bgpContribution{group: g, ad: a})
				}
			}
			if !applies {
				d.Reason = ReasonNoMatchingAdvertisement
				continue
			}
			p.to = len(contribs)
			pending = append(pending, p)
		}
	}

	// Rule c, then d to g; merge the contributions of announced IPs.
	sets := &setArena{words: (len(res.Sessions) + 63) / 64}
	peersOf := make([]bitset, len(svcs))
	for _, p := range pending {
		d := &decisions[p.svc].IPs[p.ip]
		own := contribs[p.from:p.to]
		switch {
		case slices.ContainsFunc(own, func(c bgpContribution) bool { return groups[c.group].conflict }):
			d.Reason = ReasonConflictingAdvertisements
		case p.runtime != "":
			d.Reason = p.runtime
		default:
			d.Announce = true
			if len(own) > 0 && peersOf[p.svc] == nil {
				peersOf[p.svc] = sets.new()
			}
			for _, c := range own {
				g := &groups[c.group]
				g.live = true
				peersOf[p.svc].set(g.key.session)
				cs := cfg.BGPAdvertisements[c.ad].Communities
				switch {
				case len(cs) == 0:
				case g.comms == nil:
					// Borrowed, clipped so that a later append copies.
					g.comms = slices.Clip(cs)
				default:
					g.comms = append(g.comms, cs...)
				}
			}
		}
	}
	for k, s := range svcs {
		if ps := peersOf[k]; ps != nil {
			ps.each(func(i int) { decisions[k].Peers = append(decisions[k].Peers, res.Sessions[i].Name) })
		}
		res.Services[s.Key] = decisions[k]
	}

	// Build the advertisements; their communities share one array.
	perSession := make([]int, len(res.Sessions))
	total := 0
	for i := range groups {
		if groups[i].live {
			perSession[groups[i].key.session]++
			total += len(groups[i].comms)
		}
	}
	for i, n := range perSession {
		if n > 0 {
			res.Advertisements[res.Sessions[i].Name] = make([]Advertisement, 0, n)
		}
	}
	arena := make([]config.Community, 0, total)
	for i := range groups {
		g := &groups[i]
		if !g.live {
			continue
		}
		a := Advertisement{Prefix: g.key.prefix, LocalPref: g.localPref}
		if len(g.comms) > 0 {
			start := len(arena)
			arena = append(arena, g.comms...)
			w := arena[start:]
			slices.SortFunc(w, compareCommunity)
			w = slices.Compact(w)
			arena = arena[:start+len(w)]
			a.Communities = slices.Clip(w)
		}
		name := res.Sessions[g.key.session].Name
		res.Advertisements[name] = append(res.Advertisements[name], a)
	}
	for _, list := range res.Advertisements {
		slices.SortFunc(list, func(a, b Advertisement) int { return comparePrefix(a.Prefix, b.Prefix) })
	}
	return res
}

// ownNode returns this node's Node object (the first of that name), nil if
// the snapshot lacks it.
func ownNode(in Input) *Node {
	if in.Node == "" {
		return nil
	}
	for i := range in.Nodes {
		if in.Nodes[i].Name == in.Node {
			return &in.Nodes[i]
		}
	}
	return nil
}

// endpointReason applies rules f and g: "" when the Service has an
// endpoint that can serve and has addresses, on this node for the Local
// traffic policy, anywhere otherwise.
func endpointReason(s *Service, me string) string {
	localOnly := s.ExternalTrafficPolicy == TrafficPolicyLocal
	for _, ep := range s.Endpoints {
		if ep.CanServe() && !ep.NoAddresses && (!localOnly || ep.Node == me) {
			return ""
		}
	}
	if localOnly {
		return ReasonNoLocalEndpoints
	}
	return ReasonNoEndpoints
}

// aggregate returns ip masked to the advertisement's aggregation length
// for its family; the host prefix if that length is out of range.
func aggregate(ip netip.Addr, ad *config.BGPAdvertisement) netip.Prefix {
	bits := ad.AggregationLengthV6
	if ip.Is4() {
		bits = ad.AggregationLength
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.PrefixFrom(ip, ip.BitLen())
	}
	return p
}

// comparePrefix orders prefixes by address (IPv4 first), then by length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// compareCommunity orders legacy communities before large ones, then by
// value: the order of config.BGPAdvertisement.Communities.
func compareCommunity(a, b config.Community) int {
	if a.Large != b.Large {
		if a.Large {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(a.Global, b.Global), cmp.Compare(a.Local1, b.Local1), cmp.Compare(a.Local2, b.Local2))
}

package plan

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/election"
)

// entry is one (Service, IP) pair on its way through the rules.
type entry struct {
	ip  netip.Addr
	svc *Service
	dec *IPDecision
	// reason set by the rules that do not depend on the evaluating node
	// (noEndpoints, sharedIPWithServiceSelector, no applying
	// advertisement); "" makes the entry a member of its IP's group.
	reason string
	ads    []int  // applying advertisements (indices into adIndex.ads)
	cand   bitset // candidate nodes
}

// Desired returns the announcements of node in.Node and a decision for
// every Service, following the rules of the package documentation. Every
// node that evaluates the same snapshot (in any order of its slices) gets
// the same owners, so each announceable IP is announced by exactly one
// node.
//
// Cost: O(S·(A+E) + N·A·P + S log S) for S Services with E endpoints
// each, N nodes, A advertisements with P preferred selectors, plus one
// election (one SHA-256 per candidate of the best score) per distinct IP.
func Desired(in Input) Result {
	svcs := uniqueServices(in.Services)
	res := Result{
		Announcements: map[netip.Addr]Announcement{},
		Services:      make(map[string]Decision, len(svcs)),
	}
	if in.Config == nil {
		for _, s := range svcs {
			res.Services[s.Key] = Decision{Reason: ReasonNoConfig}
		}
		return res
	}
	ni := indexNodes(&in)
	ax := indexAds(in.Config, ni, in.Node)
	sets := &setArena{words: len(ni.usable)}

	decisions := make([]Decision, len(svcs))
	entries := make([]entry, 0, len(svcs))
	var adsBuf []int
	for k, s := range svcs {
		ips, pools, reason := serviceIPs(s, in.Config)
		if reason != "" {
			decisions[k].Reason = reason
			continue
		}
		decisions[k].IPs = make([]IPDecision, len(ips))
		serving, local := endpointNodes(s, ni, sets)
		for j, ip := range ips {
			d := &decisions[k].IPs[j]
			d.IP = ip
			e := entry{ip: ip, svc: s, dec: d}
			adsBuf = rulesForIP(&e, pools[j], serving, local, ni, ax, sets, adsBuf)
			entries = append(entries, e)
		}
	}

	// Group the entries by IP and elect each IP's owner once.
	slices.SortFunc(entries, func(a, b entry) int { return a.ip.Compare(b.ip) })
	el := &elector{ni: ni, ax: ax, cover: make([]int, len(ni.names))}
	var mine []*entry
	for i := 0; i < len(entries); {
		ip := entries[i].ip
		j := i + 1
		for j < len(entries) && entries[j].ip == ip {
			j++
		}
		group := entries[i:j]
		owner := el.elect(ip, group)
		mine = mine[:0]
		for g := range group {
			e := &group[g]
			decide(e, owner, ni, ax, in.Node)
			if e.dec.Announce {
				mine = append(mine, e)
			}
		}
		if len(mine) > 0 {
			res.Announcements[ip] = announcement(ip, mine, ax)
		}
		i = j
	}
	for k, s := range svcs {
		res.Services[s.Key] = decisions[k]
	}
	return res
}

// uniqueServices returns the Services sorted by key, the first of each key
// only.
func uniqueServices(in []Service) []*Service {
	out := make([]*Service, len(in))
	for i := range in {
		out[i] = &in[i]
	}
	slices.SortStableFunc(out, func(a, b *Service) int { return cmp.Compare(a.Key, b.Key) })
	return slices.CompactFunc(out, func(a, b *Service) bool { return a.Key == b.Key })
}

// serviceIPs applies the whole-Service rules and returns the Service's IPs
// (normalised, each once) with the pool of each.
func serviceIPs(s *Service, cfg *config.Config) ([]netip.Addr, []string, string) {
	if s.Type != TypeLoadBalancer {
		return nil, nil, ReasonNotLoadBalancer
	}
	if len(s.IPs) == 0 {
		return nil, nil, ReasonNoIPAllocated
	}
	ips := make([]netip.Addr, 0, len(s.IPs))
	for _, ip := range s.IPs {
		if !ip.IsValid() {
			return nil, nil, ReasonInvalidIP
		}
		ip = ip.Unmap().WithZone("")
		if !slices.Contains(ips, ip) {
			ips = append(ips, ip)
		}
	}
	pools := make([]string, len(ips))
	for j, ip := range ips {
		p, ok := poolOf(cfg, ip)
		if !ok {
			return nil, nil, ReasonIPNotAllowed
		}
		pools[j] = p
	}
	return ips, pools, ""
}

// endpointNodes reports whether any endpoint of s can serve and, for the
// Local traffic policy, the set of nodes hosting one (nil for Cluster).
func endpointNodes(s *Service, ni *nodeIndex, sets *setArena) (bool, bitset) {
	serving := false
	var local bitset
	if s.ExternalTrafficPolicy == TrafficPolicyLocal {
		local = sets.new()
	}
	for _, ep := range s.Endpoints {
		if !ep.CanServe() {
			continue
		}
		serving = true
		if local == nil {
			break
		}
		if i, ok := ni.byName[ep.Node]; ok {
			local.set(i)
		}
	}
	return serving, local
}

// rulesForIP applies the rules that every node evaluates alike: endpoints,
// applying advertisements, sharing with service selectors; and computes
// the Service's candidates for the IP. The applying advertisements are
// appended to buf (shared by all entries), which is returned.
func rulesForIP(e *entry, pool string, serving bool, local bitset, ni *nodeIndex, ax *adIndex, sets *setArena, buf []int) []int {
	if !serving {
		e.reason = ReasonNoEndpoints
		return buf
	}
	sharing := e.svc.sharingKey() != ""
	start := len(buf)
	for _, a := range ax.byPool[pool] {
		ad := ax.ads[a].ad
		if !ad.SelectsService(e.svc.Labels) {
			continue
		}
		if sharing && len(ad.ServiceSelectors) > 0 {
			e.reason = ReasonSharedIPWithServiceSelector
			return buf[:start]
		}
		buf = append(buf, a)
	}
	if len(buf) == start {
		e.reason = ReasonNoMatchingAdvertisement
		return buf
	}
	e.ads = buf[start:len(buf):len(buf)]
	e.cand = sets.new()
	for _, a := range e.ads {
		e.cand.or(ax.ads[a].nodes)
	}
	e.cand.and(ni.usable)
	if local != nil {
		e.cand.and(local)
	}
	return buf
}

// elector runs the per-IP election, reusing its scratch space.
type elector struct {
	ni    *nodeIndex
	ax    *adIndex
	cover []int // per node: members it is a candidate of (kept zeroed)
	cands []election.Candidate
	nodes []int
	ads   []int
}

// elect returns the index of the node owning ip, -1 if none. Candidates
// are the nodes that are candidates of any member of the group, ranked by
// coverage, then preference score, then rendezvous hash.
func (el *elector) elect(ip netip.Addr, group []entry) int {
	el.nodes, el.ads = el.nodes[:0], el.ads[:0]
	for g := range group {
		e := &group[g]
		if e.reason != "" {
			continue
		}
		e.cand.each(func(i int) {
			if el.cover[i] == 0 {
				el.nodes = append(el.nodes, i)
			}
			el.cover[i]++
		})
		for _, a := range e.ads {
			if !slices.Contains(el.ads, a) {
				el.ads = append(el.ads, a)
			}
		}
	}
	if len(el.nodes) == 0 {
		return -1
	}
	// Scores: coverage first, preference second. With prefs in
	// 0..maxPref, coverage*(maxPref+1)+pref orders lexicographically.
	prefs := make([]int64, len(el.nodes))
	var maxPref int64
	for k, i := range el.nodes {
		for _, a := range el.ads {
			if p := el.ax.ads[a].pref; p != nil {
				prefs[k] += p[i]
			}
		}
		maxPref = max(maxPref, prefs[k])
	}
	el.cands = el.cands[:0]
	for k, i := range el.nodes {
		score := int64(el.cover[i])*(maxPref+1) + prefs[k]
		el.cands = append(el.cands, election.Candidate{Node: el.ni.names[i], Score: score})
		el.cover[i] = 0
	}
	owner, _ := election.Owner(ip, el.cands)
	return el.ni.byName[owner]
}

// decide fills the entry's decision from the IP's owner, checking the
// rules that depend on the evaluating node.
func decide(e *entry, owner int, ni *nodeIndex, ax *adIndex, me string) {
	d := e.dec
	if e.reason != "" {
		d.Reason = e.reason
		return
	}
	if e.cand.has(owner) {
		d.Owner = ni.names[owner]
	}
	selectsMe := slices.ContainsFunc(e.ads, func(a int) bool { return ax.ads[a].selectsMe })
	switch {
	case !selectsMe:
		d.Reason = ReasonNoMatchingAdvertisement
	case e.cand.empty():
		d.Reason = ReasonNoEligibleNode
	case d.Owner == "":
		d.Reason = ReasonSharedIPOwnerNotEligible
	case d.Owner != me:
		d.Reason = ReasonNotOwner
	default:
		d.Announce = true
	}
}

// announcement builds this node's announcement of ip for the entries it
// announces: their Services, and the interfaces of their advertisements
// that select this node.
func announcement(ip netip.Addr, mine []*entry, ax *adIndex) Announcement {
	a := Announcement{IP: ip}
	for _, e := range mine {
		a.Services = append(a.Services, e.svc.Key)
		for _, i := range e.ads {
			info := ax.ads[i]
			if !info.selectsMe {
				continue
			}
			if len(info.ad.Interfaces) == 0 {
				a.AllInterfaces = true
			}
			a.Interfaces = append(a.Interfaces, info.ad.Interfaces...)
		}
	}
	slices.Sort(a.Services)
	a.Services = slices.Compact(a.Services)
	if a.AllInterfaces {
		a.Interfaces = nil
	} else {
		slices.Sort(a.Interfaces)
		a.Interfaces = slices.Compact(a.Interfaces)
	}
	return a
}

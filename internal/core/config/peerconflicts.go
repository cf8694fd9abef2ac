package config

import (
	"fmt"
	"slices"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// peerRule is one rule for peers sharing a node; it renders its message
// from one peer's side.
type peerRule struct {
	conflict func(a, b *BGPPeer) bool
	field    func(self *BGPPeer) string
	message  func(self, other *BGPPeer, where string) string
}

var peerRules = []peerRule{
	{
		conflict: func(a, b *BGPPeer) bool {
			return a.RouterID.IsValid() && b.RouterID.IsValid() && a.RouterID != b.RouterID
		},
		field: func(*BGPPeer) string { return "spec.routerID" },
		message: func(self, other *BGPPeer, where string) string {
			return fmt.Sprintf("router ID %s differs from router ID %s of BGPPeer %q%s; peers sharing a node must use the same router ID",
				self.RouterID, other.RouterID, other.Name, where)
		},
	},
	{
		conflict: func(a, b *BGPPeer) bool { return a.VRF == b.VRF && a.ID() == b.ID() },
		field:    sessionField,
		message: func(self, other *BGPPeer, where string) string {
			return fmt.Sprintf("session %s%s is also defined by BGPPeer %q%s",
				describeSession(self), vrfClause(self.VRF), other.Name, where)
		},
	},
	{
		conflict: func(a, b *BGPPeer) bool { return a.VRF == b.VRF && a.MyASN != b.MyASN },
		field:    func(*BGPPeer) string { return "spec.myASN" },
		message: func(self, other *BGPPeer, where string) string {
			return fmt.Sprintf("myASN %d differs from myASN %d of BGPPeer %q%s%s; peers sharing a node and a VRF must use the same myASN",
				self.MyASN, other.MyASN, other.Name, vrfClause(self.VRF), where)
		},
	},
}

// checkPeerConflicts applies the rules for peers that open sessions from
// the same node (one BGP speaker per node): equal router IDs where set,
// distinct sessions (address or interface, per VRF), and one myASN per VRF.
// Peers share a node when their nodeSelectors select a common node of the
// snapshot; when the snapshot lists no node, every pair shares one. Only
// peers valid on their own take part; both sides of a conflict are
// reported.
//
// Many nodes usually carry the same set of peers, so the peers of each node
// are grouped and each distinct group is checked once: O(nodes × peers)
// to group, then quadratic in the size of a group.
func (c *compiler) checkPeerConflicts(peers []*BGPPeer) {
	var candidates []int
	for i, p := range peers {
		if !c.errs.faulty(KindBGPPeer, p.Name) {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) < 2 {
		return
	}
	type group struct {
		members []int
		node    string // a node carrying the group, "" when nodes are unknown
	}
	var groups []group
	if len(c.s.Nodes) == 0 {
		groups = append(groups, group{members: candidates})
	} else {
		seen := map[string]bool{}
		for _, node := range c.s.Nodes {
			var g group
			for _, i := range candidates {
				if peers[i].SelectsNode(node.Labels) {
					g.members = append(g.members, i)
				}
			}
			if len(g.members) < 2 {
				continue
			}
			key := fmt.Sprint(g.members)
			if seen[key] {
				continue
			}
			seen[key] = true
			g.node = node.Name
			groups = append(groups, g)
		}
	}

	type pair struct {
		rule int
		a, b int
	}
	reported := map[pair]bool{}
	for _, g := range groups {
		where := ""
		if g.node != "" {
			where = fmt.Sprintf(" on node %q", g.node)
		}
		for x := 0; x < len(g.members); x++ {
			for y := x + 1; y < len(g.members); y++ {
				i, j := g.members[x], g.members[y]
				for ri, r := range peerRules {
					a, b := peers[i], peers[j]
					if reported[pair{ri, i, j}] || !r.conflict(a, b) {
						continue
					}
					reported[pair{ri, i, j}] = true
					c.errs.add(KindBGPPeer, a.Name, r.field(a), "%s", r.message(a, b, where))
					c.errs.add(KindBGPPeer, b.Name, r.field(b), "%s", r.message(b, a, where))
				}
			}
		}
	}
}

func sessionField(p *BGPPeer) string {
	if p.Interface != "" {
		return "spec.interface"
	}
	return "spec.peerAddress"
}

func describeSession(p *BGPPeer) string {
	if p.Interface != "" {
		return fmt.Sprintf("on interface %q", p.Interface)
	}
	return fmt.Sprintf("to %s", p.Address)
}

func vrfClause(vrf string) string {
	if vrf == "" {
		return " in the default VRF"
	}
	return fmt.Sprintf(" in VRF %q", vrf)
}

// checkBFDEcho reports peers whose BFD profile enables echo mode while an
// advertisement sends IPv6 prefixes to them: BFD echo works for IPv4 only.
func (c *compiler) checkBFDEcho(cfg *Config, peers []*BGPPeer) {
	type source struct{ ad, pool string }
	var toAll *source
	toPeer := map[string]source{}
	for _, ad := range cfg.BGPAdvertisements {
		i := slices.IndexFunc(ad.Pools, func(p string) bool { return cfg.Pools[p].HasFamily(model.IPv6) })
		if i < 0 {
			continue
		}
		src := source{ad.Name, ad.Pools[i]}
		if len(ad.Peers) == 0 {
			if toAll == nil {
				toAll = &src
			}
			continue
		}
		for _, p := range ad.Peers {
			if _, ok := toPeer[p]; !ok {
				toPeer[p] = src
			}
		}
	}
	for _, p := range peers {
		if p.BFDProfile == nil || !p.BFDProfile.EchoMode {
			continue
		}
		src, ok := toPeer[p.Name]
		if !ok && toAll != nil {
			src, ok = *toAll, true
		}
		if ok {
			c.errs.add(KindBGPPeer, p.Name, "spec.bfdProfile",
				"BFDProfile %q has echo mode enabled, which is not possible on a peer that advertises IPv6 addresses (IPAddressPool %q via BGPAdvertisement %q)",
				p.BFDProfile.Name, src.pool, src.ad)
		}
	}
}

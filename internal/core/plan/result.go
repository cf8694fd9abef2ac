package plan

import (
	"net/netip"
	"slices"
)

// Reasons a Service (or one of its IPs) is not announced by this node, in
// the order the rules are checked. They are values for logs, events and
// metrics labels.
const (
	ReasonNoConfig                    = "noConfig"
	ReasonNotLoadBalancer             = "notLoadBalancer"
	ReasonNoIPAllocated               = "noIPAllocated"
	ReasonInvalidIP                   = "invalidIP"
	ReasonIPNotAllowed                = "ipNotAllowed"
	ReasonNoEndpoints                 = "noEndpoints"
	ReasonSharedIPWithServiceSelector = "sharedIPWithServiceSelector"
	ReasonNoMatchingAdvertisement     = "noMatchingAdvertisement"
	ReasonNoEligibleNode              = "noEligibleNode"
	ReasonSharedIPOwnerNotEligible    = "sharedIPOwnerNotEligible"
	ReasonNotOwner                    = "notOwner"
)

// Result is the desired state of one node.
type Result struct {
	// Announcements this node should make, by IP.
	Announcements map[netip.Addr]Announcement
	// Services holds a Decision for every input Service, by key.
	Services map[string]Decision
}

// Announcement is one IP this node answers ARP/NDP for.
type Announcement struct {
	IP netip.Addr
	// AllInterfaces: announce on every usable interface. Interfaces is then
	// nil.
	AllInterfaces bool
	// Interfaces to announce on, sorted, each once.
	Interfaces []string
	// Services announced through this IP, sorted keys.
	Services []string
}

// Equal reports whether a and b announce the same IP on the same
// interfaces for the same Services.
func (a Announcement) Equal(b Announcement) bool {
	return a.IP == b.IP && a.AllInterfaces == b.AllInterfaces &&
		slices.Equal(a.Interfaces, b.Interfaces) && slices.Equal(a.Services, b.Services)
}

// Decision is what this node decided for one Service.
type Decision struct {
	// Reason rejects the Service as a whole (notLoadBalancer,
	// noIPAllocated, invalidIP, ipNotAllowed, noConfig); IPs is then empty.
	// "" when the IPs were considered one by one.
	Reason string
	// IPs in the order of the Service's status, each once.
	IPs []IPDecision
}

// IPDecision is the outcome for one IP of a Service.
type IPDecision struct {
	IP netip.Addr
	// Owner is the node announcing this IP for this Service, "" when no
	// node does. Every node computes the same Owner from the same snapshot.
	Owner string
	// Announce is true when this node is the Owner.
	Announce bool
	// Reason this node does not announce the IP for the Service; "" when
	// Announce.
	Reason string
}

// Announced reports whether this node announces at least one IP of the
// Service.
func (d Decision) Announced() bool {
	return slices.ContainsFunc(d.IPs, func(ip IPDecision) bool { return ip.Announce })
}

// Owners returns the distinct owners of the Service's IPs, sorted ("" left
// out).
func (d Decision) Owners() []string {
	var out []string
	for _, ip := range d.IPs {
		if ip.Owner != "" {
			out = append(out, ip.Owner)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

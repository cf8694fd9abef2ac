// Package plan computes what one speaker should announce, as a pure
// function of a snapshot of the cluster: Desired for layer 2, DesiredBGP
// (bgp.go) for BGP. The speaker plans, then applies: the full desired set
// goes to an idempotent realizer (the ARP/NDP announcer, the BGP backend),
// which works out the difference itself and can start from scratch at any
// time.
//
// # Rules
//
// Desired follows MetalLB's layer 2 rules (speaker ShouldAnnounce). For each
// Service, in this order, the first rule that fails gives the reason the
// Service is not announced by this node (the Reason* constants):
//
//  1. spec.type must be LoadBalancer (notLoadBalancer); the status must hold
//     an IP (noIPAllocated), every IP must parse (invalidIP) and lie inside a
//     pool of the configuration (ipNotAllowed). These reject the whole
//     Service. A nil Config rejects every Service (noConfig).
//  2. Per IP: some endpoint must be able to serve, that is have ready unset
//     or true, or serving true (noEndpoints; MetalLB says notOwner here).
//  3. The applying advertisements are the L2Advertisements of the IP's pool
//     whose serviceSelectors match the Service (or that have none). A
//     Service with an allow-shared-ip key (metallb.io/ or the deprecated
//     metallb.universe.tf/ annotation, non-empty) is refused if any of them
//     has serviceSelectors (sharedIPWithServiceSelector).
//  4. Some applying advertisement must select this node
//     (noMatchingAdvertisement).
//  5. The candidates of the Service are the live speakers (every Node when
//     membership is off) that are selected by an applying advertisement's
//     nodeSelectors, without NetworkUnavailable, without the
//     node.kubernetes.io/out-of-service taint and without the
//     node.kubernetes.io/exclude-from-external-load-balancers label (unless
//     IgnoreExcludeLB); with externalTrafficPolicy Local, only those with a
//     serving endpoint of the Service. None: noEligibleNode (MetalLB:
//     notOwner).
//  6. The owner of the IP is elected (package election) and announces it;
//     every other node says notOwner.
//
// # Services sharing an IP
//
// Election is per IP, never per Service, so two Services sharing an IP
// cannot be announced by two nodes. The candidates of an IP are computed
// from all the Services that hold it and pass rules 1 to 3 (rules that do
// not depend on which node evaluates them, so every node agrees on the
// group): every node that is a candidate of at least one of them. Nodes are
// ranked by coverage first (how many of those Services they are a candidate
// of), then by preference score, then by rendezvous hash. When the Services
// agree on their candidates, as they normally do, coverage is equal and
// this is exactly the per-Service election; when they disagree (for example
// externalTrafficPolicy Local with endpoints on different nodes), a node
// that can serve all of them wins if there is one, otherwise the node that
// serves the most. A Service the owner is not a candidate of is not
// announced for (sharedIPOwnerNotEligible): with Local traffic policy the
// owner would drop its traffic anyway. MetalLB instead lets each Service
// elect on its own, which can make two nodes answer ARP for one IP.
//
// The preference score of a node for an IP is the sum of the weights of
// every preferredNodeSelector that matches the node's labels, over the
// distinct advertisements applying to the Services of the group; only
// candidates are scored.
//
// Each IP is elected on its own: the two IPs of a dual-stack Service may be
// owned by different nodes (MetalLB elects on the first IP for both).
//
// # Interfaces
//
// An announcement's interfaces are the union of the interfaces of the
// advertisements that apply to the announced Services and select this node;
// any such advertisement without interfaces means all interfaces.
//
// The package is pure: standard library and the core packages only, no
// clock, no logging.
package plan

// Package responder answers address resolution for the IPs this node
// announces on one network interface, and announces them gratuitously.
//
// A [Responder] serves one interface through two small socket seams
// ([FrameConn] for ARP, [NDPConn] for NDP) that carry whole Ethernet frames,
// so tests drive it over an in-memory pipe; package rawsock provides the
// AF_PACKET implementation.
//
// What goes on the wire:
//
//   - ARP (RFC 826): only requests, addressed to the Ethernet broadcast or
//     to the interface's MAC, whose target IP is owned. The reply goes to the
//     requester's hardware address with the interface MAC as sender.
//   - NDP (RFC 4861 section 7.2.3 to 7.2.4): Neighbor Solicitations that pass
//     the section 7.1.1 checks, sent to the target's solicited-node group or
//     unicast to the target itself (reachability confirmation), with or
//     without a Source Link-Layer Address option. The advertisement goes to
//     the solicitor's IP with Solicited=1 and Override=0 (we answer for an
//     address no kernel here owns, as a proxy would; this is also what
//     MetalLB sends), to the link-layer address from the option or else the
//     frame's source. A Duplicate Address Detection probe (source ::) is
//     answered to ff02::1 with Solicited=0, Override=1 (section 7.2.4), which
//     makes the prober's DAD fail.
//   - NA source address (RFC 4861 section 7.2.4 asks for "an address
//     assigned to the interface"): by default the target address itself,
//     which this node owns, exactly as the Linux kernel answers for its own
//     addresses. With Config.LinkLocalSource, the interface's link-local
//     address when it has one (MetalLB's choice), else the target. The
//     default exists because receivers are not all equal: ndisc6, for one,
//     drops an advertisement for a global target that comes from a
//     link-local source (it compares the reply's scope with the target's);
//     kernels accept both.
//   - Gratuitous announcements when an IP becomes owned: an ARP request and
//     an ARP reply (RFC 5227 section 3 announcement; sender = target = IP,
//     Ethernet broadcast; the reply carries the interface MAC as target
//     hardware address, which Linux requires to treat a reply as
//     gratuitous), or an unsolicited NA to ff02::1 with Override=1,
//     Solicited=0 (RFC 4861 section 7.2.6). They are repeated on
//     [DefaultSchedule] and stop as soon as the IP is removed. No goodbye is
//     sent on removal: the new owner's announcements override.
//   - Multicast membership: each owned IPv6 address's solicited-node group is
//     joined on the NDP socket, reference counted per group (distinct IPs
//     can share a group), and left when the last such IP goes.
//
// Goroutines exist only inside [Responder.Run]. Ownership changes take
// effect at once: the read loops look the target up for every frame.
package responder

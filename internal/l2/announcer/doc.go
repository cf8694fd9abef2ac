// Package announcer realizes the speaker's layer-2 plan: given the IPs this
// node must announce and on which interfaces, it keeps one responder per
// interface answering ARP and NDP for exactly those IPs.
//
// [Announcer.SetDesired] is level-based and idempotent: it takes the whole
// desired set, can be called again with the same or a new set at any time,
// and returns per IP the interfaces that actually announce it (MetalLB's
// ServiceL2Status interfaces) or an error wrapping [ErrNoInterface] (the
// announceFailed event). Interfaces are discovered with package netif and
// MetalLB's rules (exclusion patterns, down, enslaved, NOARP), rescanned
// every 10 s and on [Announcer.Rescan]. IPv4 is announced only on interfaces
// with the BROADCAST flag; IPv6 on every usable interface.
//
// A responder, with its sockets, exists only while its interface has at
// least one IP to announce; it is replaced when the interface changes
// identity (index, MAC, BROADCAST) and dropped when the interface goes away
// or becomes unusable. A responder whose socket fails is dropped and its
// interface left out until the next rescan.
//
// Goroutines run only inside [Announcer.Run].
package announcer

// Package l2 is the home of layer-2 mode: answering ARP (RFC 826) and
// IPv6 Neighbor Discovery (RFC 4861) for the service IPs this node
// announces, and announcing them gratuitously when they move here. It holds
// no code; the work is split into small packages:
//
//   - wire: pure Ethernet, ARP, IPv6 and NDP codecs (fuzzed).
//   - netif: which interfaces may be used (MetalLB's exclusion rules).
//   - responder: one interface's ARP/NDP answers and gratuitous bursts,
//     behind a socket seam.
//   - rawsock: the AF_PACKET implementation of that seam.
//   - announcer: the realizer the speaker calls with its desired set; it
//     keeps responders per interface and reports where each IP is announced.
//
// Tests that need real sockets run in network namespaces
// (internal/netnstest) and are left out with -tags nonetns.
package l2

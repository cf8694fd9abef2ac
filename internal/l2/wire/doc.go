// Package wire holds pure encoders and decoders for the few link-layer
// messages a layer-2 announcer speaks. It does no I/O and imports only the
// standard library.
//
//   - Ethernet II framing (IEEE 802.3 type field; no VLAN tags, no FCS).
//   - ARP for IPv4 over Ethernet, RFC 826: [ParseARP], [ARP.Append]. The
//     gratuitous forms follow RFC 5227 section 3 and the Linux rule that a
//     gratuitous reply carries the sender's hardware address as target.
//   - The fixed IPv6 header, RFC 8200 section 3: [ParseIPv6], [IPv6.Append].
//     Extension headers are not followed: NDP messages never carry any.
//   - ICMPv6, RFC 4443 section 2.3, with the IPv6 pseudo-header checksum of
//     RFC 8200 section 8.1: [ICMPv6Checksum].
//   - Neighbor Solicitation and Neighbor Advertisement with the Source and
//     Target Link-Layer Address options, RFC 4861 sections 4.3, 4.4 and 4.6.1,
//     and the receive-side validity checks of sections 7.1.1 and 7.1.2:
//     [ParseNeighborSolicitation], [ParseNeighborAdvertisement].
//   - Solicited-node multicast addresses (RFC 4291 section 2.7.1) and the
//     Ethernet mapping of IPv6 multicast (RFC 2464 section 7):
//     [SolicitedNode], [MulticastMAC].
//
// Parsers never retain more than they return: payload fields alias the input
// slice. Encoders append to a caller's buffer. Errors wrap one of
// [ErrTruncated], [ErrMalformed], [ErrUnsupported] or [ErrChecksum].
package wire

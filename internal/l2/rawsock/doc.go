// Package rawsock implements the responder's socket seams on Linux
// AF_PACKET sockets (packet(7)) through github.com/mdlayher/packet.
//
// Each interface gets up to two SOCK_RAW packet sockets bound to it: one for
// EtherType 0x0806 whose classic BPF filter keeps only ARP requests, and one
// for 0x86dd that keeps only ICMPv6 Neighbor Solicitations (Next Header 58,
// type 135, no extension header). Both also drop frames the kernel marks
// PACKET_OTHERHOST: unicast to other hosts (promiscuous mode) and frames of
// a VLAN without a device here, whose tag is gone by the time protocol
// sockets see them. The filters are attached before bind, so
// the process never copies other traffic. Protocol-bound packet sockets do
// not see the host's own outgoing frames.
//
// Multicast membership, so the NIC delivers solicitations sent to a
// solicited-node group (RFC 4861 section 7.2.1): the group's Ethernet
// address (33:33:ff:xx:xx:xx, RFC 2464 section 7) is added with
// PACKET_ADD_MEMBERSHIP / PACKET_MR_MULTICAST on the packet socket, which
// programs the NIC filter without putting the interface in allmulti or
// promiscuous mode and works even where IPv6 is disabled. In addition the
// IPv6 group is joined (IPV6_JOIN_GROUP) on a raw ICMPv6 socket whose
// ICMPv6 filter blocks every type, so the kernel sends MLD reports and
// MLD-snooping switches forward the solicitations to this port; that second
// join is best effort (it fails where IPv6 is disabled) and only logged.
// Closing the sockets drops every membership.
//
// Only CAP_NET_RAW is needed.
package rawsock

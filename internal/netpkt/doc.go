// Package netpkt holds the small pieces of raw packet handling that the
// layer 2 responder (internal/l2), the BFD echo function
// (internal/bgp/bfd) and the BGP backend (internal/bgp/gobgp) share: the
// Internet checksum of RFC 1071, the classic BPF guard that keeps a packet
// socket to frames addressed to this host, and finding the interface that
// holds an address.
package netpkt

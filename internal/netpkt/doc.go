// Package netpkt holds the small pieces of raw packet handling that the
// layer 2 responder (internal/l2) and the BFD echo function
// (internal/bgp/bfd) share: the Internet checksum of RFC 1071 and the
// classic BPF guard that keeps a packet socket to frames addressed to this
// host.
package netpkt

package wire

import (
	"encoding/binary"
	"net/netip"

	"github.com/ferrolb/ferrolb/internal/netpkt"
)

// ICMPv6 message types of Neighbor Discovery (RFC 4861 section 4).
const (
	ICMPv6RouterSolicitation    uint8 = 133
	ICMPv6RouterAdvertisement   uint8 = 134
	ICMPv6NeighborSolicitation  uint8 = 135
	ICMPv6NeighborAdvertisement uint8 = 136
)

// ICMPv6Checksum returns the checksum to store in bytes 2-3 of the ICMPv6
// message msg sent from src to dst (RFC 4443 section 2.3): the one's
// complement of the one's complement sum of the IPv6 pseudo-header (RFC 8200
// section 8.1) and the message, with the checksum field counted as zero
// whatever it holds. Messages shorter than 4 bytes are summed as they are.
func ICMPv6Checksum(src, dst netip.Addr, msg []byte) uint16 {
	sum := pseudoHeaderSum(src, dst, len(msg))
	if len(msg) >= 4 {
		sum = netpkt.Sum(sum, msg[:2])
		sum = netpkt.Sum(sum, msg[4:])
	} else {
		sum = netpkt.Sum(sum, msg)
	}
	return ^netpkt.Fold(sum)
}

// VerifyICMPv6Checksum reports whether the checksum stored in msg is
// correct for a message from src to dst. A message shorter than the 4-byte
// ICMPv6 header never verifies.
func VerifyICMPv6Checksum(src, dst netip.Addr, msg []byte) bool {
	if len(msg) < 4 {
		return false
	}
	return netpkt.Fold(netpkt.Sum(pseudoHeaderSum(src, dst, len(msg)), msg)) == 0xffff
}

// putICMPv6Checksum fills in the checksum of msg in place.
func putICMPv6Checksum(src, dst netip.Addr, msg []byte) {
	binary.BigEndian.PutUint16(msg[2:4], ICMPv6Checksum(src, dst, msg))
}

func pseudoHeaderSum(src, dst netip.Addr, length int) uint64 {
	s, d := src.As16(), dst.As16()
	var sum uint64
	sum = netpkt.Sum(sum, s[:])
	sum = netpkt.Sum(sum, d[:])
	sum += uint64(uint32(length) >> 16)
	sum += uint64(uint32(length) & 0xffff)
	return sum + ProtocolICMPv6
}

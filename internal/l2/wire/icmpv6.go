package wire

import (
	"encoding/binary"
	"net/netip"
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
		sum = sumBytes(sum, msg[:2])
		sum = sumBytes(sum, msg[4:])
	} else {
		sum = sumBytes(sum, msg)
	}
	return ^fold(sum)
}

// VerifyICMPv6Checksum reports whether the checksum stored in msg is
// correct for a message from src to dst. A message shorter than the 4-byte
// ICMPv6 header never verifies.
func VerifyICMPv6Checksum(src, dst netip.Addr, msg []byte) bool {
	if len(msg) < 4 {
		return false
	}
	return fold(sumBytes(pseudoHeaderSum(src, dst, len(msg)), msg)) == 0xffff
}

// putICMPv6Checksum fills in the checksum of msg in place.
func putICMPv6Checksum(src, dst netip.Addr, msg []byte) {
	binary.BigEndian.PutUint16(msg[2:4], ICMPv6Checksum(src, dst, msg))
}

func pseudoHeaderSum(src, dst netip.Addr, length int) uint64 {
	s, d := src.As16(), dst.As16()
	var sum uint64
	sum = sumBytes(sum, s[:])
	sum = sumBytes(sum, d[:])
	sum += uint64(uint32(length) >> 16)
	sum += uint64(uint32(length) & 0xffff)
	return sum + ProtocolICMPv6
}

// sumBytes adds b, as big-endian 16-bit words, to sum. Every call but the
// last must pass an even number of bytes; an odd final byte is padded with
// zero as RFC 1071 describes.
func sumBytes(sum uint64, b []byte) uint64 {
	for len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}

func fold(sum uint64) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

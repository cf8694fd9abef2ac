package netpkt

import "encoding/binary"

// Sum adds b, as big-endian 16-bit words, to the one's complement sum s
// (RFC 1071). Every call but the last must pass an even number of bytes;
// an odd final byte is padded with zero.
func Sum(s uint64, b []byte) uint64 {
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// Fold folds the carries of s into 16 bits.
func Fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// Checksum is the Internet checksum of b on top of the partial sum s: the
// one's complement of the folded sum. Over data that holds a correct
// checksum it is 0.
func Checksum(s uint64, b []byte) uint16 { return ^Fold(Sum(s, b)) }

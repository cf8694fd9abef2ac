package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IPv6HeaderLen is the length of the fixed IPv6 header.
const IPv6HeaderLen = 40

// ProtocolICMPv6 is the Next Header value of ICMPv6.
const ProtocolICMPv6 = 58

// IPv6 is an IPv6 packet: the fixed header (RFC 8200 section 3) and the
// payload it announces.
type IPv6 struct {
	TrafficClass uint8
	FlowLabel    uint32 // 20 bits
	NextHeader   uint8
	HopLimit     uint8
	Src, Dst     netip.Addr
	// Payload is exactly Payload Length bytes; it aliases the parsed input.
	Payload []byte
}

// ParseIPv6 decodes an IPv6 packet. Bytes beyond Payload Length (Ethernet
// padding) are ignored. Jumbograms (Payload Length 0 with a Hop-by-Hop
// option) are not supported and parse as an empty payload.
func ParseIPv6(b []byte) (IPv6, error) {
	if len(b) < IPv6HeaderLen {
		return IPv6{}, fmt.Errorf("%w: ipv6 packet of %d bytes, header needs %d", ErrTruncated, len(b), IPv6HeaderLen)
	}
	vtf := binary.BigEndian.Uint32(b[0:4])
	if v := vtf >> 28; v != 6 {
		return IPv6{}, fmt.Errorf("%w: ip version %d in an ipv6 packet", ErrMalformed, v)
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	if len(b)-IPv6HeaderLen < plen {
		return IPv6{}, fmt.Errorf("%w: ipv6 payload length %d, only %d bytes follow", ErrTruncated, plen, len(b)-IPv6HeaderLen)
	}
	return IPv6{
		TrafficClass: uint8(vtf >> 20),
		FlowLabel:    vtf & 0xfffff,
		NextHeader:   b[6],
		HopLimit:     b[7],
		Src:          netip.AddrFrom16([16]byte(b[8:24])),
		Dst:          netip.AddrFrom16([16]byte(b[24:40])),
		Payload:      b[IPv6HeaderLen : IPv6HeaderLen+plen],
	}, nil
}

// Append appends the header and payload to b. Src and Dst must be IPv6
// addresses; a zone is dropped.
func (h IPv6) Append(b []byte) ([]byte, error) {
	if !h.Src.Is6() || !h.Dst.Is6() {
		return b, fmt.Errorf("%w: ipv6 header needs ipv6 addresses, got %v -> %v", ErrMalformed, h.Src, h.Dst)
	}
	if h.FlowLabel > 0xfffff {
		return b, fmt.Errorf("%w: flow label %#x exceeds 20 bits", ErrMalformed, h.FlowLabel)
	}
	if len(h.Payload) > 0xffff {
		return b, fmt.Errorf("%w: ipv6 payload of %d bytes needs a jumbogram", ErrUnsupported, len(h.Payload))
	}
	b = binary.BigEndian.AppendUint32(b, 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.Payload)))
	b = append(b, h.NextHeader, h.HopLimit)
	s, d := h.Src.As16(), h.Dst.As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	return append(b, h.Payload...), nil
}

package wire

import (
	"encoding/binary"
	"fmt"
)

// EtherType values used here.
const (
	EtherTypeIPv4 uint16 = 0x0800
	EtherTypeARP  uint16 = 0x0806
	EtherTypeIPv6 uint16 = 0x86dd
)

// EthernetHeaderLen is the length of an untagged Ethernet II header.
const EthernetHeaderLen = 14

// Ethernet is an Ethernet II frame without FCS.
type Ethernet struct {
	Dst, Src  MAC
	EtherType uint16
	// Payload is everything after the header, including any padding the
	// sender added to reach the 60-byte minimum frame.
	Payload []byte
}

// ParseEthernet splits an Ethernet II frame. Payload aliases b.
func ParseEthernet(b []byte) (Ethernet, error) {
	if len(b) < EthernetHeaderLen {
		return Ethernet{}, fmt.Errorf("%w: ethernet frame of %d bytes, header needs %d", ErrTruncated, len(b), EthernetHeaderLen)
	}
	var e Ethernet
	copy(e.Dst[:], b[0:6])
	copy(e.Src[:], b[6:12])
	e.EtherType = binary.BigEndian.Uint16(b[12:14])
	if e.EtherType < 0x0600 {
		// An IEEE 802.3 length field, not a type: LLC framing.
		return Ethernet{}, fmt.Errorf("%w: 802.3 length field %d instead of an EtherType", ErrUnsupported, e.EtherType)
	}
	e.Payload = b[EthernetHeaderLen:]
	return e, nil
}

// Append appends the frame to b. No padding is added: like the Linux
// kernel's own ARP and NDP, short frames are left for the driver to pad.
func (e Ethernet) Append(b []byte) []byte {
	b = append(b, e.Dst[:]...)
	b = append(b, e.Src[:]...)
	b = binary.BigEndian.AppendUint16(b, e.EtherType)
	return append(b, e.Payload...)
}

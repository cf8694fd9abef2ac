package wire

import (
	"fmt"
	"net"
)

// MAC is a 48-bit Ethernet (EUI-48) address. Being an array it compares
// with == and can key a map.
type MAC [6]byte

// Broadcast is the Ethernet broadcast address ff:ff:ff:ff:ff:ff.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// MACFrom converts a net.HardwareAddr; it fails unless the address is 6
// bytes long.
func MACFrom(h net.HardwareAddr) (MAC, error) {
	var m MAC
	if len(h) != len(m) {
		return m, fmt.Errorf("%w: hardware address %q is %d bytes, want 6", ErrUnsupported, h.String(), len(h))
	}
	copy(m[:], h)
	return m, nil
}

// HardwareAddr returns a fresh net.HardwareAddr holding m.
func (m MAC) HardwareAddr() net.HardwareAddr {
	h := make(net.HardwareAddr, len(m))
	copy(h, m[:])
	return h
}

// IsMulticast reports whether the group bit is set (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&0x01 != 0 }

// String formats m as lower-case colon-separated hex.
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// ARPOp is the ARP operation code (RFC 826 ar$op).
type ARPOp uint16

// ARP operations.
const (
	ARPRequest ARPOp = 1
	ARPReply   ARPOp = 2
)

// ARPLen is the length of an ARP packet for IPv4 over Ethernet.
const ARPLen = 28

const (
	arpHTypeEthernet = 1
	arpPTypeIPv4     = 0x0800
)

// ARP is an RFC 826 packet with Ethernet hardware and IPv4 protocol
// addresses, the only combination found on an Ethernet carrying IPv4.
type ARP struct {
	Op        ARPOp
	SenderMAC MAC
	SenderIP  netip.Addr
	TargetMAC MAC
	TargetIP  netip.Addr
}

// ParseARP decodes the first [ARPLen] bytes of b; any trailing bytes
// (Ethernet padding) are ignored. Other hardware or protocol types are
// ErrUnsupported; address lengths that contradict them are ErrMalformed.
func ParseARP(b []byte) (ARP, error) {
	if len(b) < 8 {
		return ARP{}, fmt.Errorf("%w: arp packet of %d bytes", ErrTruncated, len(b))
	}
	htype := binary.BigEndian.Uint16(b[0:2])
	ptype := binary.BigEndian.Uint16(b[2:4])
	if htype != arpHTypeEthernet || ptype != arpPTypeIPv4 {
		return ARP{}, fmt.Errorf("%w: arp hardware type %d, protocol type %#04x", ErrUnsupported, htype, ptype)
	}
	if hlen, plen := b[4], b[5]; hlen != 6 || plen != 4 {
		return ARP{}, fmt.Errorf("%w: arp address lengths %d/%d for ethernet/ipv4, want 6/4", ErrMalformed, hlen, plen)
	}
	if len(b) < ARPLen {
		return ARP{}, fmt.Errorf("%w: arp packet of %d bytes, need %d", ErrTruncated, len(b), ARPLen)
	}
	a := ARP{Op: ARPOp(binary.BigEndian.Uint16(b[6:8]))}
	copy(a.SenderMAC[:], b[8:14])
	a.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	copy(a.TargetMAC[:], b[18:24])
	a.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return a, nil
}

// Append appends the encoded packet to b. Both IPs must be IPv4.
func (a ARP) Append(b []byte) ([]byte, error) {
	if !a.SenderIP.Is4() || !a.TargetIP.Is4() {
		return b, fmt.Errorf("%w: arp needs ipv4 addresses, got sender %v target %v", ErrMalformed, a.SenderIP, a.TargetIP)
	}
	b = binary.BigEndian.AppendUint16(b, arpHTypeEthernet)
	b = binary.BigEndian.AppendUint16(b, arpPTypeIPv4)
	b = append(b, 6, 4)
	b = binary.BigEndian.AppendUint16(b, uint16(a.Op))
	b = append(b, a.SenderMAC[:]...)
	s := a.SenderIP.As4()
	b = append(b, s[:]...)
	b = append(b, a.TargetMAC[:]...)
	t := a.TargetIP.As4()
	return append(b, t[:]...), nil
}

// IsGratuitous reports whether the packet announces its sender's own
// binding: sender and target protocol addresses are equal.
func (a ARP) IsGratuitous() bool { return a.SenderIP == a.TargetIP }

package wire

import "net/netip"

// ARPFrame encodes an ARP packet in an Ethernet frame.
func ARPFrame(ethDst, ethSrc MAC, a ARP) ([]byte, error) {
	b := Ethernet{Dst: ethDst, Src: ethSrc, EtherType: EtherTypeARP}.Append(make([]byte, 0, EthernetHeaderLen+ARPLen))
	return a.Append(b)
}

// NDPFrame encodes an NDP message from src to dst in an IPv6 packet with
// Hop Limit 255, in an Ethernet frame.
func NDPFrame(ethDst, ethSrc MAC, src, dst netip.Addr, m Message) ([]byte, error) {
	msg, err := m.Marshal(src, dst)
	if err != nil {
		return nil, err
	}
	b := Ethernet{Dst: ethDst, Src: ethSrc, EtherType: EtherTypeIPv6}.Append(make([]byte, 0, EthernetHeaderLen+IPv6HeaderLen+len(msg)))
	return IPv6{NextHeader: ProtocolICMPv6, HopLimit: ndpHopLimit, Src: src, Dst: dst, Payload: msg}.Append(b)
}

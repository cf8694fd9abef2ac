package wire

import (
	"fmt"
	"net/netip"
)

// NDP option types (RFC 4861 section 4.6).
const (
	OptionSourceLinkLayerAddress uint8 = 1
	OptionTargetLinkLayerAddress uint8 = 2
)

// ndpHopLimit is the only Hop Limit NDP accepts: it proves the packet was
// not forwarded by a router (RFC 4861 sections 7.1.1 and 7.1.2).
const ndpHopLimit = 255

// ndpFixedLen is the ICMPv6 header, the 4-byte flags/reserved word and the
// 16-byte target of both NS and NA.
const ndpFixedLen = 24

// NeighborSolicitation is an RFC 4861 section 4.3 message.
type NeighborSolicitation struct {
	Target netip.Addr
	// SourceLL is the Source Link-Layer Address option, nil when absent.
	// It is absent in Duplicate Address Detection probes and may be absent
	// in unicast (reachability) solicitations.
	SourceLL *MAC
}

// NeighborAdvertisement is an RFC 4861 section 4.4 message.
type NeighborAdvertisement struct {
	Router, Solicited, Override bool
	Target                      netip.Addr
	// TargetLL is the Target Link-Layer Address option, nil when absent.
	TargetLL *MAC
}

// NA flag bits, in the first byte after the ICMPv6 header.
const (
	naRouter    = 0x80
	naSolicited = 0x40
	naOverride  = 0x20
)

// Message is an NDP message that can be encoded for a given source and
// destination (the checksum covers both).
type Message interface {
	Marshal(src, dst netip.Addr) ([]byte, error)
}

var (
	_ Message = NeighborSolicitation{}
	_ Message = NeighborAdvertisement{}
)

// ParseNeighborSolicitation extracts a Neighbor Solicitation from an IPv6
// packet and applies every validity check of RFC 4861 section 7.1.1: ICMPv6
// next header, Hop Limit 255, correct checksum, Code 0, at least 24 bytes,
// a non-multicast target, options of non-zero length, and for a source of ::
// a solicited-node multicast destination and no Source Link-Layer option.
// A packet that is not an NS at all is ErrUnsupported.
func ParseNeighborSolicitation(p IPv6) (NeighborSolicitation, error) {
	msg, err := ndpMessage(p, ICMPv6NeighborSolicitation)
	if err != nil {
		return NeighborSolicitation{}, err
	}
	ns := NeighborSolicitation{Target: netip.AddrFrom16([16]byte(msg[8:24]))}
	if ns.SourceLL, err = linkLayerOption(msg[ndpFixedLen:], OptionSourceLinkLayerAddress); err != nil {
		return NeighborSolicitation{}, err
	}
	if ns.Target.IsMulticast() {
		return NeighborSolicitation{}, fmt.Errorf("%w: neighbor solicitation for multicast target %v", ErrMalformed, ns.Target)
	}
	if p.Src.IsUnspecified() {
		if !IsSolicitedNode(p.Dst) {
			return NeighborSolicitation{}, fmt.Errorf("%w: neighbor solicitation from :: to %v, not a solicited-node address", ErrMalformed, p.Dst)
		}
		if ns.SourceLL != nil {
			return NeighborSolicitation{}, fmt.Errorf("%w: neighbor solicitation from :: carries a source link-layer address", ErrMalformed)
		}
	}
	return ns, nil
}

// ParseNeighborAdvertisement extracts a Neighbor Advertisement from an IPv6
// packet with the checks of RFC 4861 section 7.1.2: ICMPv6 next header, Hop
// Limit 255, checksum, Code 0, at least 24 bytes, non-multicast target,
// options of non-zero length, and Solicited clear when sent to multicast.
func ParseNeighborAdvertisement(p IPv6) (NeighborAdvertisement, error) {
	msg, err := ndpMessage(p, ICMPv6NeighborAdvertisement)
	if err != nil {
		return NeighborAdvertisement{}, err
	}
	na := NeighborAdvertisement{
		Router:    msg[4]&naRouter != 0,
		Solicited: msg[4]&naSolicited != 0,
		Override:  msg[4]&naOverride != 0,
		Target:    netip.AddrFrom16([16]byte(msg[8:24])),
	}
	if na.TargetLL, err = linkLayerOption(msg[ndpFixedLen:], OptionTargetLinkLayerAddress); err != nil {
		return NeighborAdvertisement{}, err
	}
	if na.Target.IsMulticast() {
		return NeighborAdvertisement{}, fmt.Errorf("%w: neighbor advertisement for multicast target %v", ErrMalformed, na.Target)
	}
	if na.Solicited && p.Dst.IsMulticast() {
		return NeighborAdvertisement{}, fmt.Errorf("%w: solicited neighbor advertisement sent to multicast %v", ErrMalformed, p.Dst)
	}
	return na, nil
}

// ndpMessage returns the ICMPv6 message of p after the checks common to NS
// and NA.
func ndpMessage(p IPv6, typ uint8) ([]byte, error) {
	if p.NextHeader != ProtocolICMPv6 {
		return nil, fmt.Errorf("%w: next header %d, not icmpv6", ErrUnsupported, p.NextHeader)
	}
	msg := p.Payload
	if len(msg) < 1 {
		return nil, fmt.Errorf("%w: empty icmpv6 message", ErrTruncated)
	}
	if msg[0] != typ {
		return nil, fmt.Errorf("%w: icmpv6 type %d, want %d", ErrUnsupported, msg[0], typ)
	}
	if len(msg) < ndpFixedLen {
		return nil, fmt.Errorf("%w: icmpv6 type %d of %d bytes, need %d", ErrTruncated, typ, len(msg), ndpFixedLen)
	}
	if p.HopLimit != ndpHopLimit {
		return nil, fmt.Errorf("%w: ndp hop limit %d, want 255", ErrMalformed, p.HopLimit)
	}
	if msg[1] != 0 {
		return nil, fmt.Errorf("%w: ndp code %d, want 0", ErrMalformed, msg[1])
	}
	if !VerifyICMPv6Checksum(p.Src, p.Dst, msg) {
		return nil, fmt.Errorf("%w: icmpv6 type %d from %v to %v", ErrChecksum, typ, p.Src, p.Dst)
	}
	return msg, nil
}

// linkLayerOption walks the TLV options (RFC 4861 section 4.6): every
// option must have a non-zero length and fit in the message. It returns the
// first option of type want, read as an Ethernet address; other options are
// skipped as section 4.6 asks.
func linkLayerOption(opts []byte, want uint8) (*MAC, error) {
	var found *MAC
	for len(opts) > 0 {
		if len(opts) < 2 {
			return nil, fmt.Errorf("%w: ndp option header of %d bytes", ErrTruncated, len(opts))
		}
		typ, n := opts[0], int(opts[1])*8
		if n == 0 {
			return nil, fmt.Errorf("%w: ndp option %d has length 0", ErrMalformed, typ)
		}
		if n > len(opts) {
			return nil, fmt.Errorf("%w: ndp option %d of %d bytes, %d left", ErrTruncated, typ, n, len(opts))
		}
		if typ == want && found == nil {
			// The address fills the option after its 2-byte header; for
			// Ethernet (RFC 2464 section 6) that is exactly 6 bytes.
			var m MAC
			copy(m[:], opts[2:8])
			found = &m
		}
		opts = opts[n:]
	}
	return found, nil
}

// Marshal encodes ns as an ICMPv6 message from src to dst, checksum
// included. A non-nil SourceLL becomes a Source Link-Layer Address option.
func (ns NeighborSolicitation) Marshal(src, dst netip.Addr) ([]byte, error) {
	return marshalNDP(src, dst, ICMPv6NeighborSolicitation, 0, ns.Target, OptionSourceLinkLayerAddress, ns.SourceLL)
}

// Marshal encodes na as an ICMPv6 message from src to dst, checksum
// included. A non-nil TargetLL becomes a Target Link-Layer Address option.
func (na NeighborAdvertisement) Marshal(src, dst netip.Addr) ([]byte, error) {
	var flags byte
	if na.Router {
		flags |= naRouter
	}
	if na.Solicited {
		flags |= naSolicited
	}
	if na.Override {
		flags |= naOverride
	}
	return marshalNDP(src, dst, ICMPv6NeighborAdvertisement, flags, na.Target, OptionTargetLinkLayerAddress, na.TargetLL)
}

func marshalNDP(src, dst netip.Addr, typ, flags byte, target netip.Addr, optType uint8, ll *MAC) ([]byte, error) {
	if !src.Is6() || !dst.Is6() {
		return nil, fmt.Errorf("%w: ndp needs ipv6 source and destination, got %v -> %v", ErrMalformed, src, dst)
	}
	if !target.Is6() || target.IsMulticast() {
		return nil, fmt.Errorf("%w: ndp target %v is not an ipv6 unicast address", ErrMalformed, target)
	}
	b := make([]byte, ndpFixedLen, ndpFixedLen+8)
	b[0] = typ
	b[4] = flags
	t := target.As16()
	copy(b[8:24], t[:])
	if ll != nil {
		b = append(b, optType, 1)
		b = append(b, ll[:]...)
	}
	putICMPv6Checksum(src, dst, b)
	return b, nil
}

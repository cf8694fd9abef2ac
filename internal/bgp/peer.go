package bgp

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// DefaultPort is the BGP port used when Peer.Port is 0.
const DefaultPort = 179

// ErrInvalidPeer marks a Peer that no backend can open; retrying with the
// same settings does not help.
var ErrInvalidPeer = errors.New("invalid peer")

// RemotePort returns the peer's port, 179 when unset.
func (p Peer) RemotePort() uint16 {
	if p.Port == 0 {
		return DefaultPort
	}
	return p.Port
}

// ID is the session's metrics label, "address:port" ("[v6]:port" for IPv6).
func (p Peer) ID() string {
	return netip.AddrPortFrom(p.Address, p.RemotePort()).String()
}

// IBGP reports whether the session is internal (both ends in one AS).
func (p Peer) IBGP() bool {
	if p.PeerASN == 0 {
		return p.DynamicASN == DynamicInternal
	}
	return p.MyASN == p.PeerASN
}

// Carries reports whether the session sends routes of prefix's family: the
// family of the peer address, or both with DualStackAddressFamily.
func (p Peer) Carries(prefix netip.Prefix) bool {
	return p.DualStackAddressFamily || prefix.Addr().Is4() == p.Address.Is4()
}

// Validate reports settings no backend can use, wrapping ErrInvalidPeer.
// The config compiler rejects most of them earlier; this guards the
// backend against a caller that skipped it.
func (p Peer) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidPeer, p.Name, fmt.Sprintf(format, a...))
	}
	switch {
	case p.Name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidPeer)
	case !p.Address.IsValid() || p.Address.Is4In6():
		return bad("peer address %v is not an IPv4 or IPv6 address", p.Address)
	case p.Address.IsUnspecified() || p.Address.IsMulticast():
		return bad("peer address %v is not a unicast address", p.Address)
	case p.MyASN == 0:
		return bad("missing local ASN")
	case p.DynamicASN != "" && p.DynamicASN != DynamicInternal && p.DynamicASN != DynamicExternal:
		return bad("dynamic ASN %q is neither %q nor %q", p.DynamicASN, DynamicInternal, DynamicExternal)
	case p.PeerASN == 0 && p.DynamicASN == "":
		return bad("missing peer ASN")
	case p.PeerASN != 0 && p.DynamicASN != "":
		return bad("peer ASN and dynamic ASN are mutually exclusive")
	case p.RouterID.IsValid() && !p.RouterID.Is4():
		return bad("router ID %v is not an IPv4 address", p.RouterID)
	case p.SourceAddress.IsValid() && p.SourceAddress.Is4() != p.Address.Is4():
		return bad("source address %v and peer address %v are of different families", p.SourceAddress, p.Address)
	case p.HoldTime != 0 && (p.HoldTime < 3*time.Second || p.HoldTime%time.Second != 0 || p.HoldTime > 65535*time.Second):
		return bad("hold time %v must be 0 or whole seconds from 3 to 65535", p.HoldTime)
	case p.KeepaliveTime < 0 || p.KeepaliveTime%time.Second != 0 || (p.HoldTime != 0 && p.KeepaliveTime > p.HoldTime):
		return bad("keepalive time %v must be whole seconds, at most the hold time", p.KeepaliveTime)
	case p.ConnectTime < 0 || p.ConnectTime%time.Second != 0 || p.ConnectTime > 65535*time.Second:
		return bad("connect time %v must be whole seconds up to 65535", p.ConnectTime)
	case len(p.Password) > 80:
		// TCP_MD5SIG_MAXKEYLEN
		return bad("password is longer than 80 bytes")
	case p.IBGP() && p.EBGPMultiHop:
		return bad("ebgpMultiHop applies to eBGP sessions only")
	}
	if b := p.BFD; b != nil {
		switch {
		case b.ReceiveInterval < time.Millisecond || b.TransmitInterval < time.Millisecond:
			return bad("BFD intervals must be at least 1 ms")
		case b.ReceiveInterval > time.Hour || b.TransmitInterval > time.Hour:
			return bad("BFD intervals must be at most an hour")
		case b.DetectMultiplier == 0:
			return bad("BFD detect multiplier must not be 0")
		}
	}
	return nil
}

// SessionEqual reports whether p and q describe the same BGP session: every
// setting but BFD (which a backend changes in place) is equal. A backend
// resets the session when this is false.
func (p Peer) SessionEqual(q Peer) bool {
	a, b := p, q
	a.BFD, b.BFD = nil, nil
	return a == b
}

// BFDEqual reports whether p and q have the same BFD settings.
func (p Peer) BFDEqual(q Peer) bool {
	if p.BFD == nil || q.BFD == nil {
		return p.BFD == q.BFD
	}
	return *p.BFD == *q.BFD
}

// String renders a community as the API writes it.
func (c Community) String() string {
	if c.Large {
		return "large:" + strconv.FormatUint(uint64(c.Global), 10) + ":" +
			strconv.FormatUint(uint64(c.Local1), 10) + ":" + strconv.FormatUint(uint64(c.Local2), 10)
	}
	return strconv.FormatUint(uint64(c.Global), 10) + ":" + strconv.FormatUint(uint64(c.Local1), 10)
}

// Value is a legacy community as carried in the COMMUNITIES attribute.
func (c Community) Value() uint32 { return c.Global<<16 | c.Local1&0xffff }

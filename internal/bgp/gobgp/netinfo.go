package gobgp

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"net"
	"net/netip"
	"syscall"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/netpkt"
)

// localEnd is what the node knows about its end of a session before
// dialing: the local address routing picks towards the peer and the other
// addresses of the interface that holds it.
type localEnd struct {
	addr netip.Addr
	// ifaceAddrs are the addresses of the interface holding addr.
	ifaceAddrs []netip.Addr
}

// lookupLocalEnd asks the kernel which source address it would use towards
// the peer (a UDP "connect" sends nothing) and lists the addresses of the
// interface that has it. SourceAddress, when set, wins.
func lookupLocalEnd(ctx context.Context, p *bgp.Peer) localEnd {
	var le localEnd
	if p.SourceAddress.IsValid() {
		le.addr = p.SourceAddress
	} else {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			if p.VRF == "" {
				return nil
			}
			var serr error
			if err := c.Control(func(fd uintptr) { serr = bindToDevice(fd, p.VRF) }); err != nil {
				return err
			}
			return serr
		}}
		conn, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(p.Address, p.RemotePort()).String())
		if err != nil {
			return le
		}
		le.addr = conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		conn.Close()
	}
	_, le.ifaceAddrs, _ = netpkt.InterfaceWith(le.addr)
	return le
}

// routerID picks the BGP identifier as MetalLB's native speaker does: the
// configured one; else the local address if IPv4; else the first IPv4
// address of the same interface; else the CRC-32 of the node name.
func routerID(p *bgp.Peer, le localEnd, nodeName string) netip.Addr {
	if p.RouterID.IsValid() {
		return p.RouterID
	}
	if le.addr.Is4() {
		return le.addr
	}
	for _, a := range le.ifaceAddrs {
		if a.Is4() && !a.IsLoopback() {
			return a
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], crc32.ChecksumIEEE([]byte(nodeName)))
	return netip.AddrFrom4(b)
}

// crossFamilyNextHops returns the next hops for routes of the family the
// session's own address is not: the first global address of that family on
// the interface of the session (an IPv4 address for IPv4 routes over an
// IPv6 session, a global IPv6 address for IPv6 routes over an IPv4
// session). Without one GoBGP falls back to the session address (an
// IPv4-mapped IPv6 next hop, or an IPv6 next hop for IPv4 routes as in
// RFC 8950), which the router may not be able to use.
func crossFamilyNextHops(p *bgp.Peer, le localEnd) nextHops {
	var nh nextHops
	if !p.DualStackAddressFamily {
		return nh
	}
	for _, a := range le.ifaceAddrs {
		switch {
		case p.Address.Is4() && a.Is6() && a.IsGlobalUnicast() && !nh.v6.IsValid():
			nh.v6 = a
		case p.Address.Is6() && a.Is4() && a.IsGlobalUnicast() && !nh.v4.IsValid():
			nh.v4 = a
		}
	}
	return nh
}

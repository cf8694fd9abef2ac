package rawsock

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/mdlayher/packet"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/ferrolb/ferrolb/internal/l2/responder"
	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// Conn is a packet socket carrying Ethernet frames on one interface.
type Conn struct {
	pc *packet.Conn
}

var _ responder.FrameConn = (*Conn)(nil)

// OpenARP opens a socket that receives the ARP requests arriving on ifi.
func OpenARP(ifi *net.Interface) (*Conn, error) {
	pc, err := packet.Listen(ifi, packet.Raw, int(wire.EtherTypeARP), &packet.Config{Filter: assemble(arpRequestFilter)})
	if err != nil {
		return nil, fmt.Errorf("arp socket on %s: %w", ifi.Name, err)
	}
	enlargeReadBuffer(pc)
	return &Conn{pc: pc}, nil
}

// readBuffer is the receive buffer asked for: room for a few thousand
// requests arriving at once (every host of a LAN re-resolving its
// neighbours after a switch restart), which the default buffer, a few
// hundred frames, would drop.
const readBuffer = 4 << 20

// enlargeReadBuffer raises the socket's receive buffer to readBuffer: with
// CAP_NET_ADMIN past the system's limit (SO_RCVBUFFORCE), else up to
// net.core.rmem_max. A failure leaves the default (best effort).
func enlargeReadBuffer(pc *packet.Conn) {
	rc, err := pc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, readBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, readBuffer)
		}
	})
}

// ReadBuffer returns the socket's receive buffer size in bytes.
func (c *Conn) ReadBuffer() (int, error) {
	rc, err := c.pc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var serr error
	if err := rc.Control(func(fd uintptr) { n, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil {
		return 0, err
	}
	return n, serr
}

// ReadFrame reads one frame.
func (c *Conn) ReadFrame(b []byte) (int, error) {
	n, _, err := c.pc.ReadFrom(b)
	return n, err
}

// WriteFrame sends a frame as it is; the destination is its first 6 bytes.
func (c *Conn) WriteFrame(frame []byte) error {
	if len(frame) < wire.EthernetHeaderLen {
		return fmt.Errorf("frame of %d bytes", len(frame))
	}
	_, err := c.pc.WriteTo(frame, &packet.Addr{HardwareAddr: net.HardwareAddr(frame[0:6])})
	return err
}

// Close closes the socket; a blocked ReadFrame returns.
func (c *Conn) Close() error { return c.pc.Close() }

// NDPConn is a packet socket for Neighbor Solicitations plus the raw
// ICMPv6 socket used for MLD group joins.
type NDPConn struct {
	Conn
	ifi *net.Interface
	log *slog.Logger

	mu     sync.Mutex
	mld    *ipv6.PacketConn // nil when it could not be opened
	mldIn  map[netip.Addr]bool
	closed bool
}

var _ responder.NDPConn = (*NDPConn)(nil)

// OpenNDP opens a socket that receives the Neighbor Solicitations arriving
// on ifi, and a raw ICMPv6 socket for group joins (best effort: without it
// only the link-layer membership is set). log may be nil.
func OpenNDP(ifi *net.Interface, log *slog.Logger) (*NDPConn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pc, err := packet.Listen(ifi, packet.Raw, int(wire.EtherTypeIPv6), &packet.Config{Filter: assemble(neighborSolicitationFilter)})
	if err != nil {
		return nil, fmt.Errorf("ndp socket on %s: %w", ifi.Name, err)
	}
	enlargeReadBuffer(pc)
	c := &NDPConn{Conn: Conn{pc: pc}, ifi: ifi, log: log.With("interface", ifi.Name), mldIn: map[netip.Addr]bool{}}
	if mld, err := openMLD(); err != nil {
		c.log.Info("no icmpv6 socket for MLD reports; relying on link-layer membership only", "error", err)
	} else {
		c.mld = mld
	}
	return c, nil
}

// openMLD opens a raw ICMPv6 socket that receives nothing (all types
// filtered) and only serves IPV6_JOIN_GROUP.
func openMLD() (*ipv6.PacketConn, error) {
	lc, err := net.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return nil, err
	}
	p := ipv6.NewPacketConn(lc)
	var f ipv6.ICMPFilter
	f.SetAll(true)
	if err := p.SetICMPFilter(&f); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

// JoinGroup makes the interface deliver frames sent to group: the
// link-layer membership must succeed; the MLD join is best effort.
func (c *NDPConn) JoinGroup(group netip.Addr) error {
	if err := c.pc.JoinGroup(wire.MulticastMAC(group).HardwareAddr()); err != nil {
		return fmt.Errorf("link-layer membership of %v: %w", group, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mld != nil && !c.closed && !c.mldIn[group] {
		if err := c.mld.JoinGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()}); err != nil {
			c.log.Debug("mld join failed", "group", group, "error", err)
		} else {
			c.mldIn[group] = true
		}
	}
	return nil
}

// LeaveGroup undoes JoinGroup.
func (c *NDPConn) LeaveGroup(group netip.Addr) error {
	err := c.pc.LeaveGroup(wire.MulticastMAC(group).HardwareAddr())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mldIn[group] {
		delete(c.mldIn, group)
		if e := c.mld.LeaveGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()}); e != nil {
			err = errors.Join(err, e)
		}
	}
	return err
}

// Close closes both sockets.
func (c *NDPConn) Close() error {
	err := c.Conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mld != nil && !c.closed {
		err = errors.Join(err, c.mld.Close())
	}
	c.closed = true
	return err
}

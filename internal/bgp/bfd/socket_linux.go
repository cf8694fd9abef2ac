//go:build linux

package bfd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// RFC 5881 section 4: the source port of a session is in this range.
const (
	srcPortMin = 49152
	srcPortMax = 65535
)

// listen opens the receiving socket of one (VRF, family, port): it reports
// the TTL (hop limit) of every datagram so the caller can check it.
func listen(ctx context.Context, vrf string, v6 bool, port int) (*net.UDPConn, error) {
	network, addr := "udp4", fmt.Sprintf("0.0.0.0:%d", port)
	if v6 {
		network, addr = "udp6", fmt.Sprintf("[::]:%d", port)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return control(c, func(fd int) error {
			if err := bindToDevice(fd, vrf); err != nil {
				return err
			}
			if v6 {
				return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			}
			return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
		})
	}}
	pc, err := lc.ListenPacket(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// dial opens the transmitting socket of a session: bound to a source port
// of the RFC 5881 range (and to local, when valid), connected to the peer,
// sending with TTL 255.
func dial(ctx context.Context, vrf string, local, peer netip.Addr, port int) (*net.UDPConn, error) {
	network := "udp4"
	if peer.Is6() {
		network = "udp6"
	}
	var lastErr error
	for range 16 {
		src := netip.AddrPortFrom(local, uint16(srcPortMin+rand.IntN(srcPortMax-srcPortMin+1)))
		d := net.Dialer{
			LocalAddr: net.UDPAddrFromAddrPort(src),
			Control: func(_, _ string, c syscall.RawConn) error {
				return control(c, func(fd int) error {
					if err := bindToDevice(fd, vrf); err != nil {
						return err
					}
					if peer.Is6() {
						return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 255)
					}
					return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, 255)
				})
			},
		}
		c, err := d.DialContext(ctx, network, netip.AddrPortFrom(peer, uint16(port)).String())
		if err == nil {
			return c.(*net.UDPConn), nil
		}
		lastErr = err
		if !errors.Is(err, unix.EADDRINUSE) {
			break
		}
	}
	return nil, lastErr
}

func control(c syscall.RawConn, f func(fd int) error) error {
	var ferr error
	if err := c.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func bindToDevice(fd int, dev string) error {
	if dev == "" {
		return nil
	}
	if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, dev); err != nil {
		return fmt.Errorf("binding to device %q: %w", dev, err)
	}
	return nil
}

// oobSize fits one TTL or hop-limit control message.
var oobSize = unix.CmsgSpace(4)

// receivedTTL extracts the TTL (IPv4) or hop limit (IPv6) from the control
// messages of a datagram; -1 when absent.
func receivedTTL(oob []byte) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return -1
	}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		if (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TTL) ||
			(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_HOPLIMIT) {
			return int(binary.NativeEndian.Uint32(m.Data))
		}
	}
	return -1
}

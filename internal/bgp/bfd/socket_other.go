//go:build !linux

package bfd

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

var errUnsupported = errors.New("bfd: sockets are implemented on Linux only")

func listen(context.Context, string, bool, int) (*net.UDPConn, error) { return nil, errUnsupported }

func dial(context.Context, string, netip.Addr, netip.Addr, int) (*net.UDPConn, error) {
	return nil, errUnsupported
}

var oobSize = 64

func receivedTTL([]byte) int { return -1 }

type echoPath struct{}

func newEchoPath(netip.Addr, netip.Addr, uint16, func([]byte, netip.Addr, int, <-chan struct{})) *echoPath {
	return &echoPath{}
}

func (*echoPath) send(time.Time, uint32) error { return errUnsupported }
func (*echoPath) close()                       {}

func forwardsIPv4(netip.Addr) bool { return false }

//go:build !linux

package bfd

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

var errUnsupported = errors.New("bfd: sockets are implemented on Linux only")

func listen(context.Context, string, bool, int) (*net.UDPConn, error) { return nil, errUnsupported }

func dial(context.Context, string, netip.Addr, netip.Addr, int) (*net.UDPConn, error) {
	return nil, errUnsupported
}

var oobSize = 64

func receivedTTL([]byte) int { return -1 }

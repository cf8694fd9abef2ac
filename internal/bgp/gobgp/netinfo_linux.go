//go:build linux

package gobgp

import "golang.org/x/sys/unix"

// bindToDevice puts a socket in a VRF (or on an interface).
func bindToDevice(fd uintptr, dev string) error {
	return unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, dev)
}

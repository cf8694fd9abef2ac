//go:build !linux

package netif

import "errors"

// System lists the host's interfaces; only Linux is supported.
type System struct{}

// Interfaces always fails outside Linux.
func (System) Interfaces() ([]Interface, error) {
	return nil, errors.New("netif: interface discovery needs Linux rtnetlink")
}

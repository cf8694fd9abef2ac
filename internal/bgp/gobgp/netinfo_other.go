//go:build !linux

package gobgp

import "errors"

func bindToDevice(uintptr, string) error {
	return errors.New("binding a socket to a device needs Linux")
}

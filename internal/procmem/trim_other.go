//go:build !linux

package procmem

func trim(uintptr, uintptr) error { return nil }

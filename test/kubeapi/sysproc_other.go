//go:build !linux

package kubeapi

import "syscall"

// sysProcAttr puts the child in its own process group so Stop can signal it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

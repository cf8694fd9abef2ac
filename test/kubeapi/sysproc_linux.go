package kubeapi

import "syscall"

// sysProcAttr puts the child in its own process group (so Stop can signal it
// and anything it forks) and has the kernel SIGKILL it if the test binary dies
// without calling Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

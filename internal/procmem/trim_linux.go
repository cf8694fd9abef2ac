package procmem

import "golang.org/x/sys/unix"

// trim marks [addr, addr+n) MADV_NOHUGEPAGE, then MADV_DONTNEED: the
// range's page table entries go, the file pages stay cached.
func trim(addr, n uintptr) error {
	for _, advice := range []uintptr{unix.MADV_NOHUGEPAGE, unix.MADV_DONTNEED} {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, addr, n, advice); errno != 0 {
			return errno
		}
	}
	return nil
}

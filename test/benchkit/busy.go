package benchkit

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// busyLoopEnv, set in a benchmark program's environment, makes Main run
// that many busy loops instead of measuring (see StartBusyLoops).
const busyLoopEnv = "FERROLB_BENCH_BUSY_LOOPS"

// busyLoopBound ends a busy-loop process that was not stopped.
const busyLoopBound = 10 * time.Minute

// StartBusyLoops starts n busy loops in a child process of this program,
// named "busyloop": goroutines doing arithmetic on registers only (no
// memory traffic, no system calls, no API requests). It is the control of
// the -compare-busy-loops diagnostic: how much the API server alone slows
// down when other processes merely compete for the same CPUs. stop kills
// the child and waits for it; the child also dies with this program and
// after busyLoopBound.
func StartBusyLoops(n int) (stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), busyLoopEnv+"="+strconv.Itoa(n))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("busy loops: %w", err)
	}
	return func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}, nil
}

// runBusyLoops is the child's side of StartBusyLoops: it reports whether
// this process is one, and if so spins until busyLoopBound.
func runBusyLoops() bool {
	n, err := strconv.Atoi(os.Getenv(busyLoopEnv))
	if err != nil || n <= 0 {
		return false
	}
	if name, err := unix.BytePtrFromString("busyloop"); err == nil {
		_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
	}
	end := time.Now().Add(busyLoopBound)
	done := make(chan uint64)
	for i := range n {
		go func(x uint64) {
			for time.Now().Before(end) {
				for range 1 << 20 { // xorshift: registers only
					x ^= x << 13
					x ^= x >> 7
					x ^= x << 17
				}
			}
			done <- x
		}(uint64(i) + 1)
	}
	for range n {
		<-done
	}
	return true
}

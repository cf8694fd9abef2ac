package kubeapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one child (etcd or kube-apiserver) in a process group of its own,
// with its output in a log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string        // path of the log file
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result, readable after done
}

func startProcess(name, bin string, args []string, logPath string, extra io.Writer) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kubeapi: %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = sysProcAttr()
	var out io.Writer = f
	if extra != nil {
		out = io.MultiWriter(f, extra)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("kubeapi: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes an early exit, with the end of the log.
func (p *process) exitError() error {
	return fmt.Errorf("kubeapi: %s exited early (%v); its output ends with:\n%s", p.name, p.err, tail(p.log, 30))
}

// stop sends SIGTERM to the process group, then SIGKILL after grace, and
// waits (bounded) for the process to be reaped.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	// Negative PID: the whole group, which the child leads (Setpgid).
	if err := syscall.Kill(-p.pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kubeapi: SIGTERM %s (pid %d): %w", p.name, p.pid(), err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(-p.pid(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kubeapi: SIGKILL %s (pid %d): %w", p.name, p.pid(), err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("kubeapi: %s (pid %d) still running 10s after SIGKILL", p.name, p.pid())
	}
}

// tail returns the last n lines of a file, or a note saying why it cannot.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\t" + strings.ReplaceAll(string(bytes.Join(lines, []byte("\n"))), "\n", "\n\t")
}

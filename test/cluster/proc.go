package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// Proc is a process a test started (the project's binaries, and the lab's
// daemons in network namespaces), in a process group of its own, its output
// in Log.
type Proc struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

var builds sync.Map // package path -> *buildResult

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// Binary builds a main package of this module (e.g. "./cmd/controller")
// once per process and returns the executable's path.
func Binary(pkg string) (string, error) {
	v, _ := builds.LoadOrStore(pkg, &buildResult{})
	b := v.(*buildResult)
	b.once.Do(func() {
		root, err := kubeapi.RepoRoot()
		if err != nil {
			b.err = err
			return
		}
		removeStaleBinaries()
		dir, err := os.MkdirTemp("", fmt.Sprintf("ferrolb-bin-%d-", os.Getpid()))
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, filepath.Base(pkg))
		linked := b.path + ".link"
		cmd := exec.Command("go", "build", "-o", linked, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
			return
		}
		b.err = install(linked, b.path)
	})
	return b.path, b.err
}

// install copies a freshly linked binary to dst the way an image layer is
// unpacked on a node (plain writes of a small buffer), then removes it.
// The linker writes its output through a memory mapping, which leaves the
// file in the page cache as large folios; the kernel then maps a whole
// folio into every process that touches one byte of it, and a daemon's
// resident set would count most of its binary. Measurements (and the
// demo) should see the binary as a node does.
func install(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer os.Remove(src)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(out, in, make([]byte, 32<<10)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// removeStaleBinaries deletes the build directories of test processes that
// are gone (ferrolb-bin-<pid>-*, <pid> no longer running), so interrupted
// runs do not pile up binaries in the temporary directory.
func removeStaleBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "ferrolb-bin-*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), "ferrolb-bin-")
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); os.IsNotExist(err) {
			_ = os.RemoveAll(d)
		}
	}
}

// StartProcess runs bin with args, its output in <Dir>/<name>.log. The
// process dies with the test process (Pdeathsig) and is ended by Stop.
func (c *Cluster) StartProcess(name, bin string, args ...string) (*Proc, error) {
	p, err := StartProc(name, filepath.Join(c.Dir, name+".log"), nil, bin, args...)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// StartProc runs bin with args in a process group of its own, its output
// appended to logPath between start and exit markers, env added to this
// process's environment. The process dies with the test process
// (Pdeathsig).
func StartProc(name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	fmt.Fprintf(f, "=== %s start: %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		fmt.Fprintf(f, "=== %s exit: %v\n", time.Now().Format(time.RFC3339Nano), p.err)
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// StartController builds and starts the controller against the cluster.
// Metrics and health ports are off unless args set them.
func (c *Cluster) StartController(name string, args ...string) (*Proc, error) {
	bin, err := Binary("./cmd/controller")
	if err != nil {
		return nil, err
	}
	base := []string{"--kubeconfig", c.Kubeconfig, "--namespace", Namespace, "--port", "0",
		"--health-probe-port", "0", "--webhook-mode", "disabled"}
	return c.StartProcess(name, bin, append(base, args...)...)
}

// PID returns the process id (also its process group id).
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process's group (the process and its children).
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	if err := syscall.Kill(-p.PID(), sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to %s (pid %d): %w", sig, p.Name, p.PID(), err)
	}
	return nil
}

// Wait waits, bounded by ctx, for the process to end and returns its exit
// error.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s to exit: %w", p.Name, ctx.Err())
	}
}

// Stop is StopGrace with 5 s of grace.
func (p *Proc) Stop() error { return p.StopGrace(5 * time.Second) }

// StopGrace sends SIGTERM to the group, then SIGKILL after grace, and
// waits (bounded) until the process is reaped.
func (p *Proc) StopGrace(grace time.Duration) error {
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) still running 10s after SIGKILL", p.Name, p.PID())
	}
}

// RSS returns the process's resident set size in bytes.
func (p *Proc) RSS() (uint64, error) {
	return statusField(p.PID(), "VmRSS:")
}

// PeakRSS returns the process's peak resident set size in bytes.
func (p *Proc) PeakRSS() (uint64, error) {
	return statusField(p.PID(), "VmHWM:")
}

func statusField(pid int, field string) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, field) {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			break
		}
		kb, err := strconv.ParseUint(fields[1], 10, 64)
		return kb * 1024, err
	}
	return 0, errors.New("no " + field + " in /proc status")
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

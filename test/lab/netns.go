package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns add` mounts named network namespaces.
const netnsDir = "/run/netns"

// cmdTimeout bounds every external command the lab runs.
const cmdTimeout = 10 * time.Second

// run executes a command, bounded by ctx and cmdTimeout, and returns its
// output; an error carries the command line and its output.
func run(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("lab: %s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// ipBatch runs `ip` commands (one per line, without the leading "ip") in
// network namespace ns ("" for the root namespace), stopping at the first
// failure.
func ipBatch(ctx context.Context, ns string, lines ...string) error {
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	_, err := run(ctx, strings.Join(lines, "\n")+"\n", "ip", args...)
	return err
}

// nsExec runs a program inside network namespace ns (with /sys remounted
// for it by `ip netns exec`) and returns its output.
func nsExec(ctx context.Context, ns string, name string, args ...string) (string, error) {
	return run(ctx, "", "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// InNS runs fn on an OS thread that has joined network namespace ns.
// Sockets fn creates belong to ns for their whole life, whichever thread
// later uses them. The thread then returns to the root namespace and to
// the Go scheduler. It must not end: children started with Pdeathsig (by
// test/kubeapi, test/cluster and this package) die when the thread that
// forked them ends, and any thread may have forked one. Only if the way
// back fails is the thread left locked, so the runtime discards it.
func InNS(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: own network namespace: %w", err)
			return
		}
		defer back.Close()
		f, err := os.Open(filepath.Join(netnsDir, ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: network namespace %s: %w", ns, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: setns %s: %w", ns, err)
			return
		}
		err = fn()
		if unix.Setns(int(back.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// listenIn opens a TCP listener inside network namespace ns.
func listenIn(ns, addr string) (net.Listener, error) {
	var ln net.Listener
	err := InNS(ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}

// DialIn opens a connection from inside network namespace ns (as an
// http.Transport's DialContext: lab.NSDialer).
func DialIn(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := InNS(ns, func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// writeSysctls sets /proc/sys/net values inside network namespace ns
// (key "ipv4/ip_forward" means /proc/sys/net/ipv4/ip_forward).
func writeSysctls(ns string, kv map[string]string) error {
	return InNS(ns, func() error {
		for k, v := range kv {
			if err := os.WriteFile(filepath.Join("/proc/sys/net", k), []byte(v), 0o644); err != nil {
				return fmt.Errorf("lab: sysctl net/%s in %s: %w", k, ns, err)
			}
		}
		return nil
	})
}

// namespaces lists the named network namespaces starting with prefix.
func namespaces(prefix string) ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// deleteNamespace removes a named network namespace; an absent one is fine.
func deleteNamespace(ctx context.Context, ns string) error {
	if _, err := os.Stat(filepath.Join(netnsDir, ns)); os.IsNotExist(err) {
		return nil
	}
	_, err := run(ctx, "", "ip", "netns", "del", ns)
	return err
}

// nsPIDs lists the processes running in network namespace ns.
func nsPIDs(ctx context.Context, ns string) ([]int, error) {
	out, err := run(ctx, "", "ip", "netns", "pids", ns)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		// The lab's own process would show up if its main thread were
		// stuck in ns (see inNS); it is never a leftover.
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Cleanup deletes every named network namespace whose name starts with
// prefix and returns the names it deleted. It never touches processes: a
// namespace that still holds some lives on (unnamed) until they end, which
// the lab's processes do with the run that started them (Pdeathsig).
func Cleanup(prefix string) ([]string, error) {
	if prefix == "" {
		return nil, fmt.Errorf("lab: Cleanup needs a non-empty prefix")
	}
	names, err := namespaces(prefix)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, ns := range names {
		if err := deleteNamespace(context.Background(), ns); err != nil {
			return deleted, err
		}
		deleted = append(deleted, ns)
	}
	return deleted, nil
}

// keepMarker marks a run directory kept on purpose (KeepDir, or the logs of
// a failed test): CleanupStale does not remove it.
const keepMarker = "KEEP"

// prefixPattern matches the run prefixes newPrefix makes: "flab-<pid>-<hex>".
var prefixPattern = regexp.MustCompile(`^(flab-([0-9]+)-[0-9a-f]{4})(-|$)`)

// newPrefix names a run: the owner's PID lets CleanupStale tell a crashed
// run from a live one.
func newPrefix() string {
	var b [2]byte
	rand.Read(b[:]) // never fails
	return fmt.Sprintf("flab-%d-%02x%02x", os.Getpid(), b[0], b[1])
}

// CleanupStale removes what crashed earlier runs left behind: namespaces
// and temporary directories named after a run whose owning process no
// longer exists. Runs still alive are never touched. It returns what it
// removed.
func CleanupStale() ([]string, error) {
	killStaleRouterDaemons()
	var removed []string
	stale := func(name string) bool {
		m := prefixPattern.FindStringSubmatch(name)
		if m == nil {
			return false
		}
		_, err := os.Stat(filepath.Join("/proc", m[2]))
		return os.IsNotExist(err)
	}
	names, err := namespaces("flab-")
	if err != nil {
		return nil, err
	}
	for _, ns := range names {
		if !stale(ns) {
			continue
		}
		if err := deleteNamespace(context.Background(), ns); err != nil {
			return removed, err
		}
		removed = append(removed, ns)
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "flab-*"))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, keepMarker)); err == nil {
			continue // kept on purpose
		}
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && stale(filepath.Base(d)) {
			if err := os.RemoveAll(d); err != nil {
				return removed, fmt.Errorf("lab: %w", err)
			}
			removed = append(removed, d)
		}
	}
	return removed, nil
}

// NSDialer returns a DialContext that opens connections from inside ns.
func NSDialer(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return DialIn(ctx, ns, network, addr)
	}
}

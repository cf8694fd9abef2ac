package gobgp

// The lab: integration tests run inside a network namespace of their own,
// with one "router" namespace per peer joined by a veth pair. TestMain
// re-executes the test binary inside the node namespace (a Go process
// cannot move all its threads into a namespace), so every socket the
// backend opens lives there. Addresses come from 198.51.100.0/24 and
// 2001:db8::/64 only; nothing links to the root namespace.

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	envLabNS      = "FERROLB_BGP_LAB_NS"
	envRequireLab = "FERROLB_REQUIRE_LAB"
)

func TestMain(m *testing.M) { os.Exit(labMain(m)) }

func labMain(m *testing.M) int {
	if os.Getenv(envLabNS) != "" || os.Geteuid() != 0 {
		return m.Run()
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return m.Run()
	}
	ns := fmt.Sprintf("fbgp%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "lab: ip netns add: %v: %s\n", err, out)
		return m.Run()
	}
	defer sweepNamespaces(ns)
	_ = exec.Command("ip", "-n", ns, "link", "set", "lo", "up").Run()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, os.Args[0]}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), envLabNS+"="+ns)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	return 0
}

// sweepNamespaces removes the node namespace and any router namespace a
// crashed test left behind, ending the processes still in them by PID.
func sweepNamespaces(node string) {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || (f[0] != node && !strings.HasPrefix(f[0], node+"-")) {
			continue
		}
		killNamespacePIDs(f[0])
		_ = exec.Command("ip", "netns", "del", f[0]).Run()
	}
}

func killNamespacePIDs(ns string) {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	for _, s := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(s); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// needLab skips a test outside the lab, or fails it when the lab is
// required (FERROLB_REQUIRE_LAB=1), and checks the tools it needs.
func needLab(t *testing.T, tools ...string) string {
	t.Helper()
	ns := os.Getenv(envLabNS)
	missing := ""
	if ns == "" {
		missing = "root and ip netns"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && missing == "" {
			missing = tool
		}
	}
	if missing != "" {
		if os.Getenv(envRequireLab) == "1" {
			t.Fatalf("lab test needs %s", missing)
		}
		t.Skipf("lab test needs %s (set %s=1 to fail instead)", missing, envRequireLab)
	}
	return ns
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// link is a router namespace joined to the node by a veth pair.
type link struct {
	ns               string
	nodeIf, routerIf string
	node4, router4   netip.Addr
	node6, router6   netip.Addr
}

// newLink creates router namespace idx (1..14) and its link: node
// 198.51.100.16*idx+1/28 and 2001:db8::idx:1/112, router ...+2 and
// 2001:db8::idx:2.
func newLink(t *testing.T, idx int) *link {
	t.Helper()
	node := needLab(t)
	l := &link{
		ns:       fmt.Sprintf("%s-r%d", node, idx),
		nodeIf:   fmt.Sprintf("n%d", idx),
		routerIf: fmt.Sprintf("r%d", idx),
		node4:    netip.AddrFrom4([4]byte{198, 51, 100, byte(16*idx + 1)}),
		router4:  netip.AddrFrom4([4]byte{198, 51, 100, byte(16*idx + 2)}),
		node6:    netip.MustParseAddr(fmt.Sprintf("2001:db8::%x:1", idx)),
		router6:  netip.MustParseAddr(fmt.Sprintf("2001:db8::%x:2", idx)),
	}
	_ = exec.Command("ip", "link", "del", l.nodeIf).Run() // left by a crashed run
	run(t, "ip", "netns", "add", l.ns)
	t.Cleanup(func() {
		killNamespacePIDs(l.ns)
		_ = exec.Command("ip", "link", "del", l.nodeIf).Run()
		_ = exec.Command("ip", "netns", "del", l.ns).Run()
	})
	run(t, "ip", "-n", l.ns, "link", "set", "lo", "up")
	run(t, "ip", "link", "add", l.nodeIf, "type", "veth", "peer", "name", l.routerIf, "netns", l.ns)
	run(t, "ip", "addr", "add", l.node4.String()+"/28", "dev", l.nodeIf)
	run(t, "ip", "-6", "addr", "add", l.node6.String()+"/112", "dev", l.nodeIf, "nodad")
	run(t, "ip", "-n", l.ns, "addr", "add", l.router4.String()+"/28", "dev", l.routerIf)
	run(t, "ip", "-n", l.ns, "-6", "addr", "add", l.router6.String()+"/112", "dev", l.routerIf, "nodad")
	run(t, "ip", "link", "set", l.nodeIf, "up")
	run(t, "ip", "-n", l.ns, "link", "set", l.routerIf, "up")
	return l
}

// setNodeLink takes the node's end of the link up or down.
func (l *link) setNodeLink(t *testing.T, up bool) {
	t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	run(t, "ip", "link", "set", l.nodeIf, state)
}

// eventually polls f every 50 ms until it succeeds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// daemonDir makes a directory the FRR daemons (user frr) can write.
func daemonDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fbgp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"frr.log", "gobgpd.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
					t.Logf("%s:\n%s", name, tail(b, 60))
				}
			}
		}
		os.RemoveAll(dir)
	})
	return dir
}

func tail(b []byte, lines int) []byte {
	all := bytes.Split(b, []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return bytes.Join(all, []byte("\n"))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

package netnstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tools are the programs the namespace tests run, with the Debian package
// providing each.
var Tools = map[string]string{
	"ip":      "iproute2",
	"arping":  "iputils-arping",
	"ping":    "iputils-ping",
	"ndisc6":  "ndisc6",
	"tcpdump": "tcpdump",
	"sysctl":  "procps",
}

// AptInstall is the command that installs every tool.
const AptInstall = "apt-get install -y iproute2 iputils-arping iputils-ping ndisc6 tcpdump procps"

// Require fails the test unless it runs as root with every tool installed.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("this test needs root to create network namespaces (running as uid %d); "+
			"build with -tags nonetns to leave it out", os.Geteuid())
	}
	var missing []string
	for tool, pkg := range Tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", tool, pkg))
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("missing tools: %s; install with %s", strings.Join(missing, ", "), AptInstall)
	}
}

// Fixed link-layer and IP addresses of the two ends.
const (
	SpeakerMAC  = "02:f1:b0:00:00:01"
	ClientMAC   = "02:f1:b0:00:00:02"
	SpeakerIPv4 = "198.51.100.1"
	ClientIPv4  = "198.51.100.2"
	SpeakerIPv6 = "2001:db8::1"
	ClientIPv6  = "2001:db8::2"
)

// Pair is the two namespaces and the veth between them.
type Pair struct {
	t                   testing.TB
	Speaker, Client     string // namespace names
	SpeakerIf, ClientIf string // the two ends of the veth
}

// commandTimeout bounds every command run by this package.
const commandTimeout = 20 * time.Second

// New creates the namespaces and the link, with addresses, DAD disabled
// (so link-local addresses are usable at once) and the link up.
func New(t testing.TB) *Pair {
	t.Helper()
	Require(t)
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(b[:])
	p := &Pair{
		t:         t,
		Speaker:   "flbl2-" + id + "-spk",
		Client:    "flbl2-" + id + "-cli",
		SpeakerIf: "fs" + id,
		ClientIf:  "fc" + id,
	}
	for _, ns := range []string{p.Speaker, p.Client} {
		p.MustRun("ip", "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := p.Run("ip", "netns", "del", ns); err != nil {
				t.Errorf("cannot delete namespace %s: %v\n%s", ns, err, out)
			}
		})
		// Interfaces created from now on inherit "default".
		p.MustRun("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
			"net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
	}
	p.MustRun("ip", "link", "add", p.SpeakerIf, "netns", p.Speaker, "address", SpeakerMAC,
		"type", "veth", "peer", "name", p.ClientIf, "netns", p.Client, "address", ClientMAC)
	for _, end := range []struct{ ns, dev, v4, v6 string }{
		{p.Speaker, p.SpeakerIf, SpeakerIPv4, SpeakerIPv6},
		{p.Client, p.ClientIf, ClientIPv4, ClientIPv6},
	} {
		p.MustRun("ip", "-n", end.ns, "addr", "add", end.v4+"/24", "dev", end.dev)
		p.MustRun("ip", "-n", end.ns, "addr", "add", end.v6+"/64", "dev", end.dev, "nodad")
		p.MustRun("ip", "-n", end.ns, "link", "set", "lo", "up")
		p.MustRun("ip", "-n", end.ns, "link", "set", end.dev, "up")
	}
	return p
}

// Run runs a command under the package deadline and returns its combined
// output.
func (p *Pair) Run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// MustRun is Run that fails the test on error.
func (p *Pair) MustRun(name string, args ...string) string {
	p.t.Helper()
	out, err := p.Run(name, args...)
	if err != nil {
		p.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// InClient runs a command inside the client namespace.
func (p *Pair) InClient(name string, args ...string) (string, error) {
	return p.Run("ip", append([]string{"netns", "exec", p.Client, name}, args...)...)
}

// InSpeaker runs a command inside the speaker namespace.
func (p *Pair) InSpeaker(name string, args ...string) (string, error) {
	return p.Run("ip", append([]string{"netns", "exec", p.Speaker, name}, args...)...)
}

// Enter runs fn on an OS thread that has joined namespace ns; sockets fn
// opens belong to that namespace. The thread is discarded afterwards.
func Enter(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread dies with the goroutine instead of
		// going back to the scheduler in the wrong namespace.
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

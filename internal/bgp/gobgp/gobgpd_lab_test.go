package gobgp

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gobgpd is a GoBGP daemon acting as the router in a link's namespace.
type gobgpd struct {
	ns, dir string
}

// gobgpdNeighbor is the neighbor part of a gobgpd configuration.
type gobgpdNeighbor struct {
	address  string
	asn      uint32
	password string
	families []string // "ipv4-unicast", "ipv6-unicast"
	// gracefulRestart enables helper mode (and the capability).
	gracefulRestart bool
}

func startGoBGPd(t *testing.T, l *link, asn uint32, neighbors ...gobgpdNeighbor) *gobgpd {
	t.Helper()
	needLab(t, "gobgpd", "gobgp")
	g := &gobgpd{ns: l.ns, dir: daemonDir(t)}
	var b strings.Builder
	fmt.Fprintf(&b, "[global.config]\n  as = %d\n  router-id = %q\n\n", asn, l.router4)
	for _, n := range neighbors {
		fmt.Fprintf(&b, "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = %q\n    peer-as = %d\n", n.address, n.asn)
		if n.password != "" {
			fmt.Fprintf(&b, "    auth-password = %q\n", n.password)
		}
		fmt.Fprintf(&b, "  [neighbors.transport.config]\n    passive-mode = true\n")
		if n.gracefulRestart {
			fmt.Fprintf(&b, "  [neighbors.graceful-restart.config]\n    enabled = true\n    helper-only = true\n")
		}
		for _, f := range n.families {
			fmt.Fprintf(&b, "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = %q\n", f)
			if n.gracefulRestart {
				fmt.Fprintf(&b, "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n")
			}
		}
	}
	conf := filepath.Join(g.dir, "gobgpd.toml")
	writeFile(t, conf, b.String())
	logf, err := os.Create(filepath.Join(g.dir, "gobgpd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", l.ns, "gobgpd", "-f", conf, "-p", "-l", "debug",
		"--api-hosts", "127.0.0.1:50051", "--pprof-disable")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		logf.Close()
	})
	eventually(t, 10*time.Second, "gobgpd answers", func() error {
		_, err := g.cli("global")
		return err
	})
	return g
}

func (g *gobgpd) cli(args ...string) ([]byte, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", g.ns, "gobgp", "-u", "127.0.0.1", "-p", "50051"}, args...)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("gobgp %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// gobgpdPath is one path of `gobgp -j global rib`.
type gobgpdPath struct {
	Attrs []map[string]any `json:"attrs"`
	Stale bool             `json:"stale"`
}

// rib returns the router's RIB of a family ("ipv4" or "ipv6") by prefix.
func (g *gobgpd) rib(family string) (map[string][]gobgpdPath, error) {
	out, err := g.cli("-j", "global", "rib", "-a", family)
	if err != nil {
		return nil, err
	}
	rib := map[string][]gobgpdPath{}
	if err := json.Unmarshal(out, &rib); err != nil {
		return nil, fmt.Errorf("parsing rib: %v: %s", err, out)
	}
	return rib, nil
}

// gobgpdNeighborState is the part of `gobgp -j neighbor ADDR` tests read.
type gobgpdNeighborState struct {
	State struct {
		SessionState int `json:"session_state"`
		Messages     struct {
			Received struct {
				Update       uint64 `json:"update"`
				Notification uint64 `json:"notification"`
				Open         uint64 `json:"open"`
			} `json:"received"`
		} `json:"messages"`
	} `json:"state"`
	Timers struct {
		State struct {
			Uptime struct {
				Seconds int64 `json:"seconds"`
			} `json:"uptime"`
		} `json:"state"`
	} `json:"timers"`
}

func (g *gobgpd) neighbor(addr string) (gobgpdNeighborState, error) {
	var n gobgpdNeighborState
	out, err := g.cli("-j", "neighbor", addr)
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(out, &n); err != nil {
		return n, fmt.Errorf("parsing neighbor: %v: %s", err, out)
	}
	return n, nil
}

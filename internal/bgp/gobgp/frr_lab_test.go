package gobgp

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// frr is FRR (zebra, bfdd, bgpd) acting as the router in a link's
// namespace. zebra relays BFD registrations between bgpd and bfdd and
// installs the learned routes in the namespace's kernel.
type frr struct {
	ns, dir string
}

// frrConfig renders the daemons' configuration around a bgpd "router bgp"
// block and an optional bfdd block.
func startFRR(t *testing.T, l *link, routerBGP, bfd string) *frr {
	t.Helper()
	needLab(t, "vtysh", "/usr/lib/frr/bgpd", "/usr/lib/frr/bfdd", "/usr/lib/frr/zebra")
	f := &frr{ns: l.ns, dir: daemonDir(t)}
	head := fmt.Sprintf("hostname %s\nlog file %s debugging\nlog timestamp precision 6\n", l.ns, filepath.Join(f.dir, "frr.log"))
	writeFile(t, filepath.Join(f.dir, "zebra.conf"), head)
	writeFile(t, filepath.Join(f.dir, "bfdd.conf"), head+bfd+"\n")
	writeFile(t, filepath.Join(f.dir, "bgpd.conf"), head+routerBGP+"\n")
	u, err := user.Lookup("frr")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	filepath.Walk(f.dir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, gid) })
	zserv := filepath.Join(f.dir, "zserv.api")
	for _, d := range []string{"zebra", "bfdd", "bgpd"} {
		args := []string{"netns", "exec", l.ns, "/usr/lib/frr/" + d, "-d",
			"-f", filepath.Join(f.dir, d+".conf"), "-i", filepath.Join(f.dir, d+".pid"),
			"-z", zserv, "--vty_socket", f.dir, "-u", "frr", "-g", "frr"}
		if d == "bfdd" {
			args = append(args, "--bfdctl", filepath.Join(f.dir, "bfdd.sock"))
		}
		run(t, append([]string{"ip"}, args...)...)
		d := d
		t.Cleanup(func() {
			if pid := f.pid(d); pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGCONT)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
		eventually(t, 10*time.Second, d+" started", func() error {
			if f.pid(d) <= 0 {
				return fmt.Errorf("no pid file")
			}
			return nil
		})
	}
	eventually(t, 10*time.Second, "bgpd answers", func() error {
		_, err := f.vtysh("show bgp summary json")
		return err
	})
	return f
}

// pid returns the PID a daemon wrote, 0 when unknown.
func (f *frr) pid(daemon string) int {
	b, err := os.ReadFile(filepath.Join(f.dir, daemon+".pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func (f *frr) vtysh(cmd string) ([]byte, error) {
	out, err := exec.Command("vtysh", "--vty_socket", f.dir, "-c", cmd).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("vtysh %q: %v: %s", cmd, err, out)
	}
	return out, nil
}

func (f *frr) json(cmd string, v any) error {
	out, err := f.vtysh(cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("%q: %v: %s", cmd, err, out)
	}
	return nil
}

// frrRoute is one path of `show bgp <afi> unicast <prefix> json`.
type frrRoute struct {
	ASPath struct {
		String string `json:"string"`
	} `json:"aspath"`
	Community *struct {
		String string `json:"string"`
	} `json:"community"`
	LargeCommunity *struct {
		String string `json:"string"`
	} `json:"largeCommunity"`
	LocalPref *uint32 `json:"locPrf"`
	Nexthops  []struct {
		IP string `json:"ip"`
	} `json:"nexthops"`
	Stale bool `json:"stale"`
}

// route returns the paths FRR has for one prefix (none when absent).
func (f *frr) route(afi, prefix string) ([]frrRoute, error) {
	var r struct {
		Paths []frrRoute `json:"paths"`
	}
	if err := f.json(fmt.Sprintf("show bgp %s unicast %s json", afi, prefix), &r); err != nil {
		return nil, err
	}
	return r.Paths, nil
}

// frrNeighbor is the part of `show bgp neighbors ADDR json` tests read.
type frrNeighbor struct {
	State            string `json:"bgpState"`
	EstablishedEpoch int64  `json:"bgpTimerUpEstablishedEpoch"`
	Established      int    `json:"connectionsEstablished"`
	Dropped          int    `json:"connectionsDropped"`
	LastReset        string `json:"lastResetDueTo"`
	MessageStats     struct {
		UpdatesRecv int `json:"updatesRecv"`
	} `json:"messageStats"`
}

func (f *frr) neighbor(addr string) (frrNeighbor, error) {
	var m map[string]frrNeighbor
	if err := f.json("show bgp neighbors "+addr+" json", &m); err != nil {
		return frrNeighbor{}, err
	}
	n, ok := m[addr]
	if !ok {
		return n, fmt.Errorf("neighbor %s not listed", addr)
	}
	return n, nil
}

// frrBFDPeer is one entry of `show bfd peers json`.
type frrBFDPeer struct {
	Peer            string `json:"peer"`
	Multihop        bool   `json:"multihop"`
	Status          string `json:"status"`
	Diagnostic      string `json:"diagnostic"`
	RemoteRx        int    `json:"remote-receive-interval"`
	RemoteTx        int    `json:"remote-transmit-interval"`
	RemoteDetectMul int    `json:"remote-detect-multiplier"`
	// RemoteEchoRx is the Required Min Echo RX this side advertised, in ms.
	RemoteEchoRx int `json:"remote-echo-receive-interval"`
}

func (f *frr) bfdPeer(addr string) (frrBFDPeer, error) {
	var peers []frrBFDPeer
	if err := f.json("show bfd peers json", &peers); err != nil {
		return frrBFDPeer{}, err
	}
	for _, p := range peers {
		if p.Peer == addr {
			return p, nil
		}
	}
	return frrBFDPeer{}, fmt.Errorf("no BFD peer %s", addr)
}

// log returns FRR's log so far.
func (f *frr) log() string {
	b, _ := os.ReadFile(filepath.Join(f.dir, "frr.log"))
	return string(b)
}

// echoCounters returns FRR's echo packet counters for its BFD peer addr:
// those that came back (input) and those it sent (output).
func (f *frr) echoCounters(t *testing.T, addr string) (in, out uint64) {
	t.Helper()
	var peers []struct {
		Peer    string `json:"peer"`
		EchoIn  uint64 `json:"echo-packet-input"`
		EchoOut uint64 `json:"echo-packet-output"`
	}
	if err := f.json("show bfd peers counters json", &peers); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if p.Peer == addr {
			return p.EchoIn, p.EchoOut
		}
	}
	t.Fatalf("no BFD peer %s in FRR's counters", addr)
	return 0, 0
}

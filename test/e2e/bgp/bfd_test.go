package bgp

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/lab"
)

// bfdBound is how long, from a node's death, the router may take to drop
// its next hop with BFD at 100 ms x 3: generous (a few hundred ms are
// expected) but far below the 30 s hold time the sessions use.
const bfdBound = 5 * time.Second

// TestBFDDetectsNodeFailure: with a 100 ms x 3 BFDProfile on the BGPPeer,
// the router runs a BFD session per node with those timers; when a node
// dies (its link goes down, then its speaker is killed) the router drops
// that node's next hop within bfdBound, long before the BGP hold time,
// and keeps the others.
func TestBFDDetectsNodeFailure(t *testing.T) {
	e := newEnv(t)
	r := e.router("bfd")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast}
spec:
  receiveInterval: 100
  transmitInterval: 100
  detectMultiplier: 3
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bfd}
spec:
  addresses: [203.0.113.136/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: bfd}
spec:
  myASN: 64512
  peerASN: 64504
  peerAddress: 198.51.100.6
  holdTime: 30s
  bfdProfile: fast
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bfd}
spec:
  ipAddressPools: [bfd]
`)
	const ip = "203.0.113.137"
	svc := e.service("bfd", []string{ip})
	e.backends(svc, allNodes...)
	prefix := hostPrefix(ip)
	e.waitNextHops(r, prefix, allNodes, 60*time.Second)

	// FRR replaces each BFD session once the BGP session is up: wait
	// until all three are up and have stayed so for a second.
	waitBFDUp(e, r, "at 100 ms x 3", func(p lab.BFDPeer) bool {
		return p.RemoteRxInterval == 100*time.Millisecond && p.RemoteTxInterval == 100*time.Millisecond && p.RemoteMultiplier == 3
	})
	e.waitSessions(r, model.IPv4, allNodes, 15*time.Second)
	e.waitMetrics("node1", map[string]float64{`metallb_bfd_session_up{peer="198.51.100.6"}`: 1}, 10*time.Second)

	t.Log("node3 dies")
	start := time.Now()
	if err := e.l.LinkDown(e.ctx, "node3"); err != nil {
		t.Fatal(err)
	}
	e.killed["node3"] = true
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if err := e.l.KillSpeaker(ctx, "node3", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.waitNextHops(r, prefix, []string{"node1", "node2"}, bfdBound-time.Since(start))
	dropped := time.Since(start)
	st, err := bfdPeer(e, r, "node3")
	t.Logf("the router dropped node3's next hop %v after its link went down (BFD session: %+v %v)",
		dropped.Round(10*time.Millisecond), st, err)
	if err != nil || st.State == "up" {
		t.Errorf("the router's BFD session with node3 after its death: %+v %v", st, err)
	}
	checkRouterUp(e, r, []string{"node1", "node2"})
}

// waitBFDUp waits until r has a BFD session with every node that is up,
// has stayed up for a second and satisfies ok (what describes).
func waitBFDUp(e *env, r *lab.Router, what string, ok func(lab.BFDPeer) bool) {
	e.t.Helper()
	e.eventually(30*time.Second, strings.TrimSpace("BFD up with every node "+what), func() (bool, string) {
		ps, err := r.BFDPeers(e.ctx)
		if err != nil {
			return false, err.Error()
		}
		up := 0
		for _, p := range ps {
			if p.State == "up" && p.Uptime >= time.Second && ok(p) {
				up++
			}
		}
		return up == len(allNodes), fmt.Sprintf("%+v", ps)
	})
}

// bfdPeer returns r's BFD session with a node.
func bfdPeer(e *env, r *lab.Router, node string) (lab.BFDPeer, error) {
	ps, err := r.BFDPeers(e.ctx)
	if err != nil {
		return lab.BFDPeer{}, err
	}
	addr := e.nodeAddr(node, model.IPv4)
	for _, p := range ps {
		if p.Peer == addr {
			return p, nil
		}
	}
	return lab.BFDPeer{}, fmt.Errorf("no BFD session with %v", addr)
}

// echoBound is how long, from the router's forwarding plane no longer
// looping echo packets, the speakers may take to reset their sessions: far
// above the 150 ms of 3 echo intervals, below the 3 s the Control packets
// (1 s x 3) would need.
const echoBound = 2500 * time.Millisecond

// TestBFDEcho: a BFDProfile in echo mode (Control packets at 1 s x 3, echo
// at 50 ms) with a router that runs echo mode too. Echo packets flow: the
// speakers count theirs coming back. When the router's forwarding plane
// stops looping them (nftables drops forwarded UDP 3785) while Control
// packets still flow, every speaker's BFD session fails on echo and its
// BGP session is reset, so the router drops the nodes' next hops within
// echoBound; when the path heals, everything comes back.
func TestBFDEcho(t *testing.T) {
	e := newEnv(t)
	r := e.router("echo")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: echo}
spec:
  receiveInterval: 1000
  transmitInterval: 1000
  detectMultiplier: 3
  echoMode: true
  echoInterval: 50
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: echo}
spec:
  addresses: [203.0.113.144/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: echo}
spec:
  myASN: 64512
  peerASN: 64506
  peerAddress: 198.51.100.4
  holdTime: 30s
  bfdProfile: echo
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: echo}
spec:
  ipAddressPools: [echo]
`)
	const ip = "203.0.113.145"
	svc := e.service("echo", []string{ip})
	e.backends(svc, allNodes...)
	prefix := hostPrefix(ip)
	e.waitNextHops(r, prefix, allNodes, 60*time.Second)
	waitBFDUp(e, r, "", func(lab.BFDPeer) bool { return true })

	// Each speaker's echo packets come back, about 20 a second.
	in, out := `metallb_bfd_echo_packet_input{peer="198.51.100.4"}`, `metallb_bfd_echo_packet_output{peer="198.51.100.4"}`
	for _, node := range allNodes {
		first, err := e.scrape(node)
		if err != nil {
			t.Fatal(err)
		}
		e.eventually(10*time.Second, node+"'s echo packets sent and back", func() (bool, string) {
			now, err := e.scrape(node)
			if err != nil {
				return false, err.Error()
			}
			sent, back := now[out]-first[out], now[in]-first[in]
			return sent >= 20 && back >= 20, fmt.Sprintf("%v sent, %v back since the first scrape", sent, back)
		})
	}

	t.Log("the router stops looping echo packets")
	nft := func(args ...string) error {
		_, err := e.l.Exec(e.ctx, "echo", "nft", args...)
		return err
	}
	heal := func() { _ = nft("delete", "table", "inet", "fecho") }
	t.Cleanup(heal)
	start := time.Now()
	for _, args := range [][]string{
		{"add", "table", "inet", "fecho"},
		{"add", "chain", "inet", "fecho", "fw", "{ type filter hook forward priority 0; }"},
		{"add", "rule", "inet", "fecho", "fw", "udp", "dport", "3785", "drop"},
	} {
		if err := nft(args...); err != nil {
			t.Fatal(err)
		}
	}
	e.waitNoRoute(r, prefix, echoBound-time.Since(start))
	t.Logf("the router lost every next hop %v after its forwarding plane stopped looping echo packets", time.Since(start).Round(10*time.Millisecond))
	for _, node := range allNodes {
		got, err := e.scrape(node)
		if err != nil {
			t.Fatal(err)
		}
		if got[`metallb_bfd_session_down_events{peer="198.51.100.4"}`] < 1 {
			t.Errorf("%s's speaker counted no BFD down event", node)
		}
	}

	heal()
	e.waitNextHops(r, prefix, allNodes, 60*time.Second)
}

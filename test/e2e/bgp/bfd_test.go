package bgp

import (
	"context"
	"fmt"
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
	e.eventually(30*time.Second, "BFD up with every node at 100 ms x 3", func() (bool, string) {
		ps, err := r.BFDPeers(e.ctx)
		if err != nil {
			return false, err.Error()
		}
		up := 0
		for _, p := range ps {
			if p.State == "up" && p.Uptime >= time.Second && p.RemoteRxInterval == 100*time.Millisecond &&
				p.RemoteTxInterval == 100*time.Millisecond && p.RemoteMultiplier == 3 {
				up++
			}
		}
		return up == len(allNodes), fmt.Sprintf("%+v", ps)
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

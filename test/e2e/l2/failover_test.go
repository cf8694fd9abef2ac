package l2

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// failoverBound is how long a takeover may take, from the owner's link
// going down to HTTP flowing through another node. Generous: the
// benchmarks measure the real figure.
const failoverBound = 10 * time.Second

// TestFailoverAndRecovery: when the owner dies (its link goes down, then
// its speaker is killed) another node answers and HTTP flows again within
// failoverBound, without the client flushing anything; the
// ServiceL2Status and the metallb_speaker_announced metric move with the
// announcement. When the node comes back (link up, speaker restarted), the
// election gives it its address back and, once settled, exactly one MAC
// answers, every time.
func TestFailoverAndRecovery(t *testing.T) {
	e := newEnv(t)
	e.pool("failover", "203.0.113.56-203.0.113.59")
	e.advertise("failover", "failover", v1beta1.L2AdvertisementSpec{})
	const ip = "203.0.113.56"
	svc := e.service("failover", []string{ip})
	e.backends(svc, "node1", "node2", "node3")
	owner := e.waitServed(svc, ip, "", "")
	all := nodeNames(e.l)
	e.waitAnnouncedMetric(svc, ip, owner, all)

	// The dead node's backend would swallow a share of the requests; no
	// kubelet here would take it out of the endpoints, so the test does it
	// beforehand. The owner keeps the address (traffic policy Cluster).
	others := nodeNames(e.l, owner)
	e.backends(svc, others...)
	e.waitHTTP(ip, 80, others[0], 15*time.Second)
	e.waitHTTP(ip, 80, others[1], 15*time.Second)
	e.stillAnswered(ip, owner, 1)

	t.Logf("%s dies", owner)
	start := time.Now()
	deadline := start.Add(failoverBound)
	if err := e.l.LinkDown(e.ctx, owner); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	e.killed[owner] = true
	if err := e.l.KillSpeaker(ctx, owner, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	next := e.waitAnswerNot(ip, owner, time.Until(deadline))
	answered := time.Since(start)
	e.waitHTTP(ip, 80, "", time.Until(deadline))
	served := time.Since(start)
	t.Logf("failover to %s: ARP answered after %v, HTTP after %v", next, answered.Round(10*time.Millisecond), served.Round(10*time.Millisecond))
	nextMAC, err := e.l.NodeMAC(next)
	if err != nil {
		t.Fatal(err)
	}
	if mac, err := e.l.ClientNeighbor(e.ctx, ip); err != nil || mac != nextMAC {
		t.Errorf("the client's neighbor entry for %s is %q (%v); want %s's %s", ip, mac, err, next, nextMAC)
	}
	e.waitStatus(svc, next, 15*time.Second)
	e.waitAnnouncedMetric(svc, ip, next, others)
	e.stillAnswered(ip, next, 2)

	t.Logf("%s comes back", owner)
	start = time.Now()
	if err := e.l.LinkUp(e.ctx, owner); err != nil {
		t.Fatal(err)
	}
	if err := e.l.RestartSpeaker(e.ctx, owner); err != nil {
		t.Fatal(err)
	}
	delete(e.killed, owner)
	// Every speaker again sees the same three candidates, so the election
	// gives the address back to the node that had it at first.
	var conflicts []string
	e.eventually(30*time.Second, fmt.Sprintf("%s answering for %s again", owner, ip), func() (bool, string) {
		a, err := e.l.Resolve(e.ctx, ip)
		if err != nil {
			return false, err.Error()
		}
		if a.MACs > 1 {
			conflicts = append(conflicts, fmt.Sprintf("%v: %s", time.Since(start).Round(10*time.Millisecond), a))
		}
		return a.MACs == 1 && a.Node == owner, a.String()
	})
	t.Logf("%s answers again %v after its link came up; conflicts seen meanwhile: %v",
		owner, time.Since(start).Round(10*time.Millisecond), conflicts)
	// Settled: exactly one MAC, every time, over a few seconds.
	time.Sleep(2 * time.Second)
	e.stillAnswered(ip, owner, 4)
	e.waitStatus(svc, owner, 15*time.Second)
	e.waitHTTP(ip, 80, "", 15*time.Second)
	e.waitAnnouncedMetric(svc, ip, owner, all)
}

package controller

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// Leader election defaults of the controller (controller-runtime's): the
// Lease is named after --leader-election-id and lives in the controller's
// namespace.
const (
	leaseName = "metallb-controller"
	acquired  = "successfully acquired lease " + cluster.Namespace + "/" + leaseName
	attempts  = "attempting to acquire leader lease " + cluster.Namespace + "/" + leaseName
	assigned  = "service addresses set" // the controller's log line for a Service that got addresses
)

// handoverTimeout bounds a takeover after the leader dies: the Lease lasts
// 15 s and candidates retry every 2 s.
const handoverTimeout = 60 * time.Second

func TestLeaderElection(t *testing.T) {
	e := newEnv(t)
	prefix := netip.MustParsePrefix("192.0.2.0/26")
	e.pool(cluster.Namespace, "e2e-leader", prefix.String())
	w := watchIPs(t, e.ns)

	a := e.start("a", "--pod-name", "controller-a")
	b := e.start("b", "--pod-name", "controller-b")
	for i := range 4 {
		e.service(fmt.Sprintf("before-%d", i))
	}
	e.waitAssigned(30*time.Second, "before-0", "before-1", "before-2", "before-3")

	// Exactly one replica leads; the other is a waiting candidate that
	// has written nothing.
	holder := e.leaseHolder(cluster.Namespace, leaseName)
	if holder == "" {
		t.Fatalf("Lease %s/%s has no holder although Services were served", cluster.Namespace, leaseName)
	}
	var leader, follower *cluster.Proc
	switch la, lb := logContains(a, acquired), logContains(b, acquired); {
	case la && !lb:
		leader, follower = a, b
	case lb && !la:
		leader, follower = b, a
	default:
		t.Fatalf("want exactly one replica to have acquired the lease; a: %v, b: %v", la, lb)
	}
	if !logContains(follower, attempts) {
		t.Errorf("follower %s never tried to acquire the lease", follower.Name)
	}
	if logContains(follower, assigned) {
		t.Errorf("follower %s assigned addresses while not leading", follower.Name)
	}

	// SIGKILL: the Lease is not released, the follower waits for it to
	// expire.
	killedAt := time.Now()
	e.kill(leader)
	for i := range 3 {
		e.service(fmt.Sprintf("after-kill-%d", i))
	}
	var holder2 string
	e.eventually(handoverTimeout, "the follower to take the lease after SIGKILL", func() (bool, string) {
		holder2 = e.leaseHolder(cluster.Namespace, leaseName)
		return holder2 != "" && holder2 != holder, "holder " + holder2
	})
	leaseAfterKill := time.Since(killedAt)
	e.waitAssigned(handoverTimeout, "after-kill-0", "after-kill-1", "after-kill-2")
	servedAfterKill := time.Since(killedAt)
	if !logContains(follower, acquired) {
		t.Errorf("lease holder changed to %q but %s does not say it acquired it", holder2, follower.Name)
	}
	t.Logf("handover after SIGKILL: lease taken after %v, new Services served after %v",
		leaseAfterKill.Round(time.Millisecond), servedAfterKill.Round(time.Millisecond))

	// SIGTERM: the leader releases the Lease on its way out, a waiting
	// candidate takes it at its next retry.
	c := e.start("c", "--pod-name", "controller-c")
	e.eventually(30*time.Second, "the new replica to compete for the lease", func() (bool, string) {
		return logContains(c, attempts), "no attempt logged yet"
	})
	termAt := time.Now()
	e.stop(follower)
	stoppedAfter := time.Since(termAt)
	// Released on the way out: the exited leader no longer holds it.
	if h := e.leaseHolder(cluster.Namespace, leaseName); h == holder2 {
		t.Errorf("%s exited after SIGTERM still holding the lease (%q): it was not released", follower.Name, h)
	}
	for i := range 3 {
		e.service(fmt.Sprintf("after-term-%d", i))
	}
	var holder3 string
	e.eventually(handoverTimeout, "the new replica to take the lease after SIGTERM", func() (bool, string) {
		holder3 = e.leaseHolder(cluster.Namespace, leaseName)
		return holder3 != "" && holder3 != holder2, "holder " + holder3
	})
	leaseAfterTerm := time.Since(termAt)
	svcs := e.waitAssigned(handoverTimeout, "after-term-0", "after-term-1", "after-term-2")
	servedAfterTerm := time.Since(termAt)
	if !logContains(c, acquired) {
		t.Errorf("lease holder changed to %q but %s does not say it acquired it", holder3, c.Name)
	}
	t.Logf("handover after SIGTERM: old leader exited after %v, lease taken after %v, new Services served after %v",
		stoppedAfter.Round(time.Millisecond), leaseAfterTerm.Round(time.Millisecond), servedAfterTerm.Round(time.Millisecond))

	// Ten Services, ten distinct addresses of the pool, all through two
	// handovers.
	if len(svcs) != 10 {
		t.Errorf("%d Services in the namespace, want 10", len(svcs))
	}
	for name, s := range svcs {
		ips := cluster.IngressIPs(s)
		if len(ips) != 1 {
			t.Errorf("%s has addresses %v, want one", name, ips)
			continue
		}
		if ip, err := netip.ParseAddr(ips[0]); err != nil || !prefix.Contains(ip) {
			t.Errorf("%s has address %s, outside the pool %s", name, ips[0], prefix)
		}
	}
	if d := duplicates(svcs); len(d) > 0 {
		t.Errorf("duplicate addresses: %v", d)
	}
	problems, events := w.stop()
	for _, p := range problems {
		t.Errorf("seen while watching: %s", p)
	}
	if events < 20 {
		t.Errorf("the watch saw only %d changes of 10 Services; it cannot have followed them", events)
	}
}

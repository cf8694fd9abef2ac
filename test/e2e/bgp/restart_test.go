package bgp

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/lab"
)

// TestGracefulRestart: node1 and node2 peer with enableGracefulRestart,
// node3 without. Restarting the speakers of node1 and node3 at once
// (SIGTERM, then a new process), the router keeps node1's next hop in
// every look at its RIB throughout, while node3's is gone for a while;
// then all three next hops are back, over new sessions.
func TestGracefulRestart(t *testing.T) {
	e := newEnv(t)
	r := e.router("frr")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: gr}
spec:
  addresses: [203.0.113.140/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: gr-on}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
  enableGracefulRestart: true
  nodeSelectors:
  - matchExpressions:
    - {key: kubernetes.io/hostname, operator: In, values: [node1, node2]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: gr-off}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: node3}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: gr}
spec:
  ipAddressPools: [gr]
`)
	const ip = "203.0.113.141"
	svc := e.service("gr", []string{ip})
	e.backends(svc, allNodes...)
	prefix := hostPrefix(ip)
	e.waitNextHops(r, prefix, allNodes, 60*time.Second)
	before := e.established(r)

	w := watchNextHops(e, r, prefix)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, node := range []string{"node1", "node3"} {
		wg.Go(func() { errs[i] = e.l.RestartSpeaker(e.ctx, node) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			w.stop()
			t.Fatal(err)
		}
	}
	node1, node3 := e.nodeAddr("node1", model.IPv4), e.nodeAddr("node3", model.IPv4)
	e.eventually(60*time.Second, "node1 and node3 back over new sessions", func() (bool, string) {
		now := e.established(r)
		rt, ok, err := r.Route(e.ctx, prefix)
		back := err == nil && ok && len(rt.NextHops) == len(allNodes)
		return back && now[node1] > before[node1] && now[node3] > before[node3],
			fmt.Sprintf("sessions established %v (before %v), route %s", now, before, describeRoute(rt))
	})
	// A little longer: the router drops stale paths after the new
	// session's End-of-RIB.
	time.Sleep(2 * time.Second)
	polls, missing := w.stop()
	t.Logf("%d looks at the RIB during the restarts: node1's next hop missing in %d, node3's in %d",
		polls, missing[node1], missing[node3])
	if polls < 10 {
		t.Errorf("only %d looks at the RIB during the restarts", polls)
	}
	if missing[node1] != 0 {
		t.Errorf("with graceful restart, node1's next hop was missing in %d of %d looks at the RIB", missing[node1], polls)
	}
	if missing[node3] == 0 {
		t.Errorf("without graceful restart, node3's next hop never left the RIB (%d looks): the watch saw nothing", polls)
	}
	e.waitNextHops(r, prefix, allNodes, 5*time.Second)
	e.waitHTTPVia(r, ip, 10*time.Second)
}

// nextHopWatch looks at a router's route every 100 ms in the background
// and counts, per next hop that was there at first, the looks that did
// not find it.
type nextHopWatch struct {
	done    chan struct{}
	wg      sync.WaitGroup
	polls   atomic.Int64
	mu      sync.Mutex
	missing map[netip.Addr]int
}

func watchNextHops(e *env, r *lab.Router, prefix netip.Prefix) *nextHopWatch {
	e.t.Helper()
	first, ok, err := r.Route(e.ctx, prefix)
	if err != nil || !ok {
		e.t.Fatalf("router %s: no route to %v (%v)", r.Name, prefix, err)
	}
	w := &nextHopWatch{done: make(chan struct{}), missing: map[netip.Addr]int{}}
	w.wg.Go(func() {
		for {
			select {
			case <-w.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			rt, _, err := r.Route(e.ctx, prefix)
			if err != nil {
				continue
			}
			w.polls.Add(1)
			w.mu.Lock()
			for _, h := range first.NextHops {
				if !slices.Contains(rt.NextHops, h) {
					w.missing[h]++
				}
			}
			w.mu.Unlock()
		}
	})
	return w
}

// stop ends the watch and returns the number of looks and, per next hop,
// how many of them missed it.
func (w *nextHopWatch) stop() (int64, map[netip.Addr]int) {
	close(w.done)
	w.wg.Wait()
	return w.polls.Load(), w.missing
}

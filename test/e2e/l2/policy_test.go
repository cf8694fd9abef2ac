package l2

import (
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
)

// TestTrafficPolicy: with externalTrafficPolicy Cluster the owner does not
// depend on where the endpoints are and forwards to another node's
// backend; with Local the announcement follows the endpoint from node to
// node (the client's HTTP follows it too, without flushing anything), and
// stops when no endpoint is left.
func TestTrafficPolicy(t *testing.T) {
	e := newEnv(t)
	e.pool("policy", "203.0.113.20-203.0.113.23")
	e.advertise("policy", "policy", v1beta1.L2AdvertisementSpec{})

	t.Log("Cluster")
	const ipc = "203.0.113.20"
	svc := e.service("cluster", []string{ipc})
	e.backends(svc, "node1", "node2", "node3")
	owner := e.waitServed(svc, ipc, "", "")
	for _, other := range nodeNames(e.l, owner) {
		e.backends(svc, other)
		// kube-proxy on the owner forwards to the other node's backend.
		e.waitHTTP(ipc, 80, other, 15*time.Second)
		e.stillAnswered(ipc, owner, 1)
		e.waitStatus(svc, owner, 5*time.Second)
	}

	t.Log("Local")
	const ipl = "203.0.113.21"
	svcl := e.service("local", []string{ipl}, cluster.LocalTraffic)
	for _, node := range []string{"node1", "node2", "node3", "node1"} {
		e.backends(svcl, node)
		start := time.Now()
		e.waitServed(svcl, ipl, node, node)
		t.Logf("endpoint on %s: announced and serving after %v", node, time.Since(start).Round(10*time.Millisecond))
	}
	e.backends(svcl)
	e.waitSilent(ipl, 10*time.Second)
	e.waitNoStatus(svcl, 10*time.Second)
	// The Cluster Service was not disturbed.
	e.stillAnswered(ipc, owner, 1)
}

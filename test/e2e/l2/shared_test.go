package l2

import (
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
)

// TestSharedIP: Services sharing one address (allow-shared-ip) are
// announced from one node: exactly one MAC answers, every Service's
// ServiceL2Status names that node, and each Service's port reaches its own
// backend. With the Local traffic policy and endpoints on different nodes
// the owner is the node that can serve both Services.
func TestSharedIP(t *testing.T) {
	e := newEnv(t)
	e.pool("shared", "203.0.113.48-203.0.113.51")
	e.advertise("shared", "shared", v1beta1.L2AdvertisementSpec{})

	t.Log("Cluster traffic policy")
	const ip = "203.0.113.48"
	a := e.service("a", []string{ip}, sharing("e2e"))
	b := e.service("b", []string{ip}, sharing("e2e"), cluster.Port(8080))
	e.backends(a, "node1")
	e.backends(b, "node3")
	owner := e.waitAnswer(ip, "", 15*time.Second)
	e.waitStatus(a, owner, 15*time.Second)
	e.waitStatus(b, owner, 15*time.Second)
	e.waitHTTP(ip, 80, "node1", 15*time.Second)
	e.waitHTTP(ip, 8080, "node3", 15*time.Second)
	e.stillAnswered(ip, owner, 2)

	// Deleting one of them keeps the address announced for the other.
	e.deleteService(a)
	e.waitNoStatus(a, 10*time.Second)
	e.stillAnswered(ip, owner, 1)
	e.waitHTTP(ip, 8080, "node3", 5*time.Second)

	t.Log("Local traffic policy, endpoints on node1+node2 and node2+node3")
	const ipl = "203.0.113.49"
	c := e.service("c", []string{ipl}, sharing("e2e-local"), cluster.LocalTraffic, selector("shared"))
	d := e.service("d", []string{ipl}, sharing("e2e-local"), cluster.LocalTraffic, selector("shared"), cluster.Port(8080))
	e.backends(c, "node1", "node2")
	e.backends(d, "node2", "node3")
	e.waitAnswer(ipl, "node2", 15*time.Second)
	e.waitStatus(c, "node2", 15*time.Second)
	e.waitStatus(d, "node2", 15*time.Second)
	e.waitHTTP(ipl, 80, "node2", 15*time.Second)
	e.waitHTTP(ipl, 8080, "node2", 15*time.Second)
	e.stillAnswered(ipl, "node2", 2)
}

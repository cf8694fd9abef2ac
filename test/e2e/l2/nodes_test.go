package l2

import (
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// TestNodeConditions: the exclude-from-external-load-balancers label, the
// NetworkUnavailable=True condition and the out-of-service taint each take
// a node out of the election: the announcement moves away (to the same
// next node, the election being deterministic), HTTP follows, and it comes
// back when the label, condition or taint goes.
func TestNodeConditions(t *testing.T) {
	e := newEnv(t)
	e.pool("conditions", "203.0.113.52-203.0.113.55")
	e.advertise("conditions", "conditions", v1beta1.L2AdvertisementSpec{})
	const ip = "203.0.113.52"
	svc := e.service("conditions", []string{ip})
	e.backends(svc, "node1", "node2", "node3")
	owner := e.waitServed(svc, ip, "", "")

	t.Logf("%s labelled %s", owner, labelExcludeLB)
	e.labelNode(owner, map[string]*string{labelExcludeLB: ptr.To("")})
	next := e.waitAnswerNot(ip, owner, 15*time.Second)
	e.waitServed(svc, ip, next, "")
	e.stillAnswered(ip, next, 1)

	e.labelNode(owner, map[string]*string{labelExcludeLB: nil})
	e.waitServed(svc, ip, owner, "")

	t.Logf("%s NetworkUnavailable", owner)
	e.setNetworkUnavailable(owner, true)
	e.waitServed(svc, ip, next, "")
	e.stillAnswered(ip, next, 1)

	e.setNetworkUnavailable(owner, false)
	e.waitServed(svc, ip, owner, "")

	t.Logf("%s tainted %s", owner, taintOutOfService)
	e.setOutOfService(owner, true)
	e.waitServed(svc, ip, next, "")
	e.stillAnswered(ip, next, 1)

	e.setOutOfService(owner, false)
	e.waitServed(svc, ip, owner, "")
}

package l2

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
)

// TestIPFamilies: an IPv6 address is answered with NDP (exactly one
// neighbor advertisement, from the owner) and serves HTTP; each address of
// a dual-stack Service is answered by exactly one node, the Service's
// ServiceL2Status objects name exactly those nodes, and HTTP works on
// both families.
func TestIPFamilies(t *testing.T) {
	e := newEnv(t)
	e.pool("families", "203.0.113.24-203.0.113.27", "2001:db8:100::20-2001:db8:100::2f")
	e.advertise("families", "families", v1beta1.L2AdvertisementSpec{})

	t.Log("IPv6 single stack")
	const v6 = "2001:db8:100::21"
	svc6 := e.service("v6", []string{v6}, cluster.IPv6Only)
	e.backends(svc6, "node1", "node2", "node3")
	e.waitServed(svc6, v6, "", "")

	t.Log("dual stack, backends on node2 only")
	const dual4, dual6 = "203.0.113.25", "2001:db8:100::25"
	svc := e.service("dual", []string{dual4, dual6}, cluster.DualStack)
	e.backends(svc, "node2")
	owner4 := e.waitAnswer(dual4, "", 15*time.Second)
	owner6 := e.waitAnswer(dual6, "", 15*time.Second)
	t.Logf("owners: %s for %s, %s for %s", owner4, dual4, owner6, dual6)
	e.waitHTTP(dual4, 80, "node2", 15*time.Second)
	e.waitHTTP(dual6, 80, "node2", 15*time.Second)
	want := slices.Compact(slices.Sorted(slices.Values([]string{owner4, owner6})))
	e.eventually(15*time.Second, fmt.Sprintf("ServiceL2Status objects naming the owners %v", want), func() (bool, string) {
		list, err := e.statuses(svc)
		if err != nil {
			return false, err.Error()
		}
		var got []string
		for _, s := range list {
			got = append(got, s.Status.Node)
		}
		slices.Sort(got)
		return slices.Equal(got, want), describeStatuses(list)
	})
	e.stillAnswered(dual4, owner4, 1)
	e.stillAnswered(dual6, owner6, 1)

	e.deleteService(svc6)
	e.waitSilent(v6, 10*time.Second)
	e.stillAnswered(dual6, owner6, 1)
}

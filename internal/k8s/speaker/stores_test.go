package speaker

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ferrolb/ferrolb/internal/core/plan"
)

// A pass reading the informers' stores sees exactly what one listing
// through the client sees.
func TestStoresMatchClientLists(t *testing.T) {
	e := newEnv(t)
	e.pool("p")
	e.ad("l2", "p", nil)
	live := []string{e.nodeA, e.nodeB}
	e.service("web", ips(e.ipOwnedBy(e.nodeA, live...)))
	e.endpoints("web", endpoint{e.nodeA, true}, endpoint{e.nodeB, false})
	e.service("api", ips(e.ipOwnedBy(e.nodeB, live...)))

	stores, err := NewStores(e.ctx, e.cache)
	if err != nil {
		t.Fatal(err)
	}
	direct := &Reconciler{Client: e.c, Namespace: ns, Node: e.nodeA, Log: e.log}
	viaStores := &Reconciler{Client: e.c, Stores: stores, Namespace: ns, Node: e.nodeA, Log: e.log}
	mine := func(in plan.Input) []plan.Service {
		var out []plan.Service
		for _, s := range in.Services {
			if strings.HasPrefix(s.Key, e.svcNS+"/") {
				out = append(out, s)
			}
		}
		slices.SortFunc(out, func(a, b plan.Service) int { return strings.Compare(a.Key, b.Key) })
		return out
	}
	e.within(waitFor, "the stores to show what the API server has", func() (bool, string) {
		want, _, err := direct.snapshot(e.ctx)
		if err != nil {
			return false, err.Error()
		}
		got, byKey, err := viaStores.snapshot(e.ctx)
		if err != nil {
			return false, err.Error()
		}
		w, g := mine(want), mine(got)
		if len(w) != 2 || len(w[1].Endpoints) != 2 {
			return false, fmt.Sprintf("the direct listing has %+v", w)
		}
		if byKey[e.svcNS+"/web"] == nil {
			return false, "no Service object for web"
		}
		d := cmp.Diff(w, g, cmpopts.EquateComparable(netip.Addr{}), cmpopts.EquateEmpty())
		return d == "", "(-client +stores)\n" + d
	})
}

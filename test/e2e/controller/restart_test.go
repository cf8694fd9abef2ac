package controller

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// TestRestartNeverDuplicates changes Services while the controller is down:
// the restarted controller must re-learn every held address before it hands
// out a single one.
func TestRestartNeverDuplicates(t *testing.T) {
	e := newEnv(t)
	first, last := netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("198.51.100.29") // 20 addresses
	e.pool(cluster.Namespace, "e2e-restart", first.String()+"-"+last.String())
	le := []string{"--leader-election-id", "e2e-restart"}

	p := e.start("first", le...)
	var originals []string
	for i := range 15 {
		originals = append(originals, fmt.Sprintf("orig-%02d", i))
		e.service(originals[i])
	}
	svcs := e.waitAssigned(30*time.Second, originals...)
	before := map[string][]string{}
	for _, n := range originals {
		before[n] = cluster.IngressIPs(svcs[n])
	}
	e.stop(p)

	// While the controller is down: 3 Services go, 10 arrive.
	deleted, survivors := originals[:3], originals[3:]
	for _, n := range deleted {
		e.deleteService(n)
		delete(before, n)
	}
	w := watchIPs(t, e.ns)
	for _, n := range survivors {
		w.pin(n, before[n])
	}
	var newcomers []string
	for i := range 10 {
		newcomers = append(newcomers, fmt.Sprintf("new-%02d", i))
		e.service(newcomers[i])
	}

	e.start("second", le...)
	// 20 addresses, 12 survivors: 8 newcomers get one, 2 cannot.
	e.eventually(30*time.Second, "8 newcomers served and 2 reported PoolExhausted", func() (bool, string) {
		svcs = e.services()
		served, exhausted := 0, 0
		for _, n := range newcomers {
			switch {
			case len(cluster.IngressIPs(svcs[n])) > 0:
				served++
			case reason(svcs[n]) == "PoolExhausted":
				exhausted++
			}
		}
		return served == 8 && exhausted == 2, fmt.Sprintf("%d served, %d exhausted", served, exhausted)
	})

	after := map[string][]string{}
	for _, n := range survivors {
		after[n] = cluster.IngressIPs(svcs[n])
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("survivors' addresses changed across the restart (-before +after):\n%s", diff)
	}
	for _, n := range deleted {
		if _, ok := svcs[n]; ok {
			t.Errorf("deleted Service %s is back", n)
		}
	}
	for _, n := range newcomers {
		s := svcs[n]
		if ips := cluster.IngressIPs(s); len(ips) > 0 {
			if len(ips) != 1 {
				t.Errorf("%s has addresses %v, want one", n, ips)
			}
			continue
		}
		if c := condition(s); c == nil || c.Status != "False" || c.Message == "" {
			t.Errorf("pending %s: condition %+v, want False with an explanation", n, c)
		}
	}
	// Every address of the pool is used exactly once: the three freed by
	// the deletions went to newcomers.
	var used []string
	for _, s := range svcs {
		for _, ip := range cluster.IngressIPs(s) {
			a, err := netip.ParseAddr(ip)
			if err != nil || a.Less(first) || last.Less(a) {
				t.Errorf("%s holds %s, outside the pool %s-%s", s.Name, ip, first, last)
			}
			used = append(used, ip)
		}
	}
	if d := duplicates(svcs); len(d) > 0 {
		t.Errorf("duplicate addresses: %v", d)
	}
	slices.Sort(used)
	if got := len(slices.Compact(used)); got != 20 {
		t.Errorf("%d distinct addresses in use, want all 20 of the pool", got)
	}
	problems, events := w.stop()
	for _, p := range problems {
		t.Errorf("seen while watching: %s", p)
	}
	if events < 22 {
		t.Errorf("the watch saw only %d changes of 22 Services; it cannot have followed them", events)
	}
}

package speaker

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// gatedCreates counts the creations of status objects and holds the
// first one until gate is closed.
type gatedCreates struct {
	client.Client
	creates atomic.Int32
	first   chan struct{} // closed when the first create started
	gate    chan struct{}
}

func (g *gatedCreates) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if g.creates.Add(1) == 1 {
		close(g.first)
		select {
		case <-g.gate:
		case <-time.After(waitFor):
		}
	}
	return g.Client.Create(ctx, obj, opts...)
}

// statusBurst starts a writer of node's ServiceL2Status objects with one
// worker, through a gatedCreates client, and the specs of n Services.
func statusBurst(e *env, node string, n int, maxDelay time.Duration) (*StatusWriter, *gatedCreates, map[string]StatusSpec) {
	g := &gatedCreates{Client: e.c, first: make(chan struct{}), gate: make(chan struct{})}
	w := NewStatusWriter(g, ns, node, e.log)
	w.Workers, w.Quiet, w.MaxDelay = 1, 100*time.Millisecond, maxDelay
	e.stopAll = append(e.stopAll, e.run("status writer", w.Start))
	want := map[string]StatusSpec{}
	for i := range n {
		key := fmt.Sprintf("%s/s%d", e.svcNS, i)
		want[key] = StatusSpec{Service: key, Interfaces: []string{"eth0"}}
	}
	return w, g, want
}

// nodeStatuses counts node's ServiceL2Status objects of e's Services, by
// Service name.
func (e *env) nodeStatuses(node string) map[string]int {
	e.t.Helper()
	var list v1beta1.ServiceL2StatusList
	if err := e.c.List(e.ctx, &list, client.InNamespace(ns),
		client.MatchingLabels{LabelNode: node, LabelServiceNamespace: e.svcNS}); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, o := range list.Items {
		out[o.Labels[LabelServiceName]]++
	}
	return out
}

// exactlyOneEach reports whether counts has one object for each of n
// Services s0..s(n-1) and nothing else.
func exactlyOneEach(counts map[string]int, n int) bool {
	if len(counts) != n {
		return false
	}
	for i := range n {
		if counts[fmt.Sprintf("s%d", i)] != 1 {
			return false
		}
	}
	return true
}

// Status objects give way to announcements: once Set brings a change (the
// burst has resumed), the writer starts no more calls, and the objects it
// left out are written in the next quiet spell, none lost or duplicated.
func TestStatusWriterYieldsToResumedBurst(t *testing.T) {
	e := newEnv(t)
	const n = 20
	w, g, want := statusBurst(e, e.nodeA, n, time.Minute)
	w.Set(want)
	select {
	case <-g.first:
	case <-time.After(waitFor):
		t.Fatal("the writer did not start writing")
	}
	// The burst resumes while the first create is in flight: a change
	// every 20 ms for 600 ms.
	w.Set(want)
	close(g.gate)
	for range 30 {
		time.Sleep(20 * time.Millisecond)
		w.Set(want)
	}
	if got := g.creates.Load(); got > 2 {
		t.Errorf("%d objects created while changes kept coming, want the one in flight (at most one more)", got)
	}
	e.within(waitFor, "one status object per Service after the burst", func() (bool, string) {
		got := e.nodeStatuses(e.nodeA)
		return exactlyOneEach(got, n), fmt.Sprint(got)
	})
}

// A burst longer than MaxDelay still gets its objects written during the
// burst: the writer does not yield once it waited that long. (A writer
// that yielded anyway would manage about one call per sync here.)
func TestStatusWriterWritesAfterMaxDelayDespiteChanges(t *testing.T) {
	e := newEnv(t)
	const n = 40
	w, g, want := statusBurst(e, e.nodeB, n, 300*time.Millisecond)
	close(g.gate)
	w.Set(want)
	stop := make(chan struct{})
	churned := make(chan struct{})
	go func() { // a change every 2 ms
		defer close(churned)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				w.Set(want)
			}
		}
	}()
	defer func() { close(stop); <-churned }()
	deadline := time.Now().Add(4 * time.Second)
	for !exactlyOneEach(e.nodeStatuses(e.nodeB), n) {
		if time.Now().After(deadline) {
			t.Fatalf("objects after 4 s of changes: %d Services, want one object for each of %d", len(e.nodeStatuses(e.nodeB)), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

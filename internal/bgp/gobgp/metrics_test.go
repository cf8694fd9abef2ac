package gobgp

import (
	"context"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/bgp/bfd"
)

// The BFD packet counters follow the BFD session the manager reports:
// growth is added, and a new session (new discriminator) counts from zero
// even when its counters read higher than the old one's.
func TestRefreshBFDCountsPackets(t *testing.T) {
	rec := newRecorder()
	s := &session{peer: bgp.Peer{Name: "r", Address: addr("198.51.100.2"), BFD: &bgp.BFDProfile{}}}
	const label = "198.51.100.2"
	for i, step := range []struct {
		st              bfd.Status
		wantIn, wantOut uint64 // totals after the step
	}{
		{bfd.Status{LastError: "cannot bind"}, 0, 0}, // not started: the series exist at 0
		{bfd.Status{LocalDiscr: 7, Received: 2, Sent: 5}, 2, 5},
		{bfd.Status{LocalDiscr: 7, Received: 2, Sent: 5}, 2, 5},
		{bfd.Status{LocalDiscr: 7, Received: 10, Sent: 12}, 10, 12},
		{bfd.Status{LocalDiscr: 9, Received: 1, Sent: 1}, 11, 13},   // replaced session
		{bfd.Status{LocalDiscr: 4, Received: 30, Sent: 40}, 41, 53}, // replaced again, higher
		{bfd.Status{LocalDiscr: 4, Received: 31, Sent: 42}, 42, 55},
	} {
		s.refreshBFD(step.st, rec)
		in, out, _ := rec.bfdCounters(label)
		if in != step.wantIn || out != step.wantOut {
			t.Errorf("step %d (%+v): in %d out %d, want %d and %d", i, step.st, in, out, step.wantIn, step.wantOut)
		}
	}
}

// Every BFD state change of a session reaches the BGP session and is
// counted (metallb_bfd_zebra_notifications); events for another peer or
// for no session are not.
func TestBFDStateChangesAreCountedAsNotifications(t *testing.T) {
	rec := newRecorder()
	b := New(Options{Recorder: rec})
	peer := addr("198.51.100.2")
	rs := &runState{sessions: map[string]*session{
		"r": {peer: bgp.Peer{Name: "r", Address: peer, BFD: &bgp.BFDProfile{}}},
	}}
	now := time.Now()
	for _, e := range []bfd.Event{
		{Key: "r", Peer: peer, Previous: bfd.StateDown, State: bfd.StateInit, At: now},
		{Key: "r", Peer: peer, Previous: bfd.StateInit, State: bfd.StateUp, At: now},
		// The peer ends the session on purpose: no BGP reset, but a state
		// change all the same.
		{Key: "r", Peer: peer, Previous: bfd.StateUp, State: bfd.StateDown, Remote: bfd.StateAdminDown, At: now},
		{Key: "other", Peer: addr("198.51.100.3"), Previous: bfd.StateDown, State: bfd.StateUp, At: now},
		{Key: "r", Peer: addr("198.51.100.4"), Previous: bfd.StateDown, State: bfd.StateUp, At: now},
	} {
		b.handleBFD(context.Background(), rs, e)
	}
	if _, _, n := rec.bfdCounters(peer.String()); n != 3 {
		t.Errorf("%d notifications for %s, want 3", n, peer)
	}
	for _, other := range []string{"198.51.100.3", "198.51.100.4"} {
		if _, _, n := rec.bfdCounters(other); n != 0 {
			t.Errorf("%d notifications for %s, which has no session", n, other)
		}
	}
	if len(rec.bfd) != 2 || !rec.bfd[0].up || rec.bfd[1].up {
		t.Errorf("session up/down calls %+v, want up then down", rec.bfd)
	}
}

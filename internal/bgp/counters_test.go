package bgp

import (
	"slices"
	"testing"
)

func TestMonotonic(t *testing.T) {
	var m Monotonic
	for i, step := range []struct {
		cur, want []uint64
	}{
		{cur: []uint64{3, 10}, want: []uint64{3, 10}},     // first reading: all of it
		{cur: []uint64{3, 10}, want: []uint64{0, 0}},      // nothing new
		{cur: []uint64{5, 17}, want: []uint64{2, 7}},      // growth
		{cur: []uint64{1, 20}, want: []uint64{1, 20}},     // one counter went back: the group restarted
		{cur: []uint64{0, 0}, want: []uint64{0, 0}},       // restarted again, nothing since
		{cur: []uint64{4, 2}, want: []uint64{4, 2}},       // counts from zero
		{cur: []uint64{4, 2, 9}, want: []uint64{4, 2, 9}}, // a different group: a fresh start
	} {
		if got := m.Observe(step.cur...); !slices.Equal(got, step.want) {
			t.Errorf("step %d: Observe(%v) = %v, want %v", i, step.cur, got, step.want)
		}
	}
	m.Restart()
	if got := m.Observe(4, 2, 9); !slices.Equal(got, []uint64{4, 2, 9}) {
		t.Errorf("after Restart: %v, want the readings", got)
	}
	if got := m.Observe(4, 2, 10); !slices.Equal(got, []uint64{0, 0, 1}) {
		t.Errorf("after Restart, growth: %v", got)
	}
}

// The totals of a MessageTracker never decrease, whatever the readings do,
// and equal the sum of the increments it returned.
func TestMessageTrackerIsMonotonic(t *testing.T) {
	mc := func(open, upd, notif, ka, rr, total uint64) MessageCounts {
		return MessageCounts{Open: open, Update: upd, Notification: notif, Keepalive: ka, RouteRefresh: rr, Total: total}
	}
	readings := []struct{ sent, recv MessageCounts }{
		{mc(1, 0, 0, 1, 0, 2), mc(1, 0, 0, 1, 0, 2)},
		{mc(1, 3, 0, 5, 0, 9), mc(1, 1, 0, 5, 0, 7)},
		// The implementation cleared its statistics (neighbor reset) and
		// the new session already sent more messages in total than the
		// old one: the Open count going back gives the restart away.
		{mc(0, 0, 0, 0, 0, 0), mc(0, 0, 0, 0, 0, 0)},
		{mc(1, 4, 1, 20, 1, 27), mc(1, 0, 1, 20, 0, 22)},
		// Only a received counter goes back: both directions restarted.
		{mc(2, 4, 1, 21, 1, 29), mc(1, 0, 0, 0, 0, 1)},
	}
	want := []struct{ dSent, dRecv MessageCounts }{
		{mc(1, 0, 0, 1, 0, 2), mc(1, 0, 0, 1, 0, 2)},
		{mc(0, 3, 0, 4, 0, 7), mc(0, 1, 0, 4, 0, 5)},
		{mc(0, 0, 0, 0, 0, 0), mc(0, 0, 0, 0, 0, 0)},
		{mc(1, 4, 1, 20, 1, 27), mc(1, 0, 1, 20, 0, 22)},
		{mc(2, 4, 1, 21, 1, 29), mc(1, 0, 0, 0, 0, 1)},
	}
	var tr MessageTracker
	var sumSent, sumRecv MessageCounts
	prevSent, prevRecv := tr.Sent, tr.Received
	for i, r := range readings {
		ds, dr := tr.Observe(r.sent, r.recv)
		if ds != want[i].dSent || dr != want[i].dRecv {
			t.Errorf("reading %d: increments %+v / %+v, want %+v / %+v", i, ds, dr, want[i].dSent, want[i].dRecv)
		}
		sumSent, sumRecv = sumSent.Add(ds), sumRecv.Add(dr)
		for j, v := range append(tr.Sent.values(), tr.Received.values()...) {
			if prev := append(prevSent.values(), prevRecv.values()...)[j]; v < prev {
				t.Errorf("reading %d: total %d went from %d down to %d", i, j, prev, v)
			}
		}
		prevSent, prevRecv = tr.Sent, tr.Received
	}
	if tr.Sent != sumSent || tr.Received != sumRecv {
		t.Errorf("totals %+v / %+v, want the sums of the increments %+v / %+v", tr.Sent, tr.Received, sumSent, sumRecv)
	}
	if tr.Sent != mc(4, 11, 2, 46, 2, 65) {
		t.Errorf("sent total %+v", tr.Sent)
	}
}

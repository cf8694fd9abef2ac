package bgp

// MessageCounts counts BGP messages by type (RFC 4271 section 4; RFC 2918
// for ROUTE-REFRESH).
type MessageCounts struct {
	Open, Update, Notification, Keepalive, RouteRefresh uint64
	// Total counts every message: these types and any other.
	Total uint64
}

// Add returns the field-wise sum of c and d.
func (c MessageCounts) Add(d MessageCounts) MessageCounts {
	return MessageCounts{
		Open:         c.Open + d.Open,
		Update:       c.Update + d.Update,
		Notification: c.Notification + d.Notification,
		Keepalive:    c.Keepalive + d.Keepalive,
		RouteRefresh: c.RouteRefresh + d.RouteRefresh,
		Total:        c.Total + d.Total,
	}
}

func (c MessageCounts) values() []uint64 {
	return []uint64{c.Open, c.Update, c.Notification, c.Keepalive, c.RouteRefresh, c.Total}
}

func messageCounts(v []uint64) MessageCounts {
	return MessageCounts{Open: v[0], Update: v[1], Notification: v[2], Keepalive: v[3], RouteRefresh: v[4], Total: v[5]}
}

// Monotonic turns successive readings of a group of counters kept
// elsewhere, which may start again from zero (a BGP implementation that
// clears its statistics when a neighbor is reset or re-created, a BFD
// session replaced by a new one), into increments that never go negative.
// The counters of a group restart together: when any of them reads lower
// than before, the whole group has restarted and each reading is itself
// the increment. The zero value is ready to use.
type Monotonic struct {
	last []uint64
}

// Observe takes the current readings (always the same number, in the same
// order) and returns how much each counter grew since the previous call;
// the first call returns the readings.
func (m *Monotonic) Observe(cur ...uint64) []uint64 {
	restarted := len(m.last) != len(cur)
	for i := 0; !restarted && i < len(cur); i++ {
		restarted = cur[i] < m.last[i]
	}
	d := make([]uint64, len(cur))
	for i, v := range cur {
		if restarted {
			d[i] = v
		} else {
			d[i] = v - m.last[i]
		}
	}
	m.last = append(m.last[:0], cur...)
	return d
}

// Restart forgets the previous readings: the source of the counters was
// replaced, and the next readings count from zero.
func (m *Monotonic) Restart() { m.last = nil }

// MessageTracker accumulates a session's BGP message counters as read from
// its implementation (see Monotonic; sent and received restart together).
// The zero value is ready to use.
type MessageTracker struct {
	m Monotonic
	// Sent and Received are the totals since the tracker was created.
	Sent, Received MessageCounts
}

// Observe takes the current readings and returns the messages sent and
// received since the previous call.
func (t *MessageTracker) Observe(sent, received MessageCounts) (dSent, dReceived MessageCounts) {
	d := t.m.Observe(append(sent.values(), received.values()...)...)
	dSent, dReceived = messageCounts(d[:6]), messageCounts(d[6:])
	t.Sent, t.Received = t.Sent.Add(dSent), t.Received.Add(dReceived)
	return dSent, dReceived
}

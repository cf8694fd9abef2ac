package membership

import (
	"slices"
	"time"
)

// Clock tells the time. The tracker reads it on every call, so tests drive
// time by hand.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Status is the tracker's verdict at one instant.
type Status struct {
	// Live is the sorted set of live speakers, this one included.
	Live []string
	// Known counts the known speakers, this one included: current
	// memberlist members plus peers memberlist declared failed less than
	// ForgetAfter ago. Peers that said goodbye are forgotten at once.
	Known int
	// Reachable counts the speakers in two-way contact, this one
	// included: live peers whose latest heartbeat says they hear us.
	Reachable int
	// Isolated is true when Reachable is not a strict majority of Known
	// (2*Reachable <= Known) and Known is at least 3. With one or two
	// known speakers no majority can survive a failure, so the guard is
	// off and each side of a split announces.
	Isolated bool
}

// Tracker is the pure liveness bookkeeping: memberlist events and
// heartbeats in, live set and quorum out. It does no I/O and is not safe
// for concurrent use; its owner serialises calls.
//
// A peer is live iff memberlist lists it (alive or suspect) and, when it
// advertises heartbeats, one arrived less than deadAfter ago. Joining
// counts as a heartbeat, so a new member is live at once and dies after
// deadAfter unless heartbeats follow.
type Tracker struct {
	self        string
	warmup      time.Duration
	deadAfter   time.Duration
	forgetAfter time.Duration
	clock       Clock
	peers       map[string]*peerState
}

type peerState struct {
	member     bool      // memberlist lists it (alive or suspect)
	heartbeats bool      // it advertises heartbeats (FerroLB); else memberlist alone decides
	lastHeard  time.Time // last heartbeat, or the moment it joined
	hearsUs    bool      // its latest heartbeat says it hears us
	failedAt   time.Time // when memberlist declared it failed; zero while a member
	leaving    bool      // it said goodbye: neither live nor known
	liveSince  time.Time // when it last became live
}

// SetWarmup makes a peer that becomes live (joins, or is heard again after
// being dead) appear in Status.Live only once it has been live for d. A
// returning speaker holds back for the same time before it announces, so
// the current owner keeps an IP until the newcomer takes it, instead of
// leaving it unanswered in between. Quorum counts warming peers at once.
func (t *Tracker) SetWarmup(d time.Duration) { t.warmup = d }

// NewTracker returns a tracker for the speaker named self.
func NewTracker(self string, deadAfter, forgetAfter time.Duration, clock Clock) *Tracker {
	return &Tracker{
		self:        self,
		deadAfter:   deadAfter,
		forgetAfter: forgetAfter,
		clock:       clock,
		peers:       map[string]*peerState{},
	}
}

// Joined records that memberlist lists name (a join or a metadata
// update); heartbeats tells whether it advertises heartbeats.
func (t *Tracker) Joined(name string, heartbeats bool) {
	if name == t.self {
		return
	}
	p := t.peers[name]
	if p == nil {
		p = &peerState{}
		t.peers[name] = p
	}
	if !p.member || p.leaving {
		p.member = true
		p.lastHeard = t.clock.Now()
		p.liveSince = p.lastHeard
		p.hearsUs = true
		p.failedAt = time.Time{}
		p.leaving = false
	}
	p.heartbeats = heartbeats
}

// Left records that memberlist no longer lists name. A peer that said
// goodbye first left gracefully and is forgotten at once; otherwise it
// failed and still counts as known for forgetAfter. (memberlist's leave
// event does not tell the two apart, hence the goodbye.)
func (t *Tracker) Left(name string) {
	p := t.peers[name]
	if p == nil {
		return
	}
	if p.leaving {
		delete(t.peers, name)
		return
	}
	if p.member {
		p.member = false
		p.failedAt = t.clock.Now()
	}
}

// Goodbye records that name announced it is leaving: it is neither live
// nor known from now on. Memberlist's leave event follows.
func (t *Tracker) Goodbye(name string) {
	if p := t.peers[name]; p != nil {
		p.leaving = true
	}
}

// Heard records a heartbeat from name; hearsUs is the flag it carried.
// Heartbeats from names memberlist never listed are ignored. It reports
// whether the peer's liveness or two-way contact changed.
func (t *Tracker) Heard(name string, hearsUs bool) bool {
	p := t.peers[name]
	if p == nil {
		return false
	}
	now := t.clock.Now()
	wasLive, wasTwoWay := t.live(p, now), t.twoWay(p, now)
	if !wasLive {
		p.liveSince = now
	}
	p.lastHeard = now
	p.hearsUs = hearsUs
	p.leaving = false // a heartbeat after the goodbye: it stayed after all
	return wasLive != t.live(p, now) || wasTwoWay != t.twoWay(p, now)
}

// Hears reports whether name is live now: the flag sent back to it.
func (t *Tracker) Hears(name string) bool {
	p := t.peers[name]
	return p != nil && t.live(p, t.clock.Now())
}

// Status computes the verdict now and forgets failed peers older than
// forgetAfter.
func (t *Tracker) Status() Status {
	now := t.clock.Now()
	st := Status{Live: []string{t.self}, Known: 1, Reachable: 1}
	// When no peer at all was heard within deadAfter, the likelier cause is
	// this process being stalled (its queued heartbeats not read yet) or
	// cut off, not every other node dying at once: allow one more
	// deadAfter before declaring them dead. A single dead peer among live
	// ones is still declared dead after deadAfter.
	deadline := t.deadline(now)
	for name, p := range t.peers {
		if !p.member && now.Sub(p.failedAt) >= t.forgetAfter {
			delete(t.peers, name)
			continue
		}
		if p.leaving {
			continue
		}
		st.Known++
		if t.liveWithin(p, now, deadline) {
			if now.Sub(p.liveSince) >= t.warmup {
				st.Live = append(st.Live, name)
			}
			if !p.heartbeats || p.hearsUs {
				st.Reachable++
			}
		}
	}
	slices.Sort(st.Live)
	st.Isolated = st.Known >= 3 && 2*st.Reachable <= st.Known
	return st
}

func (t *Tracker) live(p *peerState, now time.Time) bool {
	return t.liveWithin(p, now, t.deadline(now))
}

// deadline is how long a peer may stay silent: deadAfter, or twice that
// while no peer at all is heard (see Status).
func (t *Tracker) deadline(now time.Time) time.Duration {
	if t.allSilent(now) {
		return 2 * t.deadAfter
	}
	return t.deadAfter
}

func (t *Tracker) liveWithin(p *peerState, now time.Time, deadline time.Duration) bool {
	if !p.member || p.leaving {
		return false
	}
	return !p.heartbeats || now.Sub(p.lastHeard) < deadline
}

// allSilent reports whether at least two peers send heartbeats and none
// of them was heard within deadAfter. (With a single peer, its silence and
// our stall look the same; it is declared dead on time.)
func (t *Tracker) allSilent(now time.Time) bool {
	n := 0
	for _, p := range t.peers {
		if !p.member || p.leaving || !p.heartbeats {
			continue
		}
		if now.Sub(p.lastHeard) < t.deadAfter {
			return false
		}
		n++
	}
	return n >= 2
}

func (t *Tracker) twoWay(p *peerState, now time.Time) bool {
	return t.live(p, now) && (!p.heartbeats || p.hearsUs)
}

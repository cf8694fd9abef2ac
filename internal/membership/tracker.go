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
}

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
	for name, p := range t.peers {
		if !p.member && now.Sub(p.failedAt) >= t.forgetAfter {
			delete(t.peers, name)
			continue
		}
		if p.leaving {
			continue
		}
		st.Known++
		if t.live(p, now) {
			st.Live = append(st.Live, name)
		}
		if t.twoWay(p, now) {
			st.Reachable++
		}
	}
	slices.Sort(st.Live)
	st.Isolated = st.Known >= 3 && 2*st.Reachable <= st.Known
	return st
}

func (t *Tracker) live(p *peerState, now time.Time) bool {
	if !p.member || p.leaving {
		return false
	}
	return !p.heartbeats || now.Sub(p.lastHeard) < t.deadAfter
}

func (t *Tracker) twoWay(p *peerState, now time.Time) bool {
	return t.live(p, now) && (!p.heartbeats || p.hearsUs)
}

package bfd

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// midJitter makes the transmit jitter deterministic (interval × 0.875).
func midJitter() float64 { return 0.5 }

var fast = Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3}

// pair runs two sessions over a lossless wire with a simulated clock.
type pair struct {
	t    *testing.T
	now  time.Time
	a, b *Session
	cut  bool // packets are dropped both ways
	// echoCut drops echo packets only (the forwarding path is broken, the
	// control path is not); echoes counts those each session sent.
	echoCut bool
	echoes  map[*Session][]time.Time
	upAt    map[*Session]time.Time // first time each session went Up
	sent    map[*Session][]sentPacket
	state   map[*Session][]State // state changes, in order
	lastRx  map[*Session]time.Time
}

type sentPacket struct {
	at time.Time
	p  ControlPacket
}

func newPair(t *testing.T, ca, cb Config) *pair {
	p := &pair{t: t, now: t0, sent: map[*Session][]sentPacket{}, state: map[*Session][]State{}, lastRx: map[*Session]time.Time{}, echoes: map[*Session][]time.Time{}, upAt: map[*Session]time.Time{}}
	p.a = NewSession(ca, 0xa, t0, midJitter)
	p.b = NewSession(cb, 0xb, t0, midJitter)
	return p
}

func (p *pair) other(s *Session) *Session {
	if s == p.a {
		return p.b
	}
	return p.a
}

func (p *pair) handle(s *Session, out Output) {
	if out.Changed {
		p.state[s] = append(p.state[s], out.State)
		if _, ok := p.upAt[s]; !ok && out.State == StateUp {
			p.upAt[s] = p.now
		}
	}
	if out.Echo {
		// The remote's forwarding plane sends it straight back.
		p.echoes[s] = append(p.echoes[s], p.now)
		if !p.echoCut && !p.cut {
			s.ReceiveEcho(p.now)
		}
	}
	for _, pkt := range out.Send {
		p.sent[s] = append(p.sent[s], sentPacket{p.now, pkt})
		if p.cut {
			continue
		}
		// Through the codec, as on the wire.
		b, err := pkt.Marshal()
		if err != nil {
			p.t.Fatal(err)
		}
		q, err := Parse(b)
		if err != nil {
			p.t.Fatalf("session sent an invalid packet %+v: %v", pkt, err)
		}
		o := p.other(s)
		p.lastRx[o] = p.now
		p.handle(o, o.Receive(p.now, q))
	}
}

// run advances the clock to until, firing timers in order.
func (p *pair) run(until time.Time) {
	for i := 0; i < 100000; i++ {
		next := time.Time{}
		for _, s := range []*Session{p.a, p.b} {
			if d := s.Deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if next.IsZero() || next.After(until) {
			p.now = until
			return
		}
		p.now = next
		for _, s := range []*Session{p.a, p.b} {
			if d := s.Deadline(); !d.IsZero() && !d.After(p.now) {
				p.handle(s, s.Advance(p.now))
			}
		}
	}
	p.t.Fatal("timers did not settle")
}

func stateOf(s *Session) State { st, _ := s.State(); return st }

func TestHandshakeReachesUpAndFastRate(t *testing.T) {
	p := newPair(t, fast, fast)
	p.run(t0.Add(3 * time.Second))
	if stateOf(p.a) != StateUp || stateOf(p.b) != StateUp {
		t.Fatalf("states %v %v, want Up Up", stateOf(p.a), stateOf(p.b))
	}
	// A goes Down -> Init -> Up (it heard B's Down first, or B's Init).
	if got := p.state[p.a]; got[len(got)-1] != StateUp {
		t.Errorf("A's transitions %v", got)
	}
	for _, s := range []*Session{p.a, p.b} {
		if got := s.TxInterval(); got != 100*time.Millisecond {
			t.Errorf("tx interval %v after the Poll Sequence, want 100ms", got)
		}
		if got := s.DetectionTime(); got != 300*time.Millisecond {
			t.Errorf("detection time %v, want 300ms", got)
		}
	}
	// Before Up, no packet was sent faster than once a second (less jitter).
	for s, list := range p.sent {
		for i := 1; i < len(list); i++ {
			prev, cur := list[i-1], list[i]
			if cur.p.State == StateUp || cur.p.Final || prev.p.Final {
				break
			}
			if gap := cur.at.Sub(prev.at); gap < 750*time.Millisecond {
				t.Errorf("session %x sent %v apart before Up (%v then %v)", s.LocalDiscr(), gap, prev.p.State, cur.p.State)
			}
		}
	}
	// A Poll was answered by a Final, and once Up the packets stop polling.
	polls, finals := 0, 0
	for _, list := range p.sent {
		for _, sp := range list {
			if sp.p.Poll {
				polls++
			}
			if sp.p.Final {
				finals++
			}
		}
		if last := list[len(list)-1].p; last.Poll {
			t.Errorf("still polling after 3 s: %+v", last)
		}
	}
	if polls == 0 || finals == 0 {
		t.Errorf("polls %d finals %d, want a Poll Sequence each way", polls, finals)
	}
}

func TestDetectionTimeExpires(t *testing.T) {
	p := newPair(t, fast, fast)
	p.run(t0.Add(3 * time.Second))
	p.cut = true
	cutAt := p.lastRx[p.a]
	p.run(cutAt.Add(299 * time.Millisecond))
	if stateOf(p.a) != StateUp {
		t.Fatalf("down before the detection time: %v", stateOf(p.a))
	}
	p.run(cutAt.Add(301 * time.Millisecond))
	st, diag := p.a.State()
	if st != StateDown || diag != DiagControlTimeExpired {
		t.Fatalf("state %v diag %v, want Down ControlDetectionTimeExpired", st, diag)
	}
	if p.a.RemoteDiscr() != 0 {
		t.Errorf("remote discriminator %x kept after expiry", p.a.RemoteDiscr())
	}
	if got := p.a.TxInterval(); got != time.Second {
		t.Errorf("tx interval %v once down, want the slow 1s", got)
	}
	// The link heals: the sessions come back.
	p.cut = false
	p.run(p.now.Add(5 * time.Second))
	if stateOf(p.a) != StateUp || stateOf(p.b) != StateUp {
		t.Errorf("after healing: %v %v, want Up Up", stateOf(p.a), stateOf(p.b))
	}
}

func TestDetectionUsesTheSlowerSide(t *testing.T) {
	slow := Config{DesiredMinTx: 300 * time.Millisecond, RequiredMinRx: 300 * time.Millisecond, DetectMult: 5}
	p := newPair(t, fast, slow)
	p.run(t0.Add(5 * time.Second))
	// A detects with B's multiplier and the larger of its RequiredMinRx
	// and B's DesiredMinTx; A transmits no faster than B can receive.
	if got := p.a.DetectionTime(); got != 5*300*time.Millisecond {
		t.Errorf("A detection time %v, want 1.5s", got)
	}
	if got := p.b.DetectionTime(); got != 3*300*time.Millisecond {
		t.Errorf("B detection time %v, want 900ms", got)
	}
	if got := p.a.TxInterval(); got != 300*time.Millisecond {
		t.Errorf("A tx interval %v, want 300ms (B's RequiredMinRx)", got)
	}
}

func TestRemoteSignals(t *testing.T) {
	for _, tc := range []struct {
		name       string
		remote     State
		wantState  State
		wantDiag   Diag
		wantRemote State
	}{
		{"remote down", StateDown, StateDown, DiagNeighborDown, StateDown},
		{"remote admin down", StateAdminDown, StateDown, DiagNeighborDown, StateAdminDown},
		{"remote init keeps up", StateInit, StateUp, DiagNone, StateInit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, fast, fast)
			p.run(t0.Add(3 * time.Second))
			out := p.a.Receive(p.now, &ControlPacket{Version: 1, State: tc.remote, DetectMult: 3,
				MyDiscr: p.b.LocalDiscr(), YourDiscr: p.a.LocalDiscr(), DesiredMinTx: 100000, RequiredMinRx: 100000})
			st, diag := p.a.State()
			if st != tc.wantState || diag != tc.wantDiag {
				t.Errorf("state %v diag %v, want %v %v", st, diag, tc.wantState, tc.wantDiag)
			}
			if out.Changed && out.Remote != tc.wantRemote {
				t.Errorf("output remote state %v, want %v", out.Remote, tc.wantRemote)
			}
			if !out.Changed && tc.wantState != StateUp {
				t.Error("no state change reported")
			}
		})
	}
}

func TestPollIsAnsweredAtOnce(t *testing.T) {
	s := NewSession(fast, 1, t0, midJitter)
	out := s.Receive(t0, &ControlPacket{Version: 1, State: StateDown, Poll: true, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 1000000, RequiredMinRx: 1000000})
	if len(out.Send) != 1 || !out.Send[0].Final || out.Send[0].Poll {
		t.Fatalf("reply %+v, want one packet with Final and without Poll", out.Send)
	}
	if out.Send[0].YourDiscr != 9 {
		t.Errorf("reply Your Discriminator %d, want 9", out.Send[0].YourDiscr)
	}
}

func TestPassiveWaitsForThePeer(t *testing.T) {
	passive := fast
	passive.Passive = true
	s := NewSession(passive, 1, t0, midJitter)
	if d := s.Deadline(); !d.IsZero() {
		t.Fatalf("passive session has a timer at %v before hearing from the peer", d)
	}
	s.Receive(t0.Add(time.Second), &ControlPacket{Version: 1, State: StateDown, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 1000000, RequiredMinRx: 1000000})
	out := s.Advance(t0.Add(time.Second))
	if len(out.Send) != 1 || out.Send[0].State != StateInit {
		t.Fatalf("after hearing Down: sent %+v, want one Init packet", out.Send)
	}
}

func TestRemoteMinRxZeroStopsTransmission(t *testing.T) {
	s := NewSession(fast, 1, t0, midJitter)
	s.Advance(t0)
	s.Receive(t0, &ControlPacket{Version: 1, State: StateDown, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 1000000})
	if s.TxInterval() != 0 {
		t.Errorf("tx interval %v, want none when the peer wants no packets", s.TxInterval())
	}
	if d := s.Deadline(); d != s.detectAt {
		t.Errorf("a transmit timer is still running")
	}
}

func TestForeignDiscriminatorIgnored(t *testing.T) {
	s := NewSession(fast, 1, t0, midJitter)
	out := s.Receive(t0, &ControlPacket{Version: 1, State: StateInit, DetectMult: 3, MyDiscr: 9, YourDiscr: 2, RequiredMinRx: 1})
	if out.Changed || stateOf(s) != StateDown || s.RemoteDiscr() != 0 {
		t.Errorf("a packet for another session changed this one: %+v", out)
	}
	out = s.Receive(t0, &ControlPacket{Version: 1, State: StateDown, Auth: true, DetectMult: 3, MyDiscr: 9, RequiredMinRx: 1})
	if out.Changed || s.RemoteDiscr() != 0 {
		t.Errorf("an authenticated packet was accepted without authentication configured")
	}
}

func TestTimerChangeUsesPollSequence(t *testing.T) {
	p := newPair(t, fast, fast)
	p.run(t0.Add(3 * time.Second))
	slower := Config{DesiredMinTx: 500 * time.Millisecond, RequiredMinRx: 500 * time.Millisecond, DetectMult: 3}
	p.cut = true // hold the Final back
	p.a.SetConfig(p.now, slower)
	if p.a.TxInterval() != 100*time.Millisecond {
		t.Errorf("tx interval %v changed before the Poll Sequence ended", p.a.TxInterval())
	}
	p.run(p.now.Add(100 * time.Millisecond))
	last := p.sent[p.a][len(p.sent[p.a])-1].p
	if !last.Poll || last.DesiredMinTx != 500000 {
		t.Errorf("packet %+v, want Poll with the new interval", last)
	}
	p.cut = false
	p.run(p.now.Add(2 * time.Second))
	if p.a.TxInterval() != 500*time.Millisecond || stateOf(p.a) != StateUp {
		t.Errorf("after the Final: tx %v state %v, want 500ms Up", p.a.TxInterval(), stateOf(p.a))
	}
	if got := p.b.DetectionTime(); got != 1500*time.Millisecond {
		t.Errorf("peer detection time %v, want 1.5s", got)
	}
}

func TestJitterBounds(t *testing.T) {
	for _, tc := range []struct {
		mult   uint8
		lo, hi float64
		rand   float64
	}{
		{3, 0.75, 0.75, 0},
		{3, 0.99, 1, 0.999},
		{1, 0.75, 0.75, 0},
		{1, 0.89, 0.90, 0.999},
	} {
		s := NewSession(Config{DesiredMinTx: time.Second, RequiredMinRx: time.Second, DetectMult: tc.mult}, 1, t0, func() float64 { return tc.rand })
		got := float64(s.jitter(time.Second)) / float64(time.Second)
		if got < tc.lo || got > tc.hi {
			t.Errorf("mult %d: jittered interval %.3f of the nominal, outside [%.2f, %.2f]", tc.mult, got, tc.lo, tc.hi)
		}
	}
}

func TestAdminDownTellsThePeer(t *testing.T) {
	p := newPair(t, fast, fast)
	p.run(t0.Add(3 * time.Second))
	p.handle(p.a, p.a.AdminDown(p.now))
	st, diag := p.b.State()
	if st != StateDown || diag != DiagNeighborDown || p.b.remoteState != StateAdminDown {
		t.Errorf("peer state %v diag %v remote %v, want Down NeighborSignaledSessionDown AdminDown", st, diag, p.b.remoteState)
	}
	if stateOf(p.a) != StateAdminDown {
		t.Errorf("state %v, want AdminDown", stateOf(p.a))
	}
	p.run(p.now.Add(5 * time.Second))
	if stateOf(p.a) != StateAdminDown || stateOf(p.b) == StateUp {
		t.Errorf("an AdminDown session came back: %v %v", stateOf(p.a), stateOf(p.b))
	}
}

// FuzzSession drives a session with arbitrary packets and clock steps and
// checks that everything it sends is a valid packet and that its state
// stays consistent.
func FuzzSession(f *testing.F) {
	f.Add([]byte{0x20, 0x40, 3, 24, 0, 0, 0, 9, 0, 0, 0, 0, 0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 0, 0, 0, 0, 50})
	f.Add(append([]byte(upPacketHex), 10, 200, 7))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSession(fast, 0x11223344, t0, midJitter)
		now := t0
		check := func(out Output) {
			for _, p := range out.Send {
				b, err := p.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Parse(b); err != nil {
					t.Fatalf("sent an invalid packet %+v: %v", p, err)
				}
			}
			st, _ := s.State()
			if st > StateUp {
				t.Fatalf("state %v", st)
			}
		}
		for len(data) > 0 {
			if len(data) >= HeaderLen && data[0]>>5 == 1 {
				if p, err := Parse(data[:HeaderLen]); err == nil {
					check(s.Receive(now, p))
				}
				data = data[HeaderLen:]
				continue
			}
			now = now.Add(time.Duration(data[0]) * 5 * time.Millisecond)
			data = data[1:]
			if d := s.Deadline(); !d.IsZero() && !now.Before(d) {
				check(s.Advance(now))
			}
			if d := s.Deadline(); !d.IsZero() && d.Before(now) {
				t.Fatalf("deadline %v in the past after Advance at %v", d, now)
			}
		}
	})
}

// A slower receive interval applies to the pending detection deadline at
// once: the remote may slow down as soon as it reads the Poll, and its next
// packet then comes later than the old detection time allowed.
func TestSlowerReceiveExtendsPendingDetection(t *testing.T) {
	s := NewSession(fast, 1, t0, midJitter)
	s.Advance(t0)
	up := func(at time.Time) {
		s.Receive(at, &ControlPacket{Version: 1, State: StateUp, DetectMult: 3, MyDiscr: 9, YourDiscr: 1,
			DesiredMinTx: 100000, RequiredMinRx: 100000})
	}
	s.Receive(t0, &ControlPacket{Version: 1, State: StateDown, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 100000, RequiredMinRx: 100000})
	up(t0.Add(10 * time.Millisecond))
	if stateOf(s) != StateUp {
		t.Fatalf("state %v, want Up", stateOf(s))
	}
	last := t0.Add(100 * time.Millisecond)
	up(last)
	slower := fast
	slower.RequiredMinRx = 300 * time.Millisecond
	s.SetConfig(last.Add(10*time.Millisecond), slower)
	// No packet for 350 ms: under the old 300 ms detection time this
	// would be a failure; the remote is allowed to send every 300 ms now.
	s.Advance(last.Add(350 * time.Millisecond))
	if stateOf(s) != StateUp {
		t.Errorf("state %v 350 ms after the last packet with a 3 x 300 ms detection time, want Up", stateOf(s))
	}
	s.Advance(last.Add(1000 * time.Millisecond))
	if stateOf(s) != StateDown {
		t.Errorf("state %v after 1 s of silence, want Down", stateOf(s))
	}
}

// echoesBetween counts the echo packets s sent in [from, to).
func (p *pair) echoesBetween(s *Session, from, to time.Time) int {
	n := 0
	for _, at := range p.echoes[s] {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// The Echo function runs on the side that wants it, once the session is
// Up and only when the other side loops echo packets back, never faster
// than that side allows; each side advertises its own loop-back interval.
func TestEchoRunsWhereWantedAndAllowed(t *testing.T) {
	for _, tc := range []struct {
		name           string
		a, b           Config
		wantA, wantB   time.Duration
		wantAdvA, advB uint32
	}{
		{"a echoes, b loops", Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoTx: 50 * time.Millisecond},
			Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoRx: 50 * time.Millisecond},
			50 * time.Millisecond, 0, 0, 50000},
		{"remote allows only 100ms", Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoTx: 10 * time.Millisecond},
			Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoRx: 100 * time.Millisecond},
			100 * time.Millisecond, 0, 0, 100000},
		{"remote does not loop", Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoTx: 50 * time.Millisecond, EchoRx: 50 * time.Millisecond},
			fast, 0, 0, 50000, 0},
		{"both", Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoTx: 50 * time.Millisecond, EchoRx: 20 * time.Millisecond},
			Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoTx: 20 * time.Millisecond, EchoRx: 50 * time.Millisecond},
			50 * time.Millisecond, 20 * time.Millisecond, 20000, 50000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, tc.a, tc.b)
			p.run(t0.Add(3 * time.Second))
			if stateOf(p.a) != StateUp || stateOf(p.b) != StateUp {
				t.Fatalf("states %v %v, want Up Up", stateOf(p.a), stateOf(p.b))
			}
			// No echo before Up (RFC 5880 6.8.9).
			for _, s := range []*Session{p.a, p.b} {
				if first := p.echoes[s]; len(first) > 0 && first[0].Before(p.upAt[s]) {
					t.Errorf("echo sent at %v, before Up at %v", first[0].Sub(t0), p.upAt[s].Sub(t0))
				}
			}
			if got := p.a.EchoInterval(); got != tc.wantA {
				t.Errorf("A's echo interval %v, want %v", got, tc.wantA)
			}
			if got := p.b.EchoInterval(); got != tc.wantB {
				t.Errorf("B's echo interval %v, want %v", got, tc.wantB)
			}
			from := p.now
			p.run(from.Add(time.Second))
			for s, want := range map[*Session]time.Duration{p.a: tc.wantA, p.b: tc.wantB} {
				n := p.echoesBetween(s, from, p.now)
				switch {
				case want == 0 && n != 0:
					t.Errorf("session %x sent %d echo packets, want none", s.LocalDiscr(), n)
				case want != 0 && n != int(time.Second/want):
					t.Errorf("session %x sent %d echo packets in 1s, want %d", s.LocalDiscr(), n, time.Second/want)
				}
			}
			if got := p.lastSent(p.a).RequiredMinEchoRx; got != tc.wantAdvA {
				t.Errorf("A advertises Required Min Echo RX %d, want %d", got, tc.wantAdvA)
			}
			if got := p.lastSent(p.b).RequiredMinEchoRx; got != tc.advB {
				t.Errorf("B advertises Required Min Echo RX %d, want %d", got, tc.advB)
			}
			if stateOf(p.a) != StateUp || stateOf(p.b) != StateUp {
				t.Errorf("states %v %v after a second of echo, want Up Up", stateOf(p.a), stateOf(p.b))
			}
		})
	}
}

func (p *pair) lastSent(s *Session) ControlPacket {
	l := p.sent[s]
	if len(l) == 0 {
		p.t.Fatalf("session %x sent nothing", s.LocalDiscr())
	}
	return l[len(l)-1].p
}

// With slow Control packets (1 s x 3) and a 50 ms echo, a broken forwarding
// path is found by the Echo function: Down with "Echo Function Failed"
// after 3 echo intervals, the remote learning it from the next Control
// packet; when the path heals the session comes back and echo resumes.
func TestEchoFailureTakesTheSessionDown(t *testing.T) {
	slow := Config{DesiredMinTx: time.Second, RequiredMinRx: time.Second, DetectMult: 3, EchoTx: 50 * time.Millisecond, EchoRx: 50 * time.Millisecond}
	p := newPair(t, slow, slow)
	p.run(t0.Add(5 * time.Second))
	if stateOf(p.a) != StateUp || stateOf(p.b) != StateUp {
		t.Fatalf("states %v %v, want Up Up", stateOf(p.a), stateOf(p.b))
	}
	cutAt := p.now
	p.echoCut = true
	var downAt time.Time
	for i := 0; i < 100 && downAt.IsZero(); i++ {
		p.run(p.now.Add(10 * time.Millisecond))
		if stateOf(p.a) == StateDown {
			downAt = p.now
		}
	}
	if downAt.IsZero() {
		t.Fatalf("A still %v a second after echo stopped coming back", stateOf(p.a))
	}
	if d := downAt.Sub(cutAt); d > 160*time.Millisecond {
		t.Errorf("A went down %v after the cut, want at most 3 echo intervals (150ms, +10ms polling)", d)
	}
	if _, diag := p.a.State(); diag != DiagEchoFailed {
		t.Errorf("A's diagnostic %v, want %v", diag, DiagEchoFailed)
	}
	if p.a.EchoInterval() != 0 {
		t.Errorf("echo still running while Down")
	}
	// B hears A's Down within A's Control interval.
	p.run(p.now.Add(1200 * time.Millisecond))
	if st, diag := p.b.State(); st == StateUp || (st == StateDown && diag != DiagNeighborDown) {
		t.Errorf("B %v (%v) after A's echo failure, want it to leave Up on A's word", st, diag)
	}

	// The path heals.
	p.echoCut = false
	p.run(p.now.Add(5 * time.Second))
	if stateOf(p.a) != StateUp || stateOf(p.b) != StateUp {
		t.Fatalf("states %v %v after the path healed, want Up Up", stateOf(p.a), stateOf(p.b))
	}
	if p.a.EchoInterval() != 50*time.Millisecond || p.echoesBetween(p.a, p.now.Add(-time.Second), p.now) < 19 {
		t.Errorf("echo did not resume: interval %v", p.a.EchoInterval())
	}
}

// The remote withdrawing its echo loop (Required Min Echo RX 0) stops the
// Echo function at once, without taking the session down.
func TestEchoStopsWhenRemoteWithdraws(t *testing.T) {
	a := Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoTx: 50 * time.Millisecond}
	b := Config{DesiredMinTx: 100 * time.Millisecond, RequiredMinRx: 100 * time.Millisecond, DetectMult: 3, EchoRx: 50 * time.Millisecond}
	p := newPair(t, a, b)
	p.run(t0.Add(3 * time.Second))
	if p.a.EchoInterval() != 50*time.Millisecond {
		t.Fatalf("echo interval %v, want 50ms", p.a.EchoInterval())
	}
	b.EchoRx = 0
	p.b.SetConfig(p.now, b)
	p.echoCut = true // would fail the session if A kept relying on echo
	p.run(p.now.Add(2 * time.Second))
	if p.a.EchoInterval() != 0 || stateOf(p.a) != StateUp || stateOf(p.b) != StateUp {
		t.Errorf("echo interval %v, states %v %v; want echo stopped, both Up", p.a.EchoInterval(), stateOf(p.a), stateOf(p.b))
	}
}

// When the Control and echo detection timers have both expired by the time
// Advance runs (the process was not scheduled for a while), the session
// goes Down once, for the Control timeout, and echo stops.
func TestEchoAndControlExpiringTogether(t *testing.T) {
	c := Config{DesiredMinTx: 50 * time.Millisecond, RequiredMinRx: 50 * time.Millisecond, DetectMult: 3, EchoTx: 50 * time.Millisecond, EchoRx: 50 * time.Millisecond}
	p := newPair(t, c, c)
	p.run(t0.Add(3 * time.Second))
	if stateOf(p.a) != StateUp || p.a.EchoInterval() == 0 {
		t.Fatalf("state %v, echo interval %v; want Up with echo", stateOf(p.a), p.a.EchoInterval())
	}
	out := p.a.Advance(p.now.Add(time.Second))
	st, diag := p.a.State()
	if !out.Changed || out.State != StateDown || st != StateDown || diag != DiagControlTimeExpired || out.Diag != DiagControlTimeExpired {
		t.Errorf("after both timers: output %+v, state %v (%v); want one change to Down for %v", out, st, diag, DiagControlTimeExpired)
	}
	if p.a.EchoInterval() != 0 || out.Echo {
		t.Errorf("echo still running while Down")
	}
}

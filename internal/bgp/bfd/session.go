package bfd

import (
	"time"
)

// SlowTxInterval is the lowest transmit interval advertised while a session
// is not Up (RFC 5880 6.8.3).
const SlowTxInterval = time.Second

// Config holds the local parameters of a session.
type Config struct {
	// DesiredMinTx is the interval this system wants to send at once the
	// session is Up; RequiredMinRx the shortest interval between received
	// packets it supports (bfd.DesiredMinTxInterval and
	// bfd.RequiredMinRxInterval).
	DesiredMinTx, RequiredMinRx time.Duration
	// DetectMult multiplies the negotiated interval into the detection time
	// the remote system uses.
	DetectMult uint8
	// Passive: send nothing until the remote system has sent a packet
	// (RFC 5880 6.1).
	Passive bool
	// EchoTx, when non-zero, runs the Echo function (RFC 5880 6.4, 6.8.9)
	// while the session is Up and the remote system loops echo packets
	// back (it advertises a non-zero Required Min Echo RX): one echo
	// packet every max(EchoTx, that value), and the session goes Down
	// with DiagEchoFailed when none came back for DetectMult intervals.
	EchoTx time.Duration
	// EchoRx is the Required Min Echo RX Interval advertised: non-zero
	// when this system's forwarding plane loops the remote's echo packets
	// back.
	EchoRx time.Duration
}

// Output is what one step of a Session asks its adapter to do.
type Output struct {
	// Send holds packets to transmit now, in order.
	Send []ControlPacket
	// Changed is true when the step changed the session state; State and
	// Diag are then the new state and its reason.
	Changed bool
	State   State
	Diag    Diag
	// Remote is the remote system's state as last heard (Down after a
	// detection timeout); AdminDown tells a failure from a peer that
	// deliberately ended the session (RFC 5882 section 3.2).
	Remote State
	// Echo asks for one echo packet now.
	Echo bool
}

// Session is the state machine of one BFD session (RFC 5880 section 6.8)
// in asynchronous mode, with the Echo function and without
// authentication. It does no I/O and reads no clock: every method takes the
// current time, and the adapter calls Advance when Deadline is reached.
// A Session is not safe for concurrent use.
type Session struct {
	cfg  Config
	rand func() float64

	state, remoteState State
	diag               Diag
	localDiscr         uint32
	remoteDiscr        uint32
	remoteMinRx        time.Duration // bfd.RemoteMinRxInterval
	remoteDesiredTx    time.Duration // Desired Min TX of the last packet
	remoteDetectMult   uint8
	remoteDemand       bool
	heard              bool // a packet was received (passive mode)

	// advTx and advRx are the values sent in packets; txInUse and rxInUse
	// the ones the timers use, which lag behind during a Poll Sequence
	// (RFC 5880 6.8.3).
	advTx, advRx     time.Duration
	txInUse, rxInUse time.Duration
	polling          bool

	lastTx, nextTx time.Time // nextTx zero: no periodic transmission
	interval       time.Duration
	detectAt       time.Time // zero: detection timer not armed

	// The Echo function: remoteMinEchoRx is the remote's Required Min
	// Echo RX; echoInterval is 0 while the function is inactive.
	remoteMinEchoRx      time.Duration
	echoInterval         time.Duration
	nextEcho, echoDetect time.Time
}

// NewSession starts a session in state Down. localDiscr must be non-zero
// and unique among the system's sessions. rand returns numbers in [0, 1)
// for the transmit jitter.
func NewSession(cfg Config, localDiscr uint32, now time.Time, rand func() float64) *Session {
	s := &Session{
		cfg:         cfg,
		rand:        rand,
		state:       StateDown,
		remoteState: StateDown,
		localDiscr:  localDiscr,
		remoteMinRx: time.Microsecond, // RFC 5880 6.8.1: initialized to 1
	}
	s.advTx = s.wantTx()
	s.txInUse = s.advTx
	s.advRx = cfg.RequiredMinRx
	s.rxInUse = s.advRx
	s.reschedule(now)
	return s
}

// State returns the session state and the reason for the last change.
func (s *Session) State() (State, Diag) { return s.state, s.diag }

// LocalDiscr returns the session's discriminator.
func (s *Session) LocalDiscr() uint32 { return s.localDiscr }

// RemoteDiscr returns the remote discriminator, 0 while unknown.
func (s *Session) RemoteDiscr() uint32 { return s.remoteDiscr }

// DetectionTime returns the time without packets after which the session
// goes down (RFC 5880 6.8.4), 0 before the remote system was heard.
func (s *Session) DetectionTime() time.Duration {
	return time.Duration(s.remoteDetectMult) * max(s.rxInUse, s.remoteDesiredTx)
}

// TxInterval returns the current periodic transmission interval before
// jitter, 0 when the session does not transmit periodically.
func (s *Session) TxInterval() time.Duration { return s.interval }

// EchoInterval returns the interval between echo packets, 0 while the Echo
// function is inactive.
func (s *Session) EchoInterval() time.Duration { return s.echoInterval }

// Deadline returns when Advance must next run; zero when no timer is
// running.
func (s *Session) Deadline() time.Time {
	var next time.Time
	for _, t := range []time.Time{s.nextTx, s.detectAt, s.nextEcho, s.echoDetect} {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

// wantTx is the Desired Min TX to advertise in the current state.
func (s *Session) wantTx() time.Duration {
	if s.state != StateUp {
		return max(s.cfg.DesiredMinTx, SlowTxInterval)
	}
	return s.cfg.DesiredMinTx
}

// sending reports whether periodic transmission runs (RFC 5880 6.8.7).
func (s *Session) sending() bool {
	switch {
	case s.cfg.Passive && !s.heard:
		return false
	case s.remoteMinRx == 0:
		return false
	case s.remoteDemand && s.state == StateUp && s.remoteState == StateUp && !s.polling:
		return false
	}
	return true
}

// reschedule recomputes the transmission interval and moves the next
// periodic packet when the interval changed or transmission (re)starts.
func (s *Session) reschedule(now time.Time) {
	if !s.sending() {
		s.nextTx, s.interval = time.Time{}, 0
		return
	}
	iv := max(s.txInUse, s.remoteMinRx)
	switch {
	case s.nextTx.IsZero():
		s.interval = iv
		s.nextTx = now
	case iv != s.interval:
		s.interval = iv
		next := s.lastTx.Add(s.jitter(iv))
		if next.Before(now) {
			next = now
		}
		s.nextTx = next
	}
}

// jitter shortens an interval to 75..100 % of itself (75..90 % when the
// detect multiplier is 1), as RFC 5880 6.8.7 requires.
func (s *Session) jitter(iv time.Duration) time.Duration {
	span := 0.25
	if s.cfg.DetectMult == 1 {
		span = 0.15
	}
	return time.Duration(float64(iv) * (0.75 + span*s.rand()))
}

func (s *Session) packet(final bool) ControlPacket {
	return ControlPacket{
		Version:       Version,
		Diag:          s.diag,
		State:         s.state,
		Poll:          s.polling && !final,
		Final:         final,
		DetectMult:    s.cfg.DetectMult,
		MyDiscr:       s.localDiscr,
		YourDiscr:     s.remoteDiscr,
		DesiredMinTx:  micros(s.advTx),
		RequiredMinRx: micros(s.advRx),

		RequiredMinEchoRx: micros(s.cfg.EchoRx),
	}
}

func micros(d time.Duration) uint32 {
	us := d.Microseconds()
	if us > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(us)
}

// setState moves to st for reason diag and adjusts the advertised transmit
// interval (slow while not Up; a Poll Sequence announces the fast rate on
// reaching Up).
func (s *Session) setState(st State, diag Diag, out *Output) {
	s.state, s.diag = st, diag
	out.Changed, out.State, out.Diag, out.Remote = true, st, diag, s.remoteState
	want := s.wantTx()
	if st == StateUp {
		if want != s.advTx {
			s.polling = true
		}
		s.advTx = want
		s.txInUse = min(s.txInUse, want)
		return
	}
	s.polling = false
	s.advTx, s.txInUse = want, want
	s.rxInUse = s.advRx
}

// Receive handles a Control packet that Parse accepted and the adapter
// delivered to this session (RFC 5880 6.8.6).
func (s *Session) Receive(now time.Time, p *ControlPacket) Output {
	var out Output
	if p.Auth || (p.YourDiscr != 0 && p.YourDiscr != s.localDiscr) {
		// No authentication is configured on this side: discard.
		return out
	}
	if s.state == StateAdminDown {
		return out
	}
	s.heard = true
	s.remoteDiscr = p.MyDiscr
	s.remoteState = p.State
	s.remoteDemand = p.Demand
	s.remoteMinRx = time.Duration(p.RequiredMinRx) * time.Microsecond
	s.remoteDesiredTx = time.Duration(p.DesiredMinTx) * time.Microsecond
	s.remoteDetectMult = p.DetectMult
	s.remoteMinEchoRx = time.Duration(p.RequiredMinEchoRx) * time.Microsecond
	if p.Final && s.polling {
		s.polling = false
		s.txInUse, s.rxInUse = s.advTx, s.advRx
	}

	switch {
	case p.State == StateAdminDown:
		if s.state != StateDown {
			s.setState(StateDown, DiagNeighborDown, &out)
		}
	case s.state == StateDown:
		switch p.State {
		case StateDown:
			s.setState(StateInit, DiagNone, &out)
		case StateInit:
			s.setState(StateUp, DiagNone, &out)
		}
	case s.state == StateInit:
		if p.State == StateInit || p.State == StateUp {
			s.setState(StateUp, DiagNone, &out)
		}
	case s.state == StateUp:
		if p.State == StateDown {
			s.setState(StateDown, DiagNeighborDown, &out)
		}
	}

	if p.Poll {
		out.Send = append(out.Send, s.packet(true))
	}
	s.detectAt = now.Add(s.DetectionTime())
	s.reschedule(now)
	s.updateEcho(now)
	return out
}

// ReceiveEcho handles one of this session's echo packets coming back: the
// echo detection timer restarts (RFC 5880 6.8.5). Echo packets that come
// back while the function is inactive are ignored.
func (s *Session) ReceiveEcho(now time.Time) {
	if s.echoInterval > 0 {
		s.echoDetect = now.Add(s.echoDetectionTime())
	}
}

// echoDetectionTime is how long the Echo function waits for a packet to
// come back before declaring the path dead: a local matter (RFC 5880
// 6.8.5), here DetectMult echo intervals.
func (s *Session) echoDetectionTime() time.Duration {
	return time.Duration(max(s.cfg.DetectMult, 1)) * s.echoInterval
}

// updateEcho starts, retimes or stops the Echo function. It runs only
// while the session is Up, this side wants it and the remote system loops
// echo packets back (RFC 5880 6.8.9: never faster than the remote's
// Required Min Echo RX Interval).
func (s *Session) updateEcho(now time.Time) {
	iv := time.Duration(0)
	if s.state == StateUp && s.cfg.EchoTx > 0 && s.remoteMinEchoRx > 0 {
		iv = max(s.cfg.EchoTx, s.remoteMinEchoRx)
	}
	switch {
	case iv == 0:
		s.echoInterval, s.nextEcho, s.echoDetect = 0, time.Time{}, time.Time{}
	case s.echoInterval == 0:
		// Starting: the first packet needs a detection time to come back.
		s.echoInterval, s.nextEcho = iv, now
		s.echoDetect = now.Add(s.echoDetectionTime())
	case iv != s.echoInterval:
		s.echoInterval = iv
		if at := now.Add(s.echoDetectionTime()); at.After(s.echoDetect) {
			s.echoDetect = at
		}
	}
}

// Advance runs the timers due at now: the detection timer (RFC 5880
// 6.8.4) and periodic transmission (6.8.7).
func (s *Session) Advance(now time.Time) Output {
	var out Output
	if !s.detectAt.IsZero() && !now.Before(s.detectAt) {
		s.detectAt = time.Time{}
		// RFC 5880 6.8.1: the remote discriminator is forgotten when the
		// detection time passes without a packet.
		s.remoteDiscr = 0
		s.remoteState = StateDown
		if s.state == StateInit || s.state == StateUp {
			s.setState(StateDown, DiagControlTimeExpired, &out)
		}
		s.reschedule(now)
	}
	if s.state == StateUp && !s.echoDetect.IsZero() && !now.Before(s.echoDetect) {
		// RFC 5880 6.8.5: echo packets stopped coming back. The Down
		// state goes to the remote system in the next Control packet.
		s.setState(StateDown, DiagEchoFailed, &out)
		s.reschedule(now)
	}
	s.updateEcho(now)
	if !s.nextTx.IsZero() && !now.Before(s.nextTx) {
		out.Send = append(out.Send, s.packet(false))
		s.lastTx = now
		s.nextTx = now.Add(s.jitter(s.interval))
	}
	if !s.nextEcho.IsZero() && !now.Before(s.nextEcho) {
		out.Echo = true
		s.nextEcho = now.Add(s.echoInterval)
	}
	return out
}

// SetConfig changes the local parameters of a running session. While Up, a
// change of the advertised intervals starts a Poll Sequence; a longer
// transmit interval and a shorter receive interval take effect only when it
// ends (RFC 5880 6.8.3).
func (s *Session) SetConfig(now time.Time, cfg Config) {
	s.cfg = cfg
	tx, rx := s.wantTx(), cfg.RequiredMinRx
	if s.state == StateUp && (tx != s.advTx || rx != s.advRx) {
		s.polling = true
	}
	if s.state != StateUp || tx < s.txInUse {
		s.txInUse = tx
	}
	if s.state != StateUp || rx > s.rxInUse {
		s.rxInUse = rx
		// The remote may slow down as soon as it sees the Poll, before its
		// next packet: the pending detection deadline, computed for the
		// old interval, must grow with the new one (RFC 5880 6.8.3).
		if !s.detectAt.IsZero() {
			if at := now.Add(s.DetectionTime()); at.After(s.detectAt) {
				s.detectAt = at
			}
		}
	}
	s.advTx, s.advRx = tx, rx
	s.reschedule(now)
	s.updateEcho(now)
}

// AdminDown takes the session administratively down (RFC 5880 6.8.16) and
// returns the packet telling the remote system, which then must not treat
// the session's end as a failure.
func (s *Session) AdminDown(now time.Time) Output {
	var out Output
	if s.state != StateAdminDown {
		s.setState(StateAdminDown, DiagAdminDown, &out)
	}
	s.detectAt = time.Time{}
	out.Send = append(out.Send, s.packet(false))
	s.lastTx = now
	s.reschedule(now)
	s.updateEcho(now)
	return out
}

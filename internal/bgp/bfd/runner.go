package bfd

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// live is a running session, owned by Run.
type live struct {
	key  string
	spec Spec
	sess *Session
	tx   *net.UDPConn
	lk   listenKey
	st   Status

	// local is the source address of the Control packets, and of the echo
	// packets echo carries once the Echo function starts.
	local   netip.Addr
	echo    *echoPath
	echoErr string
}

type listenKey struct {
	vrf      string
	v6       bool
	multihop bool
	echo     bool // returning echo packets (from a session's echoPath)
}

type peerKey struct {
	vrf      string
	addr     netip.Addr
	multihop bool
}

type listener struct {
	conn  *net.UDPConn
	users int
}

type datagram struct {
	lk   listenKey
	data []byte
	src  netip.Addr
	ttl  int
}

// runner is the state of one Run.
type runner struct {
	m         *Manager
	ctx       context.Context
	sessions  map[string]*live
	byDiscr   map[uint32]*live
	byPeer    map[peerKey]*live
	listeners map[listenKey]*listener
	rx        chan datagram
	readers   sync.WaitGroup
	retryAt   time.Time
}

// Run runs the sessions until ctx ends; it then takes every session
// administratively down, which RFC 5882 says a peer must not take for a
// failure (FRR 8.4 still resets the BGP session on it).
func (m *Manager) Run(ctx context.Context) error {
	r := &runner{
		m:         m,
		ctx:       ctx,
		sessions:  map[string]*live{},
		byDiscr:   map[uint32]*live{},
		byPeer:    map[peerKey]*live{},
		listeners: map[listenKey]*listener{},
		rx:        make(chan datagram, 256),
	}
	defer r.readers.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	m.poke()
	for {
		select {
		case <-ctx.Done():
			r.shutdown()
			return nil
		case <-m.kick:
			r.reconcile(time.Now())
		case d := <-r.rx:
			r.deliver(time.Now(), d)
		case <-timer.C:
		}
		now := time.Now()
		if !r.retryAt.IsZero() && !now.Before(r.retryAt) {
			r.reconcile(now)
		}
		next := r.advance(now)
		if !r.retryAt.IsZero() && (next.IsZero() || r.retryAt.Before(next)) {
			next = r.retryAt
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// advance runs the due timers of every session and returns the earliest
// next deadline.
func (r *runner) advance(now time.Time) time.Time {
	var next time.Time
	for _, l := range r.sessions {
		if d := l.sess.Deadline(); !d.IsZero() && !now.Before(d) {
			r.apply(l, now, l.sess.Advance(now))
		}
		if d := l.sess.Deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	return next
}

func (r *runner) reconcile(now time.Time) {
	r.retryAt = time.Time{}
	r.m.mu.Lock()
	desired := make(map[string]Spec, len(r.m.desired))
	for k, s := range r.m.desired {
		desired[k] = s
	}
	r.m.mu.Unlock()

	for k, l := range r.sessions {
		if s, ok := desired[k]; !ok || !s.sameTransport(l.spec) {
			r.stop(l, now)
		}
	}
	for k, s := range desired {
		if l, ok := r.sessions[k]; ok {
			if l.spec.Config != s.Config {
				l.spec.Config = s.Config
				l.sess.SetConfig(now, sessionConfig(s, l.local))
				r.publish(l)
			}
			continue
		}
		if err := r.start(k, s, now); err != nil {
			r.m.mu.Lock()
			if r.m.status[k].LastError != err.Error() {
				r.m.log.Error("cannot start BFD session", "peer", s.Peer, "error", err)
			}
			r.m.status[k] = Status{State: StateDown, LastError: err.Error()}
			r.m.mu.Unlock()
			r.retryAt = now.Add(time.Second)
		}
	}
}

func (r *runner) start(key string, s Spec, now time.Time) error {
	pk := peerKey{s.VRF, s.Peer, s.Multihop}
	if other, dup := r.byPeer[pk]; dup {
		return errors.New("peer already has a BFD session (" + other.key + ")")
	}
	lk := listenKey{vrf: s.VRF, v6: s.Peer.Is6(), multihop: s.Multihop}
	if err := r.acquire(lk); err != nil {
		return err
	}
	port := int(s.Port)
	if port == 0 {
		port = SingleHopPort
		if s.Multihop {
			port = MultihopPort
		}
	}
	tx, err := dial(r.ctx, s.VRF, s.Local, s.Peer, port)
	if err != nil {
		r.release(lk)
		return err
	}
	var discr uint32
	for discr == 0 || r.byDiscr[discr] != nil {
		discr = rand.Uint32()
	}
	l := &live{key: key, spec: s, tx: tx, lk: lk, local: tx.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()}
	l.sess = NewSession(sessionConfig(s, l.local), discr, now, rand.Float64)
	r.sessions[key], r.byDiscr[discr], r.byPeer[pk] = l, l, l
	r.publish(l)
	return nil
}

// sessionConfig is the configuration a session of s runs with: its
// Config, less the parts of the Echo function its path cannot carry.
func sessionConfig(s Spec, local netip.Addr) Config {
	return echoConfig(s, s.Config.EchoRx > 0 && forwardsIPv4(local))
}

func (r *runner) stop(l *live, now time.Time) {
	r.apply(l, now, l.sess.AdminDown(now))
	l.tx.Close()
	r.release(l.lk)
	if l.echo != nil {
		l.echo.close()
	}
	delete(r.sessions, l.key)
	delete(r.byDiscr, l.sess.LocalDiscr())
	delete(r.byPeer, peerKey{l.spec.VRF, l.spec.Peer, l.spec.Multihop})
	r.m.mu.Lock()
	delete(r.m.status, l.key)
	r.m.mu.Unlock()
}

func (r *runner) shutdown() {
	now := time.Now()
	for _, l := range r.sessions {
		r.stop(l, now)
	}
}

func (r *runner) acquire(lk listenKey) error {
	if ln, ok := r.listeners[lk]; ok {
		ln.users++
		return nil
	}
	port := r.m.opts.ListenPort
	if lk.multihop {
		port = r.m.opts.MultihopListenPort
	}
	conn, err := listen(r.ctx, lk.vrf, lk.v6, port)
	if err != nil {
		return err
	}
	r.listeners[lk] = &listener{conn: conn, users: 1}
	r.readers.Add(1)
	go r.read(lk, conn)
	return nil
}

func (r *runner) release(lk listenKey) {
	ln := r.listeners[lk]
	if ln == nil {
		return
	}
	if ln.users--; ln.users == 0 {
		ln.conn.Close()
		delete(r.listeners, lk)
	}
}

// read forwards the datagrams of one listening socket to Run until the
// socket is closed.
func (r *runner) read(lk listenKey, conn *net.UDPConn) {
	defer r.readers.Done()
	buf := make([]byte, 512)
	oob := make([]byte, oobSize)
	for {
		n, oobn, _, src, err := conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		d := datagram{lk: lk, data: append([]byte(nil), buf[:n]...), src: src.Addr().Unmap(), ttl: receivedTTL(oob[:oobn])}
		select {
		case r.rx <- d:
		case <-r.ctx.Done():
			return
		}
	}
}

// deliver checks a datagram and hands it to its session (RFC 5880 6.8.6,
// RFC 5881 section 5, RFC 5883 section 5).
func (r *runner) deliver(now time.Time, d datagram) {
	if d.lk.echo {
		r.deliverEcho(now, d)
		return
	}
	p, err := Parse(d.data)
	if err != nil {
		return
	}
	var l *live
	if p.YourDiscr != 0 {
		l = r.byDiscr[p.YourDiscr]
	} else {
		l = r.byPeer[peerKey{d.lk.vrf, d.src, d.lk.multihop}]
	}
	if l == nil || l.lk != d.lk || l.spec.Peer != d.src {
		return
	}
	if l.spec.Multihop {
		minTTL := int(l.spec.MinTTL)
		if minTTL == 0 {
			minTTL = DefaultMinTTL
		}
		if d.ttl < minTTL {
			return
		}
	} else if d.ttl != 255 {
		return
	}
	l.st.Received++
	r.apply(l, now, l.sess.Receive(now, p))
}

// deliverEcho hands one of this system's echo packets, back from the
// remote system's forwarding plane, to its session: the payload names the
// session, the source is the session's own address and the TTL shows
// exactly one hop.
func (r *runner) deliverEcho(now time.Time, d datagram) {
	e, ok := parseEcho(d.data)
	if !ok {
		return
	}
	l := r.byDiscr[e.Discr]
	if l == nil || l.lk.vrf != d.lk.vrf || d.src != l.local || d.ttl != echoReturnTTL {
		return
	}
	l.st.EchoReceived++
	l.sess.ReceiveEcho(now)
}

// sendEcho transmits an echo packet of l, opening its path (which then
// hands the returning packets to Run) first.
func (r *runner) sendEcho(l *live, now time.Time) {
	if l.echo == nil {
		lk := listenKey{vrf: l.lk.vrf, echo: true}
		l.echo = newEchoPath(l.local, l.spec.Peer, uint16(l.tx.LocalAddr().(*net.UDPAddr).Port),
			func(payload []byte, src netip.Addr, ttl int, done <-chan struct{}) {
				select {
				case r.rx <- datagram{lk: lk, data: payload, src: src, ttl: ttl}:
				case <-done:
				case <-r.ctx.Done():
				}
			})
	}
	if err := l.echo.send(now, l.sess.LocalDiscr()); err != nil {
		// The session goes Down (Echo Function Failed) if this lasts.
		if err.Error() != l.echoErr {
			r.m.log.Error("cannot send BFD echo packet", "peer", l.spec.Peer, "error", err)
		}
		l.echoErr = err.Error()
		return
	}
	l.echoErr = ""
	l.st.EchoSent++
}

// apply carries out a step's output: packets, status and events.
func (r *runner) apply(l *live, now time.Time, out Output) {
	if out.Echo {
		r.sendEcho(l, now)
	}
	for i := range out.Send {
		b, err := out.Send[i].Marshal()
		if err != nil {
			continue
		}
		if _, err := l.tx.Write(b); err == nil {
			l.st.Sent++
		}
	}
	if out.Changed {
		prev := l.st.State
		switch {
		case out.State == StateUp:
			l.st.UpEvents++
		case prev == StateUp:
			l.st.DownEvents++
		}
		r.m.log.Info("BFD session state changed", "peer", l.spec.Peer, "state", out.State.String(), "diag", out.Diag.String())
		if f := r.m.opts.OnEvent; f != nil {
			f(Event{Key: l.key, Peer: l.spec.Peer, State: out.State, Previous: prev, Diag: out.Diag, Remote: out.Remote, At: now})
		}
	}
	r.publish(l)
}

func (r *runner) publish(l *live) {
	st, diag := l.sess.State()
	l.st.State, l.st.Diag = st, diag
	l.st.LocalDiscr, l.st.RemoteDiscr = l.sess.LocalDiscr(), l.sess.RemoteDiscr()
	l.st.TxInterval, l.st.DetectionTime = l.sess.TxInterval(), l.sess.DetectionTime()
	l.st.EchoInterval = l.sess.EchoInterval()
	r.m.mu.Lock()
	r.m.status[l.key] = l.st
	r.m.mu.Unlock()
}

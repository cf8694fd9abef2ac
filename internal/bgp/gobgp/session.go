package gobgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	gbgp "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/bgp/bfd"
)

// Back-off after the peer refused the session (NOTIFICATION while opening
// it): the session is disabled for backoffBase, doubling per refusal up to
// backoffMax, on top of GoBGP's own connect-retry pacing.
const (
	backoffBase = 2 * time.Second
	backoffMax  = 2 * time.Minute
)

// session is one peer: a GoBGP server of its own with a single neighbor.
// Its fields belong to the backend's Run goroutine, except ev, which the
// GoBGP watcher and log hooks fill.
type session struct {
	peer     bgp.Peer
	srv      *server.BgpServer
	cancel   context.CancelFunc
	routerID netip.Addr
	nh       nextHops
	// sent is what the server's RIB holds, that is what the peer has or
	// will get once the session is up.
	sent map[netip.Prefix]bgp.Advertisement

	// msgs accumulates GoBGP's message counters, which restart from zero
	// when the neighbor is disabled (back-off) or reset.
	msgs bgp.MessageTracker
	// bfdPackets accumulates the BFD session's packet counters (received,
	// sent); bfdDiscr identifies the BFD session they were read from.
	bfdPackets bgp.Monotonic
	bfdDiscr   uint32

	refusals      int
	disabledUntil time.Time
	reported      bgp.SessionState // last state given to the recorder
	bfdState      bgp.BFDState
	bfdUpAt       time.Time
	bfdSet        bool     // the BFD session was handed to the manager
	bfdSpec       bfd.Spec // as last handed

	ev sessionEvents
}

// sessionEvents is what GoBGP reports asynchronously.
type sessionEvents struct {
	mu      sync.Mutex
	state   bgp.SessionState
	since   time.Time
	resets  int
	lastErr string
	// reason, when set, explains the next departure from Established
	// better than GoBGP would (a reset the backend asked for).
	reason string
	// ownAS is set when a dynamic external peer came up announcing our
	// own ASN; the session was closed and refresh backs off.
	ownAS bool
}

func (e *sessionEvents) note(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != bgp.StateEstablished {
		e.lastErr = msg
	}
}

func (e *sessionEvents) peerEvent(st bgp.SessionState, reason string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case st == bgp.StateEstablished && e.state != bgp.StateEstablished:
		e.since, e.lastErr = at, ""
	case st != bgp.StateEstablished && e.state == bgp.StateEstablished:
		e.resets++
		e.since = time.Time{}
		switch {
		case e.reason != "":
			e.lastErr, e.reason = e.reason, ""
		case reason != "":
			e.lastErr = "session closed: " + reason
		}
	}
	e.state = st
}

// startSession creates the peer's GoBGP server, configures it and installs
// the routes. On error nothing is left running.
func (b *Backend) startSession(ctx context.Context, p bgp.Peer, ads map[netip.Prefix]bgp.Advertisement, restarting bool) (*session, error) {
	le := lookupLocalEnd(ctx, &p)
	s := &session{
		peer:     p,
		routerID: routerID(&p, le, b.opts.NodeName),
		nh:       crossFamilyNextHops(&p, le),
		sent:     map[netip.Prefix]bgp.Advertisement{},
		reported: bgp.StateIdle,
		ev:       sessionEvents{state: bgp.StateIdle},
	}
	logs := &gobgpLogs{next: b.log.With("peer", p.ID()).Handler(), level: b.opts.GoBGPLogLevel, note: s.ev.note}
	s.srv = server.NewBgpServer(server.LoggerOption(slog.New(logs), nil))
	go s.srv.Serve()
	sp := sessionParams{routerID: s.routerID, restarting: restarting && p.GracefulRestart}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	err := s.srv.StartBgp(ctx, &api.StartBgpRequest{Global: globalConfig(&p, sp)})
	if err == nil {
		err = rejectReceivedRoutes(ctx, s.srv)
	}
	if err == nil {
		err = s.srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
			OnPeerUpdate: func(e *apiutil.WatchEventMessage_PeerEvent, at time.Time) {
				if e.Type != apiutil.PEER_EVENT_STATE {
					return
				}
				st := fsmState(e.Peer.State.SessionState)
				if st == bgp.StateEstablished && p.PeerASN == 0 && p.DynamicASN == bgp.DynamicExternal && e.Peer.State.PeerASN == p.MyASN {
					// GoBGP accepts any ASN when none is configured; an
					// external peer must not be in our AS. Close at once.
					s.ev.mu.Lock()
					s.ev.reason = fmt.Sprintf("dynamicASN is external, but the peer announced our own ASN %d", p.MyASN)
					s.ev.ownAS = true
					s.ev.mu.Unlock()
					go func() {
						_ = s.srv.DisablePeer(wctx, &api.DisablePeerRequest{Address: p.Address.String(), Communication: "peer AS is not external"})
					}()
				}
				s.ev.peerEvent(st, e.Peer.State.DisconnectMessage, at)
				b.poke()
			},
		}, server.WatchPeer())
	}
	if err == nil {
		err = s.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: peerConfig(&p, sp)})
	}
	if err != nil {
		s.stop(false)
		return nil, fmt.Errorf("configuring GoBGP: %w", err)
	}
	s.sync(ads)
	return s, nil
}

// rejectReceivedRoutes keeps the routes the peer sends out of the RIB (the
// speaker never uses them): the global import policy accepts the locally
// originated routes only.
func rejectReceivedRoutes(ctx context.Context, srv *server.BgpServer) error {
	const name = "ferrolb-local-only"
	err := srv.AddPolicy(ctx, &api.AddPolicyRequest{Policy: &api.Policy{
		Name: name,
		Statements: []*api.Statement{{
			Name:       name + "-accept",
			Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
			Actions:    &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_ACCEPT},
		}},
	}})
	if err != nil {
		return err
	}
	return srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Direction:     api.PolicyDirection_POLICY_DIRECTION_IMPORT,
		Policies:      []*api.Policy{{Name: name}},
		DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT,
	}})
}

func fsmState(s gbgp.FSMState) bgp.SessionState {
	switch s {
	case gbgp.BGP_FSM_CONNECT:
		return bgp.StateConnect
	case gbgp.BGP_FSM_ACTIVE:
		return bgp.StateActive
	case gbgp.BGP_FSM_OPENSENT:
		return bgp.StateOpenSent
	case gbgp.BGP_FSM_OPENCONFIRM:
		return bgp.StateOpenConfirm
	case gbgp.BGP_FSM_ESTABLISHED:
		return bgp.StateEstablished
	}
	return bgp.StateIdle
}

// stop closes the session. graceful keeps a graceful-restart session's
// routes at the peer (no NOTIFICATION, the TCP connection just closes);
// otherwise the peer gets a Cease NOTIFICATION and withdraws them.
func (s *session) stop(graceful bool) {
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.srv.StopBgp(ctx, &api.StopBgpRequest{AllowGracefulRestart: graceful})
	s.srv.Stop()
}

// sync makes the server's RIB hold exactly desired (the routes the session
// carries): one AddPath for the new and changed routes, one DeletePath for
// the others. GoBGP sends the peer only these changes.
//
// desired is read-only (it is shared with the backend's advertisement
// sets) and so is s.sent: after a complete sync s.sent is desired itself,
// after a partial one a new map.
func (s *session) sync(desired map[netip.Prefix]bgp.Advertisement) error {
	announce, withdraw := bgp.Diff(s.sent, desired)
	var errs []error
	var added []bgp.Advertisement
	if len(announce) > 0 {
		paths := make([]*apiutil.Path, 0, len(announce))
		ok := make([]bgp.Advertisement, 0, len(announce))
		for _, a := range announce {
			p, err := toPath(a, s.nh.forPrefix(a.Prefix), s.peer.IBGP(), false)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			paths = append(paths, p)
			ok = append(ok, a)
		}
		if len(paths) > 0 {
			// GoBGP reports any failure as a whole; what was added is
			// added again, as an implicit replacement, on the next pass.
			if _, err := s.srv.AddPath(apiutil.AddPathRequest{Paths: paths}); err != nil {
				errs = append(errs, fmt.Errorf("announcing: %w", err))
			} else {
				added = ok
			}
		}
	}
	withdrawn := false
	if len(withdraw) > 0 {
		paths := make([]*apiutil.Path, 0, len(withdraw))
		for _, pfx := range withdraw {
			p, err := toPath(s.sent[pfx], s.nh.forPrefix(pfx), s.peer.IBGP(), true)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			paths = append(paths, p)
		}
		if err := s.srv.DeletePath(apiutil.DeletePathRequest{Paths: paths}); err != nil {
			errs = append(errs, fmt.Errorf("withdrawing: %w", err))
		} else {
			withdrawn = true
		}
	}
	if len(errs) == 0 {
		s.sent = desired
		return nil
	}
	sent := maps.Clone(s.sent)
	if sent == nil {
		sent = map[netip.Prefix]bgp.Advertisement{}
	}
	for _, a := range added {
		sent[a.Prefix] = a
	}
	if withdrawn {
		for _, pfx := range withdraw {
			delete(sent, pfx)
		}
	}
	s.sent = sent
	return errors.Join(errs...)
}

// refresh reads GoBGP's counters, applies the refusal back-off and returns
// the session's status.
func (s *session) refresh(ctx context.Context, now time.Time, desired int, rec bgp.Recorder, log *slog.Logger) bgp.PeerStatus {
	var peer *api.Peer
	_ = s.srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) { peer = p })
	if peer == nil || peer.State == nil || peer.State.Messages == nil {
		return s.status(desired)
	}
	sent, received := s.msgs.Observe(messageCounts(peer.State.Messages.Sent), messageCounts(peer.State.Messages.Received))
	rec.Messages(s.peer.ID(), sent, received)
	newNotifs := received.Notification

	if newNotifs > 0 {
		// GoBGP answers a NOTIFICATION received while opening the session
		// with an FSM error and logs only the latter: say what happened.
		s.ev.mu.Lock()
		if s.ev.state != bgp.StateEstablished {
			s.ev.lastErr = "the peer refused the session with a NOTIFICATION"
		}
		s.ev.mu.Unlock()
	}
	s.ev.mu.Lock()
	ownAS := s.ev.ownAS
	s.ev.ownAS = false
	s.ev.mu.Unlock()
	st := s.status(desired)
	if st.State == bgp.StateEstablished && !ownAS {
		s.refusals = 0
	}

	// Back-off: a peer that keeps refusing the session is retried less and
	// less often.
	switch {
	case !s.disabledUntil.IsZero() && !now.Before(s.disabledUntil):
		s.disabledUntil = time.Time{}
		_ = s.srv.EnablePeer(ctx, &api.EnablePeerRequest{Address: s.peer.Address.String()})
	case ownAS:
		// The event handler disabled the peer: retry later, less and
		// less often, in case the router's configuration changes.
		s.refusals++
		wait := min(backoffBase<<min(s.refusals-1, 16), backoffMax)
		s.disabledUntil = now.Add(wait)
		log.Error("closed the BGP session: the peer's ASN is ours but dynamicASN is external", "peer", s.peer.ID(), "asn", s.peer.MyASN, "retryIn", wait)
	case newNotifs > 0 && st.State != bgp.StateEstablished && s.disabledUntil.IsZero():
		s.refusals++
		if s.refusals >= 2 {
			wait := min(backoffBase<<min(s.refusals-2, 16), backoffMax)
			s.disabledUntil = now.Add(wait)
			log.Info("peer refuses the session, backing off", "peer", s.peer.ID(), "wait", wait, "error", st.LastError)
			_ = s.srv.DisablePeer(ctx, &api.DisablePeerRequest{Address: s.peer.Address.String(), Communication: "backing off"})
		}
	}

	// The gauge exists from the first refresh on, also for a session that
	// never comes up (alerts on session_up == 0 must see it).
	rec.SessionUp(s.peer.ID(), st.State == bgp.StateEstablished)
	s.reported = st.State
	rec.Prefixes(s.peer.ID(), st.Announced, st.Pending)
	return st
}

// messageCounts converts GoBGP's message counters of one direction.
func messageCounts(m *api.Message) bgp.MessageCounts {
	if m == nil {
		return bgp.MessageCounts{}
	}
	return bgp.MessageCounts{
		Open:         m.Open,
		Update:       m.Update,
		Notification: m.Notification,
		Keepalive:    m.Keepalive,
		RouteRefresh: m.Refresh,
		Total:        m.Total,
	}
}

// refreshBFD reports the packets of the BFD session since the last refresh.
func (s *session) refreshBFD(st bfd.Status, rec bgp.Recorder) {
	if st.LocalDiscr != s.bfdDiscr {
		// A new BFD session (or none yet): its counters start at zero.
		s.bfdPackets.Restart()
		s.bfdDiscr = st.LocalDiscr
	}
	d := s.bfdPackets.Observe(st.Received, st.Sent, st.EchoReceived, st.EchoSent)
	rec.BFDControlPackets(s.peer.Address.String(), d[0], d[1])
	rec.BFDEchoPackets(s.peer.Address.String(), d[2], d[3])
}

// established reports whether the BGP session is Established.
func (s *session) established() bool {
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	return s.ev.state == bgp.StateEstablished
}

// status reports the session from what is known without asking GoBGP.
func (s *session) status(desired int) bgp.PeerStatus {
	s.ev.mu.Lock()
	st := bgp.PeerStatus{
		Name:             s.peer.Name,
		Peer:             s.peer.ID(),
		State:            s.ev.state,
		EstablishedSince: s.ev.since,
		Resets:           s.ev.resets,
		LastError:        s.ev.lastErr,
		UpdatesSent:      s.msgs.Sent.Update,
		BFD:              s.bfdState,
	}
	s.ev.mu.Unlock()
	if st.State == bgp.StateEstablished {
		st.Announced = len(s.sent)
	}
	st.Pending = desired - st.Announced
	return st
}

// resetForBFD tears the BGP session down at once: BFD saw the path fail.
func (s *session) resetForBFD(ctx context.Context) error {
	s.ev.mu.Lock()
	s.ev.reason = "reset because the BFD session went down"
	s.ev.mu.Unlock()
	return s.srv.ResetPeer(ctx, &api.ResetPeerRequest{
		Address:       s.peer.Address.String(),
		Communication: "BFD session down",
	})
}

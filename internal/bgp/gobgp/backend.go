package gobgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/bgp/bfd"
)

// Options configure a Backend.
type Options struct {
	// NodeName seeds the router ID of a session that has neither a
	// configured one nor a local IPv4 address.
	NodeName string
	Logger   *slog.Logger
	// GoBGPLogLevel is the lowest level of GoBGP's own logs that reaches
	// Logger; nil means Warn (GoBGP is chatty at Info).
	GoBGPLogLevel slog.Leveler
	Recorder      bgp.Recorder
	// PollInterval paces status and metrics refreshes; 0 means 1 s.
	PollInterval time.Duration
	// BFDListenPort and BFDMultihopListenPort override the local BFD ports
	// (tests); 0 means 3784 and 4784.
	BFDListenPort, BFDMultihopListenPort int
	// BFDPort overrides the remote BFD port (tests); 0 for the standard.
	BFDPort uint16
}

// Backend runs every session on an embedded GoBGP server of its own (see
// the package documentation).
type Backend struct {
	opts Options
	log  *slog.Logger
	rec  bgp.Recorder
	bfd  *bfd.Manager

	running atomic.Bool
	kick    chan struct{}

	mu        sync.Mutex
	peers     map[string]bgp.Peer
	invalid   map[string]error
	ads       map[string]*adSet
	status    map[string]bgp.PeerStatus
	applied   map[string]bgp.Peer // the settings each status belongs to
	bfdEvents []bfd.Event
}

var _ bgp.Backend = (*Backend)(nil)

// New returns a Backend; nothing runs before Run.
func New(opts Options) *Backend {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.GoBGPLogLevel == nil {
		opts.GoBGPLogLevel = slog.LevelWarn
	}
	if opts.Recorder == nil {
		opts.Recorder = bgp.NopRecorder{}
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	b := &Backend{
		opts:    opts,
		log:     opts.Logger,
		rec:     opts.Recorder,
		kick:    make(chan struct{}, 1),
		peers:   map[string]bgp.Peer{},
		invalid: map[string]error{},
		ads:     map[string]*adSet{},
		status:  map[string]bgp.PeerStatus{},
		applied: map[string]bgp.Peer{},
	}
	b.bfd = bfd.NewManager(bfd.Options{
		Logger:             opts.Logger,
		ListenPort:         opts.BFDListenPort,
		MultihopListenPort: opts.BFDMultihopListenPort,
		OnEvent:            b.onBFDEvent,
	})
	return b
}

// SetPeers implements bgp.Backend. An invalid peer is reported in the
// returned error and in its Status, and no session is opened for it.
func (b *Backend) SetPeers(peers []bgp.Peer) error {
	next := make(map[string]bgp.Peer, len(peers))
	invalid := map[string]error{}
	var errs []error
	for _, p := range peers {
		if _, dup := next[p.Name]; dup {
			err := fmt.Errorf("%w %q: listed twice", bgp.ErrInvalidPeer, p.Name)
			errs = append(errs, err)
			invalid[p.Name] = err
			continue
		}
		if p.BFD != nil {
			c := *p.BFD
			p.BFD = &c
		}
		next[p.Name] = p
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
			invalid[p.Name] = err
		}
	}
	b.mu.Lock()
	b.peers, b.invalid = next, invalid
	b.mu.Unlock()
	b.poke()
	return errors.Join(errs...)
}

// SetAdvertisements implements bgp.Backend.
func (b *Backend) SetAdvertisements(peer string, ads []bgp.Advertisement) error {
	set, err := bgp.Normalize(ads)
	if err != nil {
		return fmt.Errorf("advertisements for peer %q: %w", peer, err)
	}
	b.mu.Lock()
	if prev := b.ads[peer]; (prev == nil && len(set) == 0) || (prev != nil && bgp.SetsEqual(prev.all, set)) {
		// A pass that changed nothing for this peer: no work for Run.
		b.mu.Unlock()
		return nil
	}
	if len(set) == 0 {
		delete(b.ads, peer)
	} else {
		b.ads[peer] = &adSet{all: set}
	}
	b.mu.Unlock()
	b.poke()
	return nil
}

// adSet is a peer's advertisements and what its session carries of them,
// worked out once per set and session shape rather than on every pass:
// a speaker with a thousand Services calls for it several times a second
// during a burst.
type adSet struct {
	all map[netip.Prefix]bgp.Advertisement
	// What a session of shape carries of all, and how many prefixes it
	// leaves out; carried is nil until worked out (forSession returns
	// nil only for a nil all, which SetAdvertisements never stores).
	shape   sessionShape
	carried map[netip.Prefix]bgp.Advertisement
	skipped int
}

// sessionShape is what forSession depends on.
type sessionShape struct{ dualStack, v4, ibgp bool }

// forPeer returns forSession(p, a.all), computed at most once per shape.
// The map is shared: callers must not change it. Nil a carries nothing.
func (a *adSet) forPeer(p *bgp.Peer) (map[netip.Prefix]bgp.Advertisement, int) {
	if a == nil {
		return nil, 0
	}
	shape := sessionShape{p.DualStackAddressFamily, p.Address.Is4(), p.IBGP()}
	if a.carried == nil || a.shape != shape {
		a.carried, a.skipped = forSession(p, a.all)
		a.shape = shape
	}
	return a.carried, a.skipped
}

// Status implements bgp.Backend.
func (b *Backend) Status() []bgp.PeerStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]bgp.PeerStatus, 0, len(b.peers))
	for name, p := range b.peers {
		st, ok := b.status[name]
		if ok && !b.applied[name].SessionEqual(p) {
			// SetPeers changed the session and Run has not reopened it
			// yet: report the new session as not started.
			ok = false
		}
		if !ok {
			st = bgp.PeerStatus{Name: name, Peer: p.ID(), State: bgp.StateIdle}
			carried, skipped := b.ads[name].forPeer(&p)
			st.Pending, st.Unsupported = len(carried), skipped
		}
		if err := b.invalid[name]; err != nil {
			st.LastError = err.Error()
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b bgp.PeerStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (b *Backend) poke() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *Backend) onBFDEvent(e bfd.Event) {
	b.mu.Lock()
	b.bfdEvents = append(b.bfdEvents, e)
	b.mu.Unlock()
	b.poke()
}

// runState is what Run owns.
type runState struct {
	sessions map[string]*session
	// started remembers the peers that had a session since Run began: the
	// first session to a peer is a restart from the peer's point of view.
	started map[string]bool
	// startErr holds the last error of a session that could not start.
	startErr map[string]error
}

// Run implements bgp.Backend.
func (b *Backend) Run(ctx context.Context) error {
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("gobgp backend: Run called twice")
	}
	defer b.running.Store(false)

	// BFD gets its own context so that, on shutdown, it stops after the
	// BGP sessions.
	bfdCtx, stopBFD := context.WithCancel(context.WithoutCancel(ctx))
	bfdDone := make(chan error, 1)
	go func() { bfdDone <- b.bfd.Run(bfdCtx) }()

	rs := &runState{sessions: map[string]*session{}, started: map[string]bool{}, startErr: map[string]error{}}
	ticker := time.NewTicker(b.opts.PollInterval)
	defer ticker.Stop()
	refresh := true
	for {
		b.reconcile(ctx, rs)
		if refresh {
			b.refresh(ctx, rs)
			refresh = false
		}
		select {
		case <-ctx.Done():
			withBFD := false
			for name, s := range rs.sessions {
				withBFD = withBFD || s.bfdSet
				s.stop(true)
				b.forget(s, false)
				delete(rs.sessions, name)
			}
			if withBFD {
				// Let the routers see the BGP sessions close (and start
				// graceful restart) before BFD goes administratively
				// down: FRR 8.4 resets a BGP session whose BFD session
				// leaves Up, AdminDown included, which would flush the
				// routes graceful restart keeps.
				time.Sleep(bfdShutdownDelay)
			}
			stopBFD()
			<-bfdDone
			b.mu.Lock()
			b.status, b.applied = map[string]bgp.PeerStatus{}, map[string]bgp.Peer{}
			b.mu.Unlock()
			return nil
		case <-b.kick:
		case <-ticker.C:
			refresh = true
		}
	}
}

// reconcile converges sessions and routes on the desired state and handles
// BFD events.
func (b *Backend) reconcile(ctx context.Context, rs *runState) {
	b.mu.Lock()
	peers := make(map[string]bgp.Peer, len(b.peers))
	for n, p := range b.peers {
		if b.invalid[n] == nil {
			peers[n] = p
		}
	}
	type carried struct {
		ads     map[netip.Prefix]bgp.Advertisement
		skipped int
	}
	ads := make(map[string]carried, len(peers))
	for n, p := range peers {
		c, skipped := b.ads[n].forPeer(&p)
		ads[n] = carried{c, skipped}
	}
	events := b.bfdEvents
	b.bfdEvents = nil
	b.mu.Unlock()

	for _, e := range events {
		b.handleBFD(ctx, rs, e)
	}

	for name, s := range rs.sessions {
		p, ok := peers[name]
		switch {
		case !ok:
			b.log.Info("closing BGP session", "peer", s.peer.ID())
			s.stop(false)
			b.forget(s, true)
			delete(rs.sessions, name)
		case !p.SessionEqual(s.peer):
			b.log.Info("BGP session settings changed, reopening it", "peer", p.ID())
			s.stop(false)
			b.forget(s, !p.BFDEqual(s.peer))
			delete(rs.sessions, name)
		case !p.BFDEqual(s.peer):
			s.peer.BFD = p.BFD
		}
	}
	fresh := map[string]bgp.PeerStatus{}
	for name, p := range peers {
		carried, skipped := ads[name].ads, ads[name].skipped
		s, ok := rs.sessions[name]
		if !ok {
			var err error
			s, err = b.startSession(ctx, p, carried, !rs.started[name])
			if err != nil {
				if prev := rs.startErr[name]; prev == nil || prev.Error() != err.Error() {
					b.log.Error("cannot open BGP session", "peer", p.ID(), "error", err)
				}
				rs.startErr[name] = err
				continue
			}
			delete(rs.startErr, name)
			rs.started[name] = true
			rs.sessions[name] = s
			st := s.status(len(carried))
			st.Unsupported = skipped
			fresh[name] = st
			b.log.Info("opening BGP session", "peer", p.ID(), "routerID", s.routerID)
			continue
		}
		if err := s.sync(carried); err != nil {
			b.log.Error("cannot update routes", "peer", p.ID(), "error", err)
		}
	}
	for _, s := range rs.sessions {
		b.syncBFD(s)
	}
	// Publish what changed right away; counters follow on the next tick.
	b.mu.Lock()
	for name := range b.status {
		if _, ok := rs.sessions[name]; !ok {
			delete(b.status, name)
			delete(b.applied, name)
		}
	}
	for name, st := range fresh {
		b.status[name], b.applied[name] = st, rs.sessions[name].peer
	}
	for name, err := range rs.startErr {
		if p, ok := peers[name]; ok {
			b.status[name] = bgp.PeerStatus{Name: name, Peer: p.ID(), State: bgp.StateIdle, LastError: err.Error()}
			b.applied[name] = p
		} else {
			delete(rs.startErr, name)
		}
	}
	b.mu.Unlock()
}

// syncBFD starts, changes or stops the BFD session of s. A BFD session
// starts only once its BGP session has been Established, and then keeps
// running across BGP resets: FRR registers a BFD session for a neighbor
// before knowing the local address, and replaces it when the BGP session
// comes up; if that first BFD session was Up, FRR resets the new BGP
// session ("BFD down", Cease subcode 10). Started late, this side never
// lets FRR's placeholder session come Up.
func (b *Backend) syncBFD(s *session) {
	p := s.peer
	if p.BFD == nil {
		if s.bfdSet {
			b.bfd.Remove(p.Name)
		}
		s.bfdSet, s.bfdSpec, s.bfdState = false, bfd.Spec{}, ""
		return
	}
	spec := bfd.Spec{
		Peer:     p.Address,
		Local:    p.SourceAddress,
		VRF:      p.VRF,
		Multihop: p.EBGPMultiHop,
		MinTTL:   p.BFD.MinimumTTL,
		Port:     b.opts.BFDPort,
		Config: bfd.Config{
			DesiredMinTx:  p.BFD.TransmitInterval,
			RequiredMinRx: p.BFD.ReceiveInterval,
			DetectMult:    p.BFD.DetectMultiplier,
			Passive:       p.BFD.PassiveMode,
		},
	}
	if p.BFD.EchoMode {
		// Like FRR's "echo-mode" with the profile's echoInterval as both
		// "echo transmit-interval" and "echo receive-interval".
		spec.Config.EchoTx, spec.Config.EchoRx = p.BFD.EchoInterval, p.BFD.EchoInterval
	}
	if !s.bfdSet {
		st, running := b.bfd.Status(p.Name)
		switch {
		case running:
			// A BGP session reopened under a running BFD session.
			s.bfdSet, s.bfdState = true, bgp.BFDDown
			if st.State == bfd.StateUp {
				s.bfdState, s.bfdUpAt = bgp.BFDUp, time.Now()
			}
		case !s.established():
			s.bfdState = bgp.BFDDown
			return
		}
	}
	if !s.bfdSet || spec != s.bfdSpec {
		b.bfd.Set(p.Name, spec)
		s.bfdSet, s.bfdSpec = true, spec
		if s.bfdState == "" {
			s.bfdState = bgp.BFDDown
		}
	}
}

// handleBFD reacts to a BFD state change: a failure (Up to Down, unless the
// peer took BFD down on purpose) resets the BGP session at once.
func (b *Backend) handleBFD(ctx context.Context, rs *runState, e bfd.Event) {
	s, ok := rs.sessions[e.Key]
	if !ok || s.peer.BFD == nil || s.peer.Address != e.Peer {
		return
	}
	switch e.State {
	case bfd.StateUp:
		s.bfdState = bgp.BFDUp
		s.bfdUpAt = e.At
	case bfd.StateInit:
		s.bfdState = bgp.BFDInit
	case bfd.StateDown:
		s.bfdState = bgp.BFDDown
	case bfd.StateAdminDown:
		s.bfdState = bgp.BFDAdminDown
	}
	// Every state change reaches the BGP session: FRR counts these as
	// bfdd's notifications to zebra (for bgpd).
	b.rec.BFDNotification(e.Peer.String())
	if e.State == bfd.StateUp || e.Previous == bfd.StateUp {
		b.rec.BFDSessionUp(e.Peer.String(), e.State == bfd.StateUp)
	}
	if e.Previous != bfd.StateUp || e.State != bfd.StateDown || e.Remote == bfd.StateAdminDown {
		return
	}
	s.ev.mu.Lock()
	established, since := s.ev.state == bgp.StateEstablished, s.ev.since
	s.ev.mu.Unlock()
	switch {
	case !established:
		// Nothing to tear down.
	case s.bfdUpAt.Before(since) && e.At.Sub(since) < bfdSettle:
		// FRR registers a BFD session before the BGP session is up and
		// replaces it, with a new discriminator and starting Down, once
		// the BGP session gives it a source address. That is not a path
		// failure; the new BFD session comes up within seconds.
		b.log.Info("BFD session restarted by the peer as the BGP session came up", "peer", s.peer.ID())
	default:
		b.log.Warn("BFD session down, resetting the BGP session", "peer", s.peer.ID(), "diag", e.Diag.String())
		if err := s.resetForBFD(ctx); err != nil {
			b.log.Error("cannot reset BGP session", "peer", s.peer.ID(), "error", err)
		}
	}
}

// bfdShutdownDelay separates the end of the BGP sessions from the end of
// the BFD sessions when Run returns.
const bfdShutdownDelay = 250 * time.Millisecond

// bfdSettle is how long after a BGP session comes up a BFD Down is taken
// for the peer replacing its BFD session (see handleBFD) rather than a
// failure, when the BFD session was already Up before the BGP session.
const bfdSettle = 3 * time.Second

// forget drops the metrics series of a closed session.
func (b *Backend) forget(s *session, dropBFD bool) {
	if s.reported == bgp.StateEstablished {
		b.rec.SessionUp(s.peer.ID(), false)
	}
	bfdPeer := ""
	if s.peer.BFD != nil {
		bfdPeer = s.peer.Address.String()
		if dropBFD {
			b.bfd.Remove(s.peer.Name)
		}
	}
	b.rec.PeerRemoved(s.peer.ID(), bfdPeer)
}

// refresh reads every session's counters and publishes the statuses.
func (b *Backend) refresh(ctx context.Context, rs *runState) {
	now := time.Now()
	b.mu.Lock()
	desired := make(map[string]int, len(rs.sessions))
	skipped := make(map[string]int, len(rs.sessions))
	for name, s := range rs.sessions {
		carried, n := b.ads[name].forPeer(&s.peer)
		desired[name], skipped[name] = len(carried), n
	}
	b.mu.Unlock()
	statuses := make(map[string]bgp.PeerStatus, len(rs.sessions))
	for name, s := range rs.sessions {
		st := s.refresh(ctx, now, desired[name], b.rec, b.log)
		st.Unsupported = skipped[name]
		if s.bfdSet {
			if bst, ok := b.bfd.Status(s.peer.Name); ok {
				s.refreshBFD(bst, b.rec)
			}
		}
		statuses[name] = st
	}
	b.mu.Lock()
	for name, st := range statuses {
		b.status[name], b.applied[name] = st, rs.sessions[name].peer
	}
	b.mu.Unlock()
}

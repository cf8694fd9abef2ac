package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// leaveTimeout bounds the graceful leave broadcast on stop, as MetalLB does.
const leaveTimeout = time.Second

// Membership tells which speakers are live. Create it with New, start it
// with Run; the query methods are safe from any goroutine.
type Membership struct {
	cfg    Config
	log    *slog.Logger
	rec    Recorder
	mlConf *memberlist.Config

	changes chan struct{} // to the user, coalesced
	wake    chan struct{} // delegate -> Run loop: re-evaluate now
	rejoin  chan struct{} // SetPeers/Rejoin -> join loop
	started atomic.Bool

	mu       sync.Mutex
	tracker  *Tracker
	members  map[string]memberlist.Node // other members, copied from events
	peers    []netip.AddrPort
	self     netip.AddrPort // advertised address; set by Run
	joined   bool           // the first join attempt is over
	running  bool
	live     []string // published view
	isolated bool     // published view

	// Test hooks: cut heartbeats without touching memberlist, and stop
	// without the graceful leave.
	dropOutgoing atomic.Bool
	dropIncoming atomic.Bool
	skipLeave    atomic.Bool
}

// New validates cfg and prepares memberlist. It starts nothing: Run does.
func New(cfg Config, log *slog.Logger) (*Membership, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mlc, unknown, found, err := baseConfig(cfg.WAN, cfg.ConfigFile)
	if err != nil {
		return nil, err
	}
	if found {
		log.Info("memberlist configuration loaded", "path", cfg.ConfigFile)
	}
	if len(unknown) > 0 {
		log.Warn("memberlist configuration has unknown keys, ignoring them", "path", cfg.ConfigFile, "keys", unknown)
	}
	mlc.Name = cfg.NodeName
	mlc.BindAddr = cfg.BindAddr
	mlc.BindPort = cfg.BindPort
	mlc.AdvertisePort = cfg.BindPort
	if addr := netip.MustParseAddr(cfg.BindAddr); !addr.IsUnspecified() {
		mlc.AdvertiseAddr = cfg.BindAddr
	}
	if cfg.Secret == "" {
		log.Warn("no memberlist secret key set, memberlist traffic will not be encrypted")
	} else {
		mlc.SecretKey = DeriveKey(cfg.Secret)
	}
	mlc.Logger = newMemberlistLogger(log)

	m := &Membership{
		cfg:      cfg,
		log:      log,
		rec:      cfg.Recorder,
		mlConf:   mlc,
		changes:  make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
		rejoin:   make(chan struct{}, 1),
		tracker:  newTracker(cfg),
		members:  map[string]memberlist.Node{},
		peers:    parsePeers(cfg.Peers, cfg.BindPort, log),
		live:     []string{cfg.NodeName},
		isolated: true,
	}
	if m.rec == nil {
		m.rec = nopRecorder{}
	}
	d := &delegate{m: m}
	mlc.Delegate = d
	mlc.Events = d
	return m, nil
}

// Live returns the sorted names of the live speakers, this one included.
// Before Run it is just this speaker.
func (m *Membership) Live() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.live)
}

// Isolated reports whether this speaker must not announce: it is in
// two-way contact with no strict majority of the known speakers (three or
// more), or Run has not finished its first join attempt, or it stopped.
func (m *Membership) Isolated() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.isolated
}

// Changes receives a value after Live or Isolated changed. Notifications
// coalesce (buffer of one): read Live and Isolated after each.
func (m *Membership) Changes() <-chan struct{} { return m.changes }

// SetPeers replaces the addresses to join ("ip" or "ip:port") and, when
// they changed, joins those that are not members without waiting.
func (m *Membership) SetPeers(addrs []string) {
	peers := parsePeers(addrs, m.cfg.BindPort, m.log)
	m.mu.Lock()
	same := slices.Equal(peers, m.peers)
	m.peers = peers
	m.mu.Unlock()
	if !same {
		m.Rejoin()
	}
}

// Rejoin asks the join loop to join the peers that are not members now.
// It never blocks; requests made while a join is pending coalesce.
func (m *Membership) Rejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// Run starts memberlist, joins the peers, sends heartbeats and keeps the
// published view current until ctx ends; then it leaves (1 s), shuts
// memberlist down and waits for its goroutines. It may be called once.
func (m *Membership) Run(ctx context.Context) error {
	if !m.started.CompareAndSwap(false, true) {
		return errors.New("membership: Run called twice")
	}
	t, err := newTransport(net.ParseIP(m.cfg.BindAddr), m.cfg.BindPort, m.log)
	if err != nil {
		return fmt.Errorf("starting memberlist: %w", err)
	}
	m.mlConf.Transport = t
	ml, err := memberlist.Create(m.mlConf)
	if err != nil {
		t.Shutdown()
		return fmt.Errorf("starting memberlist on %s:%d: %w", m.cfg.BindAddr, m.cfg.BindPort, err)
	}
	local := ml.LocalNode()
	m.mu.Lock()
	m.self = toAddrPort(local.Addr, local.Port)
	m.running = true
	m.mu.Unlock()
	m.log.Info("memberlist started", "addr", m.self.String(), "encrypted", len(m.mlConf.SecretKey) > 0)

	var wg sync.WaitGroup
	wg.Go(func() { m.joinLoop(ctx, ml) })

	ticker := time.NewTicker(m.cfg.HeartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			m.stop(ml, &wg)
			return nil
		case <-ticker.C:
			m.refresh()
			m.sendHeartbeats(ml, false)
		case <-m.wake:
			m.refresh()
		}
	}
}

func (m *Membership) stop(ml *memberlist.Memberlist, wg *sync.WaitGroup) {
	m.mu.Lock()
	m.running = false
	m.mu.Unlock()
	m.refresh()
	if !m.skipLeave.Load() {
		// The goodbye lets peers forget us at once rather than count us
		// as failed; it goes twice because it travels over UDP.
		m.sendHeartbeats(ml, true)
		m.sendHeartbeats(ml, true)
		if err := ml.Leave(leaveTimeout); err != nil {
			m.log.Warn("memberlist leave failed", "error", err)
		}
	}
	if err := ml.Shutdown(); err != nil {
		m.log.Warn("memberlist shutdown failed", "error", err)
	}
	// A join in flight ends within memberlist's TCPTimeout.
	wg.Wait()
	m.log.Info("memberlist stopped")
}

// refresh recomputes the view and notifies when it changed. Only the Run
// goroutine calls it, so the published view has a single writer.
func (m *Membership) refresh() {
	m.mu.Lock()
	st := m.tracker.Status()
	reason := ""
	switch {
	case !m.running:
		reason = "stopped"
	case !m.joined:
		reason = "joining"
	case st.Isolated:
		reason = "noMajority"
	}
	isolated := reason != ""
	prev := m.live
	changed := isolated != m.isolated || !slices.Equal(prev, st.Live)
	if changed {
		m.live, m.isolated = st.Live, isolated
	}
	m.mu.Unlock()
	if !changed {
		return
	}
	for _, p := range st.Live {
		if !slices.Contains(prev, p) {
			m.log.Info("speaker live", "peer", p)
		}
	}
	for _, p := range prev {
		if !slices.Contains(st.Live, p) {
			m.log.Info("speaker dead", "peer", p)
		}
	}
	m.log.Info("live speakers changed", "live", st.Live, "known", st.Known,
		"reachable", st.Reachable, "isolated", isolated, "reason", reason)
	m.rec.StatusChanged(len(st.Live), st.Known, isolated)
	select {
	case m.changes <- struct{}{}:
	default:
	}
}

func (m *Membership) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// sendHeartbeats sends one heartbeat (or goodbye) to every member that
// advertises them. The lock is released before any I/O.
func (m *Membership) sendHeartbeats(ml *memberlist.Memberlist, leaving bool) {
	if m.dropOutgoing.Load() {
		return
	}
	type outgoing struct {
		node memberlist.Node
		msg  []byte
	}
	m.mu.Lock()
	out := make([]outgoing, 0, len(m.members))
	for name, n := range m.members {
		if !heartbeatCapable(n.Meta) {
			continue
		}
		hb := heartbeat{From: m.cfg.NodeName, To: name, HearsYou: m.tracker.Hears(name), Leaving: leaving}
		msg, err := hb.marshal()
		if err != nil {
			continue // a peer name longer than 255 bytes: not a Kubernetes node
		}
		out = append(out, outgoing{node: n, msg: msg})
	}
	m.mu.Unlock()
	for i := range out {
		err := ml.SendBestEffort(&out[i].node, out[i].msg)
		m.rec.HeartbeatSent(err == nil)
		if err != nil {
			m.log.Debug("heartbeat not sent", "peer", out[i].node.Name, "error", err)
		}
	}
}

// heard handles a user message (called by memberlist's packet goroutine).
func (m *Membership) heard(b []byte) {
	if m.dropIncoming.Load() {
		return
	}
	hb, err := parseHeartbeat(b)
	if err != nil || hb.To != m.cfg.NodeName {
		m.rec.HeartbeatReceived(false)
		return
	}
	m.rec.HeartbeatReceived(true)
	m.mu.Lock()
	changed := true
	if hb.Leaving {
		m.tracker.Goodbye(hb.From)
	} else {
		changed = m.tracker.Heard(hb.From, hb.HearsYou)
	}
	m.mu.Unlock()
	if changed {
		m.poke()
	}
}

// memberUp handles a join or metadata update (called with memberlist's
// node lock held: it must not call memberlist).
func (m *Membership) memberUp(n *memberlist.Node, join bool) {
	if n.Name == m.cfg.NodeName {
		return
	}
	c := *n
	c.Addr = slices.Clone(n.Addr)
	c.Meta = slices.Clone(n.Meta)
	m.mu.Lock()
	m.members[c.Name] = c
	m.tracker.Joined(c.Name, heartbeatCapable(c.Meta))
	m.mu.Unlock()
	if join {
		m.log.Info("memberlist member joined", "peer", c.Name, "addr", c.Address(), "heartbeats", heartbeatCapable(c.Meta))
	}
	m.poke()
}

// memberDown handles a failure or a leave (node lock held).
func (m *Membership) memberDown(n *memberlist.Node) {
	if n.Name == m.cfg.NodeName {
		return
	}
	m.mu.Lock()
	delete(m.members, n.Name)
	m.tracker.Left(n.Name)
	m.mu.Unlock()
	m.log.Info("memberlist member gone", "peer", n.Name)
	m.poke()
}

// delegate plugs Membership into memberlist without exporting the hooks.
type delegate struct{ m *Membership }

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
)

func (d *delegate) NodeMeta(limit int) []byte {
	if len(heartbeatMeta) > limit {
		return nil
	}
	return []byte(heartbeatMeta)
}
func (d *delegate) NotifyMsg(b []byte)              { d.m.heard(b) }
func (d *delegate) GetBroadcasts(_, _ int) [][]byte { return nil }
func (d *delegate) LocalState(bool) []byte          { return nil }
func (d *delegate) MergeRemoteState([]byte, bool)   {}
func (d *delegate) NotifyJoin(n *memberlist.Node)   { d.m.memberUp(n, true) }
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.m.memberUp(n, false) }
func (d *delegate) NotifyLeave(n *memberlist.Node)  { d.m.memberDown(n) }

func newTracker(cfg Config) *Tracker {
	t := NewTracker(cfg.NodeName, cfg.DeadAfter, cfg.ForgetAfter, systemClock{})
	t.SetWarmup(cfg.Warmup)
	return t
}

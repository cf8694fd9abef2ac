package responder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

// DefaultSchedule is when gratuitous announcements go out, measured from
// the moment an IP becomes owned on the interface: at once, then with a
// roughly doubling back-off, for about five seconds in all. The early
// repeats cover a lost first frame within a fraction of a second; the late
// ones cover peers and switch ports that were not ready yet (MetalLB repeats
// every 1.1 s for 5 s; this schedule spans the same time with 7 bursts).
var DefaultSchedule = []time.Duration{
	0,
	100 * time.Millisecond,
	300 * time.Millisecond,
	700 * time.Millisecond,
	1500 * time.Millisecond,
	3 * time.Second,
	5 * time.Second,
}

// Config describes one interface's responder.
type Config struct {
	// Interface is the interface name, used in logs.
	Interface string
	// MAC is the interface's hardware address: the answer to every request.
	MAC wire.MAC
	// ARP is the socket for ARP; nil means IPv4 is not served here (for
	// example an interface without the BROADCAST flag).
	ARP FrameConn
	// NDP is the socket for IPv6 Neighbor Discovery; nil means IPv6 is not
	// served here.
	NDP NDPConn
	// LinkLocalSource makes Neighbor Advertisements come from the
	// interface's link-local address (see SetSource) when it has one, as
	// MetalLB does. By default they come from their target address, as the
	// Linux kernel's do for its own addresses; some tools (ndisc6) discard
	// an advertisement for a global target that comes from a link-local
	// source.
	LinkLocalSource bool
	// Schedule holds the offsets of the gratuitous bursts; nil means
	// DefaultSchedule, an empty non-nil slice means none.
	Schedule []time.Duration
	// Recorder receives the per-IP counts; nil means none.
	Recorder Recorder
	// Logger receives debug and error logs; nil means none.
	Logger *slog.Logger
}

// Responder answers ARP and NDP for the IPs it owns on one interface. Its
// methods are safe for concurrent use, except that SetAddrs calls are
// serialized internally and Run may be called only once.
type Responder struct {
	name     string
	mac      wire.MAC
	arp      FrameConn
	ndp      NDPConn
	schedule []time.Duration
	llSource bool
	rec      Recorder
	log      *slog.Logger

	setMu  sync.Mutex         // serializes SetAddrs
	joined map[netip.Addr]int // solicited-node group -> owned IPs in it; guarded by setMu

	mu      sync.Mutex
	owned   map[netip.Addr]struct{}
	source  netip.Addr // preferred NA source: a link-local address, or invalid
	pending map[netip.Addr]*announcement

	wake      chan struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// announcement tracks one IP's progress through the schedule.
type announcement struct {
	start time.Time
	next  int // index of the next burst in the schedule
}

// New checks cfg and returns a Responder that owns no IP yet. The
// Responder owns the sockets from now on: Close or the end of Run closes
// them.
func New(cfg Config) (*Responder, error) {
	if cfg.ARP == nil && cfg.NDP == nil {
		return nil, fmt.Errorf("responder for %q: neither an ARP nor an NDP socket", cfg.Interface)
	}
	if cfg.MAC == (wire.MAC{}) || cfg.MAC.IsMulticast() {
		return nil, fmt.Errorf("responder for %q: unusable hardware address %v", cfg.Interface, cfg.MAC)
	}
	r := &Responder{
		name:     cfg.Interface,
		mac:      cfg.MAC,
		arp:      cfg.ARP,
		ndp:      cfg.NDP,
		schedule: cfg.Schedule,
		llSource: cfg.LinkLocalSource,
		rec:      cfg.Recorder,
		log:      cfg.Logger,
		joined:   map[netip.Addr]int{},
		owned:    map[netip.Addr]struct{}{},
		pending:  map[netip.Addr]*announcement{},
		wake:     make(chan struct{}, 1),
	}
	if r.schedule == nil {
		r.schedule = DefaultSchedule
	}
	r.schedule = slices.Clone(r.schedule)
	slices.Sort(r.schedule)
	if r.rec == nil {
		r.rec = NopRecorder{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("interface", r.name)
	return r, nil
}

// Serves reports whether this responder can answer for ip: IPv4 needs the
// ARP socket, IPv6 the NDP socket.
func (r *Responder) Serves(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case ip.Is4():
		return r.arp != nil
	case ip.Is6():
		return r.ndp != nil
	}
	return false
}

// SetSource records the interface's link-local address, the source of
// Neighbor Advertisements when Config.LinkLocalSource is set. Anything but
// an IPv6 link-local unicast address (including the zero Addr) means the
// interface has none: advertisements then come from their target.
func (r *Responder) SetSource(ip netip.Addr) {
	if !ip.Is6() || !ip.IsLinkLocalUnicast() {
		ip = netip.Addr{}
	}
	r.mu.Lock()
	r.source = ip.WithZone("")
	r.mu.Unlock()
}

// SetAddrs replaces the set of owned IPs. IPs this responder cannot serve
// are ignored. Removed IPs stop being answered before SetAddrs returns;
// added IPs are answered at once and announced on the schedule. The error
// reports multicast groups that could not be joined; those IPs are owned
// anyway (ARP-style unicast solicitations still work) and the join is
// retried on the next call.
func (r *Responder) SetAddrs(ips []netip.Addr) error {
	r.setMu.Lock()
	defer r.setMu.Unlock()

	want := make(map[netip.Addr]struct{}, len(ips))
	groups := map[netip.Addr]int{}
	for _, ip := range ips {
		ip = ip.Unmap().WithZone("")
		if !r.Serves(ip) {
			continue
		}
		if _, dup := want[ip]; dup {
			continue
		}
		want[ip] = struct{}{}
		if ip.Is6() {
			groups[wire.SolicitedNode(ip)]++
		}
	}

	// Join new groups before the IPs become owned, leave old ones after.
	var errs []error
	for g, n := range groups {
		if r.joined[g] == 0 {
			if err := r.ndp.JoinGroup(g); err != nil {
				errs = append(errs, fmt.Errorf("join %v on %s: %w", g, r.name, err))
				continue
			}
			r.log.Debug("joined solicited-node group", "group", g)
		}
		r.joined[g] = n
	}

	now := time.Now()
	added := false
	r.mu.Lock()
	for ip := range r.owned {
		if _, ok := want[ip]; !ok {
			delete(r.owned, ip)
			delete(r.pending, ip)
		}
	}
	for ip := range want {
		if _, ok := r.owned[ip]; !ok {
			r.owned[ip] = struct{}{}
			if len(r.schedule) > 0 {
				r.pending[ip] = &announcement{start: now}
				added = true
			}
		}
	}
	r.mu.Unlock()
	if added {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}

	for g := range r.joined {
		if groups[g] == 0 {
			delete(r.joined, g)
			if err := r.ndp.LeaveGroup(g); err != nil {
				// Closing the socket drops the membership in the end.
				r.log.Warn("cannot leave solicited-node group", "group", g, "error", err)
			}
		}
	}
	return errors.Join(errs...)
}

// Owned returns the owned IPs, sorted.
func (r *Responder) Owned() []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]netip.Addr, 0, len(r.owned))
	for ip := range r.owned {
		out = append(out, ip)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

func (r *Responder) owns(ip netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.owned[ip]
	return ok
}

// naSource returns the source for an advertisement about target.
func (r *Responder) naSource(target netip.Addr) netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.llSource && r.source.IsValid() {
		return r.source
	}
	return target
}

// Close closes the sockets; a running Run returns. It is idempotent.
func (r *Responder) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		var errs []error
		if r.arp != nil {
			errs = append(errs, r.arp.Close())
		}
		if r.ndp != nil {
			errs = append(errs, r.ndp.Close())
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// Run answers requests and sends the gratuitous announcements until ctx
// ends (it then returns nil) or a socket fails (it returns the error).
// Either way the sockets are closed on return.
func (r *Responder) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	loops := 1
	go func() { errc <- r.announceLoop(ctx) }()
	if r.arp != nil {
		loops++
		go func() { errc <- r.readLoop(r.arp, r.arpReply) }()
	}
	if r.ndp != nil {
		loops++
		go func() { errc <- r.readLoop(r.ndp, r.naReply) }()
	}

	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
		loops--
	}
	cancel()
	_ = r.Close()
	for ; loops > 0; loops-- {
		if err := <-errc; first == nil {
			first = err
		}
	}
	return first
}

package announcer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ferrolb/ferrolb/internal/l2/netif"
	"github.com/ferrolb/ferrolb/internal/l2/rawsock"
	"github.com/ferrolb/ferrolb/internal/l2/responder"
)

// ErrNoInterface means an IP is announced on no interface: none of the
// requested interfaces exists here and is usable for its family.
var ErrNoInterface = errors.New("no usable interface")

// DefaultRescan is how often interfaces are listed again (MetalLB: 10 s).
const DefaultRescan = 10 * time.Second

// Spec says where to announce one IP.
type Spec struct {
	// AllInterfaces announces on every usable interface.
	AllInterfaces bool
	// Interfaces lists interface names; ignored when AllInterfaces is set.
	Interfaces []string
}

// Status is the outcome for one IP.
type Status struct {
	// Interfaces that announce the IP, sorted.
	Interfaces []string
	// Err is set when Interfaces is empty; it wraps ErrNoInterface.
	Err error
}

// Sockets are the sockets of one interface's responder; ARP is nil on an
// interface that serves no IPv4.
type Sockets struct {
	ARP responder.FrameConn
	NDP responder.NDPConn
}

// Config configures an Announcer. Zero values pick the defaults.
type Config struct {
	// Lister lists interfaces; nil means netif.System{}.
	Lister netif.Lister
	// Exclude holds interface name patterns to skip; nil means
	// netif.DefaultExclude.
	Exclude []string
	// Open opens an interface's sockets; nil means AF_PACKET sockets
	// (package rawsock). ipv4 says whether an ARP socket is wanted.
	Open func(ifc netif.Interface, ipv4 bool) (Sockets, error)
	// Rescan is the interface rescan period; 0 means DefaultRescan.
	Rescan time.Duration
	// Schedule is the gratuitous announcement schedule; nil means
	// responder.DefaultSchedule.
	Schedule []time.Duration
	// LinkLocalSource sources Neighbor Advertisements from the interface's
	// link-local address when it has one (MetalLB's choice) instead of from
	// their target (the default, as the Linux kernel does); see package
	// responder.
	LinkLocalSource bool
	// Recorder receives per-IP counts; nil means none.
	Recorder responder.Recorder
	// Logger; nil means none.
	Logger *slog.Logger
	// Notify, if set, is called from Run's goroutine (no lock held) when a
	// rescan or a failed responder changed Status.
	Notify func()
}

// Announcer keeps the responders of this node in line with the desired
// announcements.
type Announcer struct {
	lister   netif.Lister
	filter   *netif.Filter
	open     func(netif.Interface, bool) (Sockets, error)
	rescan   time.Duration
	schedule []time.Duration
	llSource bool
	rec      responder.Recorder
	log      *slog.Logger
	notify   func()

	mu         sync.Mutex
	desired    map[netip.Addr]Spec
	scanned    bool
	ifaces     map[string]netif.Interface // usable interfaces of the last scan
	skipped    map[string]string          // the others, with the reason
	scanErr    error
	failed     map[string]error // interfaces left out until the next rescan
	responders map[string]*entry
	status     map[netip.Addr]Status

	kick      chan struct{} // responders waiting to be started
	rescanReq chan struct{}
	exited    chan exit
}

type entry struct {
	ifc     netif.Interface
	r       *responder.Responder
	cancel  context.CancelFunc // nil until started
	stopped bool
}

type exit struct {
	e   *entry
	err error
}

// New checks cfg. It starts nothing: call Run.
func New(cfg Config) (*Announcer, error) {
	f, err := netif.NewFilter(cfg.Exclude)
	if err != nil {
		return nil, err
	}
	a := &Announcer{
		lister:     cfg.Lister,
		filter:     f,
		open:       cfg.Open,
		rescan:     cfg.Rescan,
		schedule:   cfg.Schedule,
		llSource:   cfg.LinkLocalSource,
		rec:        cfg.Recorder,
		log:        cfg.Logger,
		notify:     cfg.Notify,
		desired:    map[netip.Addr]Spec{},
		ifaces:     map[string]netif.Interface{},
		skipped:    map[string]string{},
		failed:     map[string]error{},
		responders: map[string]*entry{},
		status:     map[netip.Addr]Status{},
		kick:       make(chan struct{}, 1),
		rescanReq:  make(chan struct{}, 1),
		exited:     make(chan exit),
	}
	if a.lister == nil {
		a.lister = netif.System{}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.open == nil {
		a.open = func(ifc netif.Interface, ipv4 bool) (Sockets, error) { return OpenPacket(ifc, ipv4, a.log) }
	}
	if a.rescan <= 0 {
		a.rescan = DefaultRescan
	}
	if a.notify == nil {
		a.notify = func() {}
	}
	return a, nil
}

// OpenPacket opens the AF_PACKET sockets of one interface (package
// rawsock): an ARP socket when ipv4 is set, and an NDP socket.
func OpenPacket(ifc netif.Interface, ipv4 bool, log *slog.Logger) (Sockets, error) {
	ifi := &net.Interface{Index: ifc.Index, Name: ifc.Name, HardwareAddr: ifc.MAC}
	var s Sockets
	if ipv4 {
		c, err := rawsock.OpenARP(ifi)
		if err != nil {
			return Sockets{}, err
		}
		s.ARP = c
	}
	c, err := rawsock.OpenNDP(ifi, log)
	if err != nil {
		if s.ARP != nil {
			_ = s.ARP.Close()
		}
		return Sockets{}, err
	}
	s.NDP = c
	return s, nil
}

// SetDesired replaces the whole desired set and applies it before
// returning: IPs no longer desired on an interface are not answered there
// any more, new ones are answered and announced. It may be called before
// Run (responders then start when Run does). The result holds one Status
// per desired IP.
func (a *Announcer) SetDesired(desired map[netip.Addr]Spec) map[netip.Addr]Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.desired = make(map[netip.Addr]Spec, len(desired))
	for ip, s := range desired {
		a.desired[ip.Unmap().WithZone("")] = Spec{AllInterfaces: s.AllInterfaces, Interfaces: slices.Clone(s.Interfaces)}
	}
	if !a.scanned {
		a.scanLocked()
	}
	a.applyLocked()
	return a.statusLocked()
}

// Status returns the current outcome per desired IP.
func (a *Announcer) Status() map[netip.Addr]Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.statusLocked()
}

// Rescan asks Run to list the interfaces again now.
func (a *Announcer) Rescan() {
	select {
	case a.rescanReq <- struct{}{}:
	default:
	}
}

// Run starts and supervises the responders and rescans interfaces until
// ctx ends; it then stops every responder and returns nil. Call it once.
func (a *Announcer) Run(ctx context.Context) error {
	a.mu.Lock()
	before := a.statusLocked()
	a.scanLocked()
	a.applyLocked()
	changed := !statusEqual(before, a.statusLocked())
	a.mu.Unlock()
	if changed {
		a.notify()
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	ticker := time.NewTicker(a.rescan)
	defer ticker.Stop()
	for {
		a.startPending(ctx, &wg)
		select {
		case <-ctx.Done():
			a.stopAll()
			return nil
		case <-a.kick:
		case <-ticker.C:
			a.refresh(true, nil)
		case <-a.rescanReq:
			a.refresh(true, nil)
		case ex := <-a.exited:
			a.refresh(false, &ex)
		}
	}
}

// refresh rescans (if asked) and/or handles a responder that ended, then
// reapplies and notifies on a status change.
func (a *Announcer) refresh(scan bool, ex *exit) {
	a.mu.Lock()
	before := a.statusLocked()
	if ex != nil {
		name := ex.e.ifc.Name
		if cur := a.responders[name]; cur == ex.e {
			// Ended without being asked to: its socket failed.
			err := ex.err
			if err == nil {
				err = errors.New("responder stopped")
			}
			a.log.Error("layer 2 responder failed; interface left out until the next rescan", "interface", name, "error", err)
			a.failed[name] = err
			delete(a.responders, name)
			ex.e.r.Close()
		}
	}
	if scan {
		a.scanLocked()
	}
	a.applyLocked()
	after := a.statusLocked()
	a.mu.Unlock()
	if !statusEqual(before, after) {
		a.notify()
	}
}

// startPending starts the responders that are not running yet.
func (a *Announcer) startPending(ctx context.Context, wg *sync.WaitGroup) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.responders {
		if e.cancel != nil || e.stopped {
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		e.cancel = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := e.r.Run(rctx)
			select {
			case a.exited <- exit{e: e, err: err}:
			case <-ctx.Done():
			}
		}()
	}
}

func (a *Announcer) stopAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for name, e := range a.responders {
		a.stopLocked(e)
		delete(a.responders, name)
	}
	a.status = map[netip.Addr]Status{}
	for ip := range a.desired {
		a.status[ip] = Status{Err: fmt.Errorf("%w for %v: announcer stopped", ErrNoInterface, ip)}
	}
}

func (a *Announcer) stopLocked(e *entry) {
	e.stopped = true
	if e.cancel != nil {
		e.cancel()
	}
	// Close at once, so nothing more is answered even before Run notices.
	_ = e.r.Close()
}

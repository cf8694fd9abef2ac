package bfd

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// The UDP ports of RFC 5881 (single hop) and RFC 5883 (multi hop).
const (
	SingleHopPort = 3784
	MultihopPort  = 4784
)

// DefaultMinTTL is the lowest TTL accepted on a multi-hop session whose
// Spec leaves MinTTL at 0 (FRR's default).
const DefaultMinTTL = 254

// Spec describes one session to run.
type Spec struct {
	// Peer is the remote address.
	Peer netip.Addr
	// Local, when valid, is the source address of the packets.
	Local netip.Addr
	// VRF is a Linux VRF device to bind the sockets to; empty for none.
	VRF string
	// Multihop runs RFC 5883 (port 4784, TTL at least MinTTL) instead of
	// single hop (port 3784, TTL exactly 255).
	Multihop bool
	MinTTL   uint8
	// Port overrides the remote port (tests); 0 for the standard one.
	Port   uint16
	Config Config
}

// sameTransport reports whether a and b differ at most in Config.
func (s Spec) sameTransport(o Spec) bool {
	s.Config, o.Config = Config{}, Config{}
	return s == o
}

// Event reports a state change of a session.
type Event struct {
	Key   string
	Peer  netip.Addr
	State State
	// Previous is the state before the change.
	Previous State
	Diag     Diag
	// Remote is the peer's state as last heard; AdminDown means the peer
	// ended the session on purpose, which is not a failure.
	Remote State
	At     time.Time
}

// Status is a snapshot of one session.
type Status struct {
	State          State
	Diag           Diag
	LocalDiscr     uint32
	RemoteDiscr    uint32
	TxInterval     time.Duration
	DetectionTime  time.Duration
	Sent, Received uint64
	// EchoInterval is the interval between echo packets, 0 while the Echo
	// function does not run; EchoSent and EchoReceived count them (those
	// received are the ones that came back).
	EchoInterval           time.Duration
	EchoSent, EchoReceived uint64
	// UpEvents and DownEvents count transitions to and from Up.
	UpEvents, DownEvents uint64
	// LastError is why the session could not be started, if so.
	LastError string
}

// Options configure a Manager.
type Options struct {
	Logger *slog.Logger
	// ListenPort and MultihopListenPort override the local ports (tests);
	// 0 for 3784 and 4784.
	ListenPort, MultihopListenPort int
	// OnEvent is called on every state change, from the Manager's
	// goroutine: it must return quickly and must not call the Manager.
	OnEvent func(Event)
}

// Manager runs BFD sessions over UDP sockets. Set and Remove record the
// desired sessions and may be called at any time from any goroutine; Run
// owns the sockets, the sessions and their timers.
type Manager struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	desired map[string]Spec
	status  map[string]Status
	kick    chan struct{}
}

// NewManager returns a Manager; it does nothing until Run.
func NewManager(opts Options) *Manager {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.ListenPort == 0 {
		opts.ListenPort = SingleHopPort
	}
	if opts.MultihopListenPort == 0 {
		opts.MultihopListenPort = MultihopPort
	}
	return &Manager{
		opts:    opts,
		log:     log,
		desired: map[string]Spec{},
		status:  map[string]Status{},
		kick:    make(chan struct{}, 1),
	}
}

// Set adds the session key or changes it. A change of Config is applied to
// the running session (RFC 5880 Poll Sequence); any other change replaces
// the session.
func (m *Manager) Set(key string, s Spec) {
	m.mu.Lock()
	m.desired[key] = s
	m.mu.Unlock()
	m.poke()
}

// Remove ends the session key, telling the peer it is administratively
// down. Removing an unknown key does nothing.
func (m *Manager) Remove(key string) {
	m.mu.Lock()
	delete(m.desired, key)
	m.mu.Unlock()
	m.poke()
}

// Status returns the state of session key; false when it is not desired.
func (m *Manager) Status(key string) (Status, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.desired[key]; !ok {
		return Status{}, false
	}
	st, ok := m.status[key]
	if !ok {
		st = Status{State: StateDown}
	}
	return st, true
}

func (m *Manager) poke() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

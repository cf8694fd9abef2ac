package bgp

import (
	"context"
	"net/netip"
	"time"
)

// Backend runs the BGP sessions of one node.
//
// SetPeers and SetAdvertisements record desired state and return at once;
// the work happens in Run, which owns every goroutine and socket of the
// backend. They may be called before Run starts (the state is applied when
// it does) and from any goroutine.
type Backend interface {
	// SetPeers replaces the set of sessions. Sessions not listed are closed
	// (with a NOTIFICATION) and their routes forgotten; new ones are opened;
	// a session whose session-level settings changed is closed and opened
	// again. A change of BFD settings alone is applied in place.
	SetPeers(peers []Peer) error
	// SetAdvertisements replaces the routes sent to the named peer. Only the
	// difference from what the peer already has goes on the wire. Routes for
	// a peer that is not (yet) in SetPeers are kept and sent once it is.
	SetAdvertisements(peer string, ads []Advertisement) error
	// Status reports every desired session, sorted by name.
	Status() []PeerStatus
	// Run applies the desired state until ctx ends, then closes every
	// session. A session with GracefulRestart is closed without a
	// NOTIFICATION, so the router keeps its routes while the speaker
	// restarts.
	Run(ctx context.Context) error
}

// DynamicASN values (BGPPeer spec.dynamicASN).
const (
	DynamicInternal = "internal"
	DynamicExternal = "external"
)

// Peer is one BGP session opened by this node, fully resolved (defaults
// applied, secrets read). Name identifies it.
type Peer struct {
	// Name of the BGPPeer object; the key of the session.
	Name    string
	Address netip.Addr
	// Port of the peer; 0 means 179.
	Port           uint16
	MyASN, PeerASN uint32
	// DynamicASN, when PeerASN is 0, accepts the ASN the peer announces:
	// DynamicInternal only our own (an iBGP session), DynamicExternal any
	// other (eBGP).
	DynamicASN string
	// RouterID is the BGP identifier to use; when invalid, the backend
	// derives one (see the backend's documentation).
	RouterID netip.Addr
	// SourceAddress, when valid, is the local address of the TCP session.
	SourceAddress netip.Addr
	// HoldTime and KeepaliveTime are whole seconds (HoldTime 0 or at least
	// 3 s; KeepaliveTime at most HoldTime). HoldTime 0 means the backend's
	// default (90 s: GoBGP cannot send a hold time of 0); KeepaliveTime 0
	// a third of the hold time.
	HoldTime, KeepaliveTime time.Duration
	// ConnectTime is the connect-retry interval; 0 means the backend's
	// default.
	ConnectTime time.Duration
	// Password is the TCP MD5 signature key (RFC 2385); empty for none.
	Password string
	// EBGPMultiHop lets an eBGP session cross routers (TTL 255) instead of
	// requiring a directly connected peer (TTL 1).
	EBGPMultiHop bool
	// GracefulRestart advertises the RFC 4724 capability: the router keeps
	// the routes while the speaker restarts.
	GracefulRestart bool
	// VRF is the name of a Linux VRF device the session is bound to; empty
	// for the default VRF.
	VRF string
	// DualStackAddressFamily carries both IPv4 and IPv6 routes on the session
	// (MP-BGP), whatever the family of Address. Otherwise only routes of
	// Address's family are sent.
	DualStackAddressFamily bool
	// BFD, when not nil, runs a BFD session with the peer; the BGP session
	// is torn down as soon as BFD detects a failure.
	BFD *BFDProfile
}

// BFDProfile holds BFD settings (RFC 5880), defaults applied.
type BFDProfile struct {
	// ReceiveInterval is the minimum interval between received packets this
	// system is capable of supporting; TransmitInterval the minimum
	// interval it would like to send at.
	ReceiveInterval, TransmitInterval time.Duration
	DetectMultiplier                  uint8
	// EchoMode asks for the Echo function; EchoInterval is its interval.
	EchoMode     bool
	EchoInterval time.Duration
	// PassiveMode: send nothing until the peer has sent a packet.
	PassiveMode bool
	// MinimumTTL is the lowest TTL accepted on a multi-hop session.
	MinimumTTL uint8
}

// Community is a BGP community: a legacy one (RFC 1997, AS:value, both
// 16-bit, in Global and Local1) or a large one (RFC 8092, three 32-bit
// numbers). It has the same fields as config.Community, so one converts to
// the other with a type conversion.
type Community struct {
	Large                  bool
	Global, Local1, Local2 uint32
}

// Advertisement is one route to announce to a peer.
type Advertisement struct {
	Prefix      netip.Prefix
	Communities []Community
	// LocalPref is sent to iBGP peers only; 0 means unset (the backend then
	// sends the BGP default, 100, to iBGP peers).
	LocalPref uint32
}

// SessionState is the BGP FSM state (RFC 4271 section 8).
type SessionState string

// The BGP FSM states.
const (
	StateIdle        SessionState = "Idle"
	StateConnect     SessionState = "Connect"
	StateActive      SessionState = "Active"
	StateOpenSent    SessionState = "OpenSent"
	StateOpenConfirm SessionState = "OpenConfirm"
	StateEstablished SessionState = "Established"
)

// BFDState is the state of a BFD session (RFC 5880 section 4.1); empty when
// the session runs without BFD.
type BFDState string

// The BFD session states.
const (
	BFDAdminDown BFDState = "AdminDown"
	BFDDown      BFDState = "Down"
	BFDInit      BFDState = "Init"
	BFDUp        BFDState = "Up"
)

// PeerStatus is what a backend knows about one session.
type PeerStatus struct {
	Name string
	// Peer is "address:port", the metrics label.
	Peer  string
	State SessionState
	// EstablishedSince is when the session last reached Established; zero
	// when it is not Established.
	EstablishedSince time.Time
	// Resets counts the times the session left Established.
	Resets int
	// LastError is the last reason the session went down or could not be
	// opened (a received NOTIFICATION, a connection error, a configuration
	// error); empty once the session is Established.
	LastError string
	// UpdatesSent counts UPDATE messages sent on this session since it was
	// configured.
	UpdatesSent uint64
	// Announced is the number of desired prefixes the peer has; Pending
	// those it does not have yet (all of them while the session is down).
	Announced, Pending int
	// Unsupported counts desired prefixes the session cannot carry (an
	// IPv6 prefix on an IPv4 session without DualStackAddressFamily).
	Unsupported int
	BFD         BFDState
}

// Recorder receives the backend's metrics. Peer labels are "address:port"
// (Peer.ID) for BGP and the peer address for BFD, as in MetalLB. Methods are
// called from the backend's goroutine and must not block. Counts are
// increments since the previous call for the same peer, never totals.
type Recorder interface {
	// SessionUp sets whether the BGP session is Established.
	SessionUp(peer string, up bool)
	// Messages adds the BGP messages sent and received since the previous
	// call. It is called on every refresh of an open session, with zero
	// counts too, so that the series exist from the session's start.
	Messages(peer string, sent, received MessageCounts)
	// Prefixes sets the announced and pending prefix gauges.
	Prefixes(peer string, announced, pending int)
	// BFDSessionUp is called on every BFD transition to or from Up: it sets
	// the session gauge and counts an up or a down event.
	BFDSessionUp(peer string, up bool)
	// BFDControlPackets adds the BFD Control packets received (in) and sent
	// (out) since the previous call. Like Messages it is called on every
	// refresh of a running BFD session, with zero counts too.
	BFDControlPackets(peer string, in, out uint64)
	// BFDEchoPackets adds the BFD Echo packets that came back (in) and
	// those sent (out) since the last call, like BFDControlPackets.
	BFDEchoPackets(peer string, in, out uint64)
	// BFDNotification counts one BFD state change delivered to the BGP
	// session (what FRR counts as bfdd notifying zebra, for bgpd).
	BFDNotification(peer string)
	// PeerRemoved drops the series of a session that no longer exists.
	PeerRemoved(peer, bfdPeer string)
}

// NopRecorder discards every metric.
type NopRecorder struct{}

func (NopRecorder) SessionUp(string, bool)                        {}
func (NopRecorder) Messages(string, MessageCounts, MessageCounts) {}
func (NopRecorder) Prefixes(string, int, int)                     {}
func (NopRecorder) BFDSessionUp(string, bool)                     {}
func (NopRecorder) BFDControlPackets(string, uint64, uint64)      {}
func (NopRecorder) BFDEchoPackets(string, uint64, uint64)         {}
func (NopRecorder) BFDNotification(string)                        {}
func (NopRecorder) PeerRemoved(string, string)                    {}

var _ Recorder = NopRecorder{}

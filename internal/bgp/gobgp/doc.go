// Package gobgp implements bgp.Backend on embedded GoBGP
// (github.com/osrg/gobgp/v4, pkg/server), with BFD from package bfd.
//
// # One GoBGP server per session
//
// Every peer gets a server.BgpServer of its own, outbound only (ListenPort
// -1: the speaker dials, as MetalLB's native speaker does), holding one
// neighbor. The alternative, one shared server with per-peer export
// policies, was rejected:
//
//   - MetalLB lets each BGPPeer have its own myASN and routerID on one node;
//     a GoBGP server has one global ASN and router ID (local-as per
//     neighbor would change the OPEN but not the AS_PATH handling).
//   - Routes differ per peer (BGPAdvertisement.peers). With one server
//     they would need a prefix set and a policy per peer, rewritten on every
//     change; with a server per peer the server's RIB is exactly what that
//     peer should have, and bgp.Diff against it gives one AddPath or
//     DeletePath per change: one UPDATE, never a session reset.
//   - A failing or reconfigured session cannot disturb the others.
//
// The cost is a few goroutines per peer; a node has a handful of peers.
//
// Translation: ORIGIN IGP; AS_PATH by GoBGP (empty towards iBGP, the local
// AS prepended towards eBGP, 4-byte ASNs); LOCAL_PREF only towards iBGP
// (100 when unset); COMMUNITIES and LARGE_COMMUNITY; next hop the local
// address of the session for routes of its family. With
// DualStackAddressFamily (MP-BGP, both AFI/SAFI unicast), routes of the
// other family get the first global address of that family on the
// interface of the session (an IPv4-mapped IPv6 next hop, or an IPv6 one as
// in RFC 8950, when the interface has none). Without it a session carries
// only routes of its own family; the others are counted as Unsupported.
// Routes received from peers are rejected (global import policy accepting
// local routes only). The router ID, when not configured, follows MetalLB:
// the local IPv4 address, else an IPv4 address of the same interface, else
// the CRC-32 of the node name. MD5 (TCP_MD5SIG), source address, port,
// ebgpMultiHop (TTL 255, else 1 for eBGP), hold and keepalive times and the
// connect-retry interval (5 s unless ConnectTime is set) go to GoBGP's
// neighbor configuration. VRF binds the session's sockets to the named
// device (SO_BINDTODEVICE, GoBGP's BindInterface), which is how Linux puts
// a socket in a VRF. Limits: GoBGP cannot send a hold time of 0 (the
// default, 90 s, is used); unnumbered peers are not supported. A dynamic
// internal peer must announce our ASN; a dynamic external peer may
// announce any ASN (GoBGP's peer ASN 0), and one that announces ours is
// closed as soon as it comes up and retried with back-off.
//
// Graceful restart (RFC 4724): the capability is advertised for every
// family with a restart time of 120 s; the first session to a peer after
// the backend starts sets the Restart State and Forwarding State bits and
// waits (up to 10 s) for the router's End-of-RIB before sending its routes.
// When Run ends, each graceful-restart session is closed without a
// NOTIFICATION (the others get a Cease): the router keeps its routes,
// marked stale, until the new speaker has sent them again. BFD sessions
// are taken administratively down only 250 ms later: FRR 8.4 resets a BGP
// session whose BFD session leaves Up, even for AdminDown, and that reset
// would flush the routes if it came before the TCP close.
//
// Errors: the reason a session is not up (connect error, NOTIFICATION,
// hold timer) is in PeerStatus.LastError, taken from GoBGP's events and
// logs, and cleared once the session is Established. A peer that keeps
// refusing the session with a NOTIFICATION is disabled for 2 s, 4 s, 8 s
// ... up to 2 min between attempts. Each session is independent.
//
// Metrics: every poll (Options.PollInterval) reads the neighbor's message
// statistics from GoBGP and the BFD session's packet counters from package
// bfd, and hands the increments to the bgp.Recorder (bgp.MessageTracker,
// bgp.Monotonic): GoBGP clears its statistics when a neighbor is disabled
// (the back-off above), and a replaced BFD session (new discriminator)
// counts from zero, neither of which makes an exported counter go back.
// Every BFD state change handed to the session is also counted
// (Recorder.BFDNotification).
//
// # BFD: this repository's engine, not GoBGP's
//
// GoBGP v4.8.0 has single-hop BFD, tested here against FRR 8.4 bfdd at
// 100 ms x 3 with a server per peer and found unusable:
//
//   - Each GoBGP server opens its own UDP :3784 socket (SO_REUSEADDR); the
//     kernel hands every packet to one of them, which drops packets of
//     peers it does not know: with two peers, one BFD session never left
//     Down (0 packets received; the other server counted them as "unknown
//     peer") and FRR flapped it Init -> Down every 3 s.
//   - A detection timeout in Init (a session that never came Up) resets the
//     BGP session: right after the BGP session came up, FRR replaced its
//     BFD session, GoBGP's expired in Init, GoBGP tore BGP down and left it
//     Idle for the 30 s idle-hold time.
//   - It sends at the configured rate before the session is Up (RFC 5880
//     6.8.3 requires at least 1 s), does not adapt its transmit interval to
//     the peer's Required Min RX, and has no jitter, no passive mode, no
//     multi-hop, no Echo and no TTL check on receipt (RFC 5881 GTSM).
//
// Package bfd implements RFC 5880/5881/5883 as a pure state machine and a
// codec (fuzzed) behind one UDP socket per (VRF, family, port) shared by all
// sessions; it supports passive mode, multi-hop and the Echo function
// (echoMode: single-hop IPv4). When a BFD session goes from Up
// to Down, not by the peer's administrative choice, this backend resets the
// BGP session at once (the router withdraws the routes on its own BFD
// timeout).
//
// FRR 8.4 registers a BFD session for a neighbor before the BGP session is
// up, without a local address, and replaces it (new discriminator, starting
// Down) once the BGP session gives it one; if the first BFD session had
// reached Up, FRR then resets the brand-new BGP session (Cease "BFD down").
// So a BFD session starts here only once its BGP session is Established,
// and then keeps running across BGP resets; and a BFD Down within 3 s of
// the BGP session coming up, when BFD was Up before it, is not taken for a
// failure. Measured in the lab (TestFRRBFDDetectsFailure, several runs):
// with 100 ms x 3, FRR detected a dead node in 235-300 ms and withdrew the
// routes within 340-420 ms; this side detected it in 220-310 ms.
package gobgp

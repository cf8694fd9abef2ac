// Package bgp is the speaker's view of a BGP implementation: the desired
// sessions (Peer, with an optional BFDProfile), the desired routes per
// session (Advertisement), what a backend reports back (PeerStatus) and the
// metrics it emits (Recorder).
//
// The contract is level-based. The caller hands a Backend the full desired
// state every time — all peers of this node through SetPeers, all routes of
// one peer through SetAdvertisements — and the backend converges on it:
// it opens, closes and reconfigures sessions, and sends only the difference
// between what the peer already has and what is now desired. Repeating a
// call with the same state does nothing on the wire. A change of routes never
// resets a session; a change of a session-level setting (addresses, ASNs,
// timers, password, ...) may (see SessionEqual).
//
// The pure helpers (Normalize, Diff, Peer.Validate, Peer.SessionEqual,
// Monotonic and MessageTracker for counters) hold the rules every backend
// shares and are tested without a network. The
// backends live in sub-packages: gobgp (embedded GoBGP, with the BFD engine
// of package bfd).
package bgp

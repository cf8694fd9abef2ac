// Package bfd is a Bidirectional Forwarding Detection engine for BGP
// sessions: RFC 5880 (the protocol) in asynchronous mode, over the UDP
// transport of RFC 5881 (single hop: port 3784, TTL 255 sent and required
// on receipt) and RFC 5883 (multi hop: port 4784, minimum TTL checked).
//
// It is split like the rest of the speaker:
//
//   - packet.go: the Control packet codec (Marshal, Parse), pure and fuzzed;
//   - session.go: the per-session state machine of RFC 5880 section 6.8,
//     pure: time is passed in, packets go in and out as values;
//   - manager.go (API), runner.go and socket_linux.go: the adapter that owns
//     the UDP sockets, demultiplexes received packets to sessions (by Your
//     Discriminator, else by source address), checks the TTL, runs the
//     timers and reports state changes.
//
// Supported: the Down/Init/Up/AdminDown state machine with diagnostics,
// discriminators, Poll/Final sequences for timer changes (slow 1 s
// transmission until Up, then the configured rate), transmit jitter,
// detection time from the remote multiplier, passive mode, remote Demand
// mode (transmission stops; this side never asks for it), AdminDown on
// removal, and the Echo function on single-hop IPv4 sessions (echo.go,
// echo_linux.go): echo packets from this host's address to itself go to
// the peer's MAC address on a packet socket, the peer's forwarding plane
// sends them back, and they are read on the same socket (the kernel would
// drop them as martians); Required Min Echo RX is advertised only when the
// interface forwards IPv4, which is how this host loops the peer's echo
// packets. Not supported: authentication (packets carrying it are
// discarded).
package bfd

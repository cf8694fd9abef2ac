// Package membership tells each speaker which speakers are live, for the
// layer 2 election: every speaker elects one owner per IP among the live
// speakers, so all of them must see the same live set, and must see a dead
// node leave it quickly.
//
// # Two layers
//
// hashicorp/memberlist (SWIM gossip) provides membership, joining,
// encryption and the wire: the same port (7946 TCP+UDP), member name = node
// name, LAN or WAN defaults or the JSON override file, and the shared key
// derived exactly as MetalLB derives it (DeriveKey), so FerroLB and MetalLB
// speakers can share one memberlist cluster. memberlist alone notices a
// hard-dead node only after its suspicion timeout (4 s and more on a LAN).
//
// On top of it each speaker sends a small heartbeat to every member every
// HeartbeatInterval (H, default 100 ms) as a memberlist user message
// (SendBestEffort: UDP, same port, encrypted and checksummed by
// memberlist). A peer is live iff memberlist lists it (alive or suspect)
// AND a heartbeat from it arrived less than DeadAfter (D, default 400 ms)
// ago. A member that just joined counts as heard at the join, so it is live
// at once; a peer memberlist declared dead is dead whatever its heartbeats
// say. A crashed node therefore leaves every survivor's live set D to D+H
// after its last heartbeat (measured on loopback: median ≈ 0.45 s, max
// ≈ 0.5 s), and every survivor drops it within about H of the others.
// Because only a dead node's IPs move in the election, that short
// disagreement can leave those IPs unannounced for up to about H, never
// announced twice.
//
// Speakers advertise heartbeat support in their memberlist metadata. A
// member without it (a MetalLB speaker) sends no heartbeats; its liveness
// is memberlist's alone. Heartbeats go only to members that advertise it.
//
// A heartbeat carries its sender, its recipient and two flags: "I hear
// you" (the recipient is live for the sender) and "leaving" (a goodbye sent
// just before memberlist's graceful Leave on shutdown, because memberlist's
// leave event does not tell a graceful leave from a failure).
//
// # Majority guard (Isolated)
//
// A speaker cut off from the others would otherwise elect itself for
// every IP and announce them all. To prevent this:
//
//   - known speakers = this one + current memberlist members + peers that
//     memberlist declared failed less than ForgetAfter (default 60 s) ago.
//     Peers that said goodbye are not known.
//   - reachable speakers = this one + live peers whose latest heartbeat
//     says they hear us (two-way contact). A speaker whose outgoing
//     heartbeats are lost still hears its peers, but they report that they
//     no longer hear it, so it stops counting them.
//   - Isolated() is true while 2*reachable <= known and known >= 3. It
//     takes effect as soon as the reachable count drops, that is D after
//     the last heartbeat heard, about when the others drop this speaker.
//     The speaker must not announce while Isolated.
//
// Trade-offs, by design:
//
//   - With one or two known speakers no majority can survive any failure,
//     so the guard is off: a two-node cluster split in two announces on
//     both sides (as MetalLB does).
//   - An even split (2 of 4) isolates both halves: nothing is announced
//     rather than everything twice.
//   - A minority side forgets the unreachable peers ForgetAfter after
//     memberlist declared them failed (suspicion timeout + ForgetAfter,
//     about 65 s on LAN defaults) and then announces as a smaller cluster.
//     The guard covers short partitions, not permanent ones; a lone
//     survivor of a real multi-node failure resumes after the same delay.
//   - A speaker that never joined anyone (no reachable peer at start, or
//     a wrong secret) knows only itself and is not isolated. Isolated is
//     true until the first join attempt is over (or one join succeeded),
//     so at least a normal start does not announce everything for a moment.
//   - Each speaker sends N-1 heartbeats per H: 10 packets/s per peer at
//     the default, fine for tens of nodes; raise H and D for large clusters.
//
// # Shape
//
// Tracker is the pure bookkeeping (events and heartbeats in, Status out,
// time from a Clock) and carries the table tests. Membership wires it to
// memberlist: New validates and prepares, Run owns every goroutine
// (memberlist, the heartbeat ticker, the join loop) and on cancellation
// sends the goodbye, leaves (1 s), shuts memberlist down and waits. The
// peer list (speaker Pod IPs or node addresses, from the speaker adapter)
// is joined at start, every JoinInterval and on SetPeers/Rejoin, in
// parallel and without blocking the caller. memberlist calls the delegate
// hooks with its node lock held, so Membership never calls memberlist
// while holding its own lock. memberlist talks through transport (TCP and
// UDP on the one port, as memberlist's own), which reuses its read buffer:
// memberlist's own allocates 64 KiB per received packet, and heartbeats
// arrive from every member ten times a second.
package membership

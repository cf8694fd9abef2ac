// Package election decides which node announces an IP address in layer 2
// mode. The answer is a pure function of the IP and the candidate nodes, so
// every speaker that sees the same candidates elects the same single owner
// without talking to the others.
//
// Candidates carry a preference score (the summed weights of the
// L2Advertisement preferredNodeSelectors that match the node). The highest
// score wins. Among equal scores the winner is chosen by rendezvous
// (highest-random-weight) hashing: each node's weight for an IP is
// SHA-256(16-byte IP || node name), and the largest weight wins. This gives
// three properties:
//
//   - Services sharing an IP share its owner, because the key is the IP
//     alone (not the Service).
//   - Many IPs spread evenly over the nodes (SHA-256 output is uniform).
//   - Removing a node moves only the IPs that node owned, and adding one
//     moves only the IPs it now wins: the relative order of any two other
//     nodes for an IP never changes.
//
// MetalLB sorts nodes by SHA-256(node + "#" + ip) ascending; this package
// keeps the semantics (deterministic, per IP, preference first) but not the
// exact choice, so a mixed MetalLB/FerroLB cluster would not agree. Speakers
// of one cluster must all run this package.
package election

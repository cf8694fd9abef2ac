package election

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"net/netip"
	"slices"
)

// Candidate is a node that may announce an IP, with its preference score.
type Candidate struct {
	Node string
	// Score is the preference of the node: higher wins before hashing is
	// consulted. Nodes without preference have 0.
	Score int64
}

// Owner returns the node that announces ip among candidates: the highest
// score, ties broken by the highest rendezvous weight of (node, ip). ok is
// false when there is no candidate. The result does not depend on the
// order of candidates; a node listed twice counts once, with its highest
// score; empty node names are ignored. It hashes each candidate (of the
// best score seen so far) once and allocates only for node names longer
// than 64 bytes.
func Owner(ip netip.Addr, candidates []Candidate) (node string, ok bool) {
	var (
		key  = ipKey(ip)
		best Candidate
		bw   [sha256.Size]byte
		arr  [16 + 64]byte // room for the usual node name, on the stack
		buf  = arr[:0]
	)
	for _, c := range candidates {
		if c.Node == "" {
			continue
		}
		if ok && c.Score < best.Score {
			continue
		}
		var w [sha256.Size]byte
		w, buf = weight(key, c.Node, buf)
		if !ok || c.Score > best.Score || better(w, c.Node, bw, best.Node) {
			best, bw, ok = c, w, true
		}
	}
	return best.Node, ok
}

// Rank returns every distinct candidate node in election order: the owner
// first, then the node that would own ip if the owner went away, and so
// on. Owner(ip, candidates) equals Rank(ip, candidates)[0] when there is a
// candidate.
func Rank(ip netip.Addr, candidates []Candidate) []string {
	type entry struct {
		Candidate
		w [sha256.Size]byte
	}
	key := ipKey(ip)
	var buf []byte
	entries := make([]entry, 0, len(candidates))
	for _, c := range candidates {
		if c.Node == "" {
			continue
		}
		var e entry
		e.Candidate = c
		e.w, buf = weight(key, c.Node, buf)
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if better(a.w, a.Node, b.w, b.Node) {
			return -1
		}
		if better(b.w, b.Node, a.w, a.Node) {
			return 1
		}
		return 0
	})
	out := make([]string, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !seen[e.Node] {
			seen[e.Node] = true
			out = append(out, e.Node)
		}
	}
	return out
}

// Weight returns the rendezvous weight of node for ip, the 32 bytes that
// break ties between equal scores (larger wins, compared bytewise). It is
// exported for tools that explain an election.
func Weight(ip netip.Addr, node string) [sha256.Size]byte {
	w, _ := weight(ipKey(ip), node, nil)
	return w
}

// ipKey is the fixed-length form of an IP that is hashed: 16 bytes, IPv4
// as ::ffff:a.b.c.d (so an IPv4 address and its IPv4-mapped IPv6 form are
// one key), zone dropped. Being fixed length, it cannot run into the node
// name that follows it.
func ipKey(ip netip.Addr) [16]byte {
	return ip.As16()
}

// weight hashes key||node, reusing buf for the input bytes.
func weight(key [16]byte, node string, buf []byte) ([sha256.Size]byte, []byte) {
	buf = append(append(buf[:0], key[:]...), node...)
	return sha256.Sum256(buf), buf
}

// better reports whether (wa, a) beats (wb, b): larger weight, and for the
// (astronomically unlikely) equal weights the smaller name, so the order is
// total.
func better(wa [sha256.Size]byte, a string, wb [sha256.Size]byte, b string) bool {
	if c := bytes.Compare(wa[:], wb[:]); c != 0 {
		return c > 0
	}
	return a < b
}

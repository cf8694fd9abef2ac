package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/ferrolb/ferrolb/test/lab"
)

// vty is a connection to one FRR daemon's vtysh socket (<dir>/<daemon>.vty),
// the socket vtysh itself uses: a command goes out NUL-terminated, the
// answer is the command's output followed by three NUL bytes and a status
// byte. One query costs about 0.1 ms, against tens of milliseconds for a
// vtysh process, so the RIB can be polled every few milliseconds. Not safe
// for concurrent use.
type vty struct {
	path string
	conn net.Conn
	buf  []byte
}

// vtyTimeout bounds one query when the context has no earlier deadline.
const vtyTimeout = 5 * time.Second

func dialVTY(r *lab.Router, daemon string) *vty {
	return &vty{path: filepath.Join(r.Dir, daemon+".vty")}
}

func (v *vty) close() {
	if v.conn != nil {
		_ = v.conn.Close()
		v.conn = nil
	}
}

// do runs one command and returns its output. A failed query closes the
// connection; the next one dials again.
func (v *vty) do(ctx context.Context, cmd string) ([]byte, error) {
	if v.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", v.path)
		if err != nil {
			return nil, fmt.Errorf("vty %s: %w", v.path, err)
		}
		v.conn = c
		// Some daemons (bfdd) install their show commands in the
		// enable node only; vtysh enters it too.
		if _, err := v.query(ctx, "enable"); err != nil {
			v.close()
			return nil, err
		}
	}
	return v.query(ctx, cmd)
}

// query sends one command on the open connection.
func (v *vty) query(ctx context.Context, cmd string) ([]byte, error) {
	deadline := time.Now().Add(vtyTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = v.conn.SetDeadline(deadline)
	if _, err := v.conn.Write(append([]byte(cmd), 0)); err != nil {
		v.close()
		return nil, fmt.Errorf("vty %s: %w", v.path, err)
	}
	v.buf = v.buf[:0]
	chunk := make([]byte, 64<<10)
	for {
		n, err := v.conn.Read(chunk)
		v.buf = append(v.buf, chunk[:n]...)
		if out, status, ok := vtyReply(v.buf); ok {
			if status != 0 {
				return out, fmt.Errorf("vty %s: %q: status %d: %s", v.path, cmd, status, bytes.TrimSpace(out))
			}
			return out, nil
		}
		if err != nil {
			v.close()
			return nil, fmt.Errorf("vty %s: %q: %w", v.path, cmd, err)
		}
	}
}

// vtyReply splits a complete answer into the output and the status byte;
// ok is false while the terminator has not arrived.
func vtyReply(b []byte) (out []byte, status byte, ok bool) {
	i := bytes.Index(b, []byte{0, 0, 0})
	if i < 0 || len(b) < i+4 {
		return nil, 0, false
	}
	return b[:i], b[i+3], true
}

// rib is the part of `show bgp ipv4 unicast <prefix> json` that matters
// here: the paths and the neighbour each came from.
type ribEntry struct {
	Prefix string `json:"prefix"`
	Paths  []struct {
		Valid   bool `json:"valid"`
		Removed bool `json:"removed"`
		Peer    struct {
			PeerID string `json:"peerId"`
		} `json:"peer"`
	} `json:"paths"`
}

// parsePeers returns the neighbours that have a valid path in an answer
// to `show bgp ipv4 unicast <prefix> json` ("{}" when FRR has no route).
func parsePeers(out []byte) ([]netip.Addr, error) {
	var e ribEntry
	if err := json.Unmarshal(out, &e); err != nil {
		return nil, fmt.Errorf("FRR route: %w", err)
	}
	var peers []netip.Addr
	for _, p := range e.Paths {
		if !p.Valid || p.Removed {
			continue
		}
		a, err := netip.ParseAddr(p.Peer.PeerID)
		if err != nil {
			return nil, fmt.Errorf("FRR route %s: peer %q: %w", e.Prefix, p.Peer.PeerID, err)
		}
		peers = append(peers, a)
	}
	return peers, nil
}

// routePeers asks FRR which neighbours have a valid path for prefix.
func (v *vty) routePeers(ctx context.Context, prefix netip.Prefix) ([]netip.Addr, error) {
	out, err := v.do(ctx, "show bgp ipv4 unicast "+prefix.String()+" json")
	if err != nil {
		return nil, err
	}
	return parsePeers(out)
}

// parseReceived reads the prefixes accepted from each Established
// neighbour from `show bgp ipv4 unicast summary json` (FRR nests the
// peers under "ipv4Unicast" when no family is named; both are accepted).
func parseReceived(out []byte) (map[netip.Addr]int, error) {
	type peer struct {
		State  string `json:"state"`
		PfxRcd int    `json:"pfxRcd"`
	}
	var s struct {
		Peers map[string]peer `json:"peers"`
		IPv4  *struct {
			Peers map[string]peer `json:"peers"`
		} `json:"ipv4Unicast"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		return nil, fmt.Errorf("FRR summary: %w", err)
	}
	peers := s.Peers
	if peers == nil && s.IPv4 != nil {
		peers = s.IPv4.Peers
	}
	got := map[netip.Addr]int{}
	for k, p := range peers {
		a, err := netip.ParseAddr(k)
		if err != nil {
			continue
		}
		if p.State == "Established" {
			got[a] = p.PfxRcd
		}
	}
	return got, nil
}

// received asks FRR how many prefixes each Established neighbour sent.
func (v *vty) received(ctx context.Context) (map[netip.Addr]int, error) {
	out, err := v.do(ctx, "show bgp ipv4 unicast summary json")
	if err != nil {
		return nil, err
	}
	return parseReceived(out)
}

// parseBFDUp reads `show bfd peers json` (bfdd) into the peers whose
// session is up.
func parseBFDUp(out []byte) (map[netip.Addr]bool, error) {
	var raw []struct {
		Peer   string `json:"peer"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("FRR BFD peers: %w", err)
	}
	up := map[netip.Addr]bool{}
	for _, p := range raw {
		a, err := netip.ParseAddr(p.Peer)
		if err != nil {
			return nil, fmt.Errorf("FRR BFD peers: %q: %w", p.Peer, err)
		}
		up[a] = p.Status == "up"
	}
	return up, nil
}

// bfdUp asks bfdd which peers' sessions are up.
func (v *vty) bfdUp(ctx context.Context) (map[netip.Addr]bool, error) {
	out, err := v.do(ctx, "show bfd peers json")
	if err != nil {
		return nil, err
	}
	return parseBFDUp(out)
}

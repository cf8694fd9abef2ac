package membership

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// maxParallelJoins bounds concurrent joins; each may wait TCPTimeout on an
// unreachable address.
const maxParallelJoins = 8

// parsePeers turns "ip" / "ip:port" strings into sorted, unique addresses;
// a bare IP gets defaultPort. Bad entries are logged and dropped.
func parsePeers(addrs []string, defaultPort int, log *slog.Logger) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(addrs))
	for _, s := range addrs {
		ap, ok := parsePeer(s, defaultPort)
		if !ok {
			log.Warn("ignoring invalid memberlist peer address", "peer", s)
			continue
		}
		out = append(out, ap)
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out)
}

func parsePeer(s string, defaultPort int) (netip.AddrPort, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.AddrPortFrom(a.Unmap(), uint16(defaultPort)), true
	}
	return netip.AddrPort{}, false
}

func toAddrPort(ip net.IP, port uint16) netip.AddrPort {
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a.Unmap(), port)
}

// joinTargets is the peers that are neither this speaker nor a member.
func joinTargets(peers []netip.AddrPort, self netip.AddrPort, members map[string]memberlist.Node) []netip.AddrPort {
	have := map[netip.AddrPort]bool{self: true}
	for _, n := range members {
		have[toAddrPort(n.Addr, n.Port)] = true
	}
	var out []netip.AddrPort
	for _, p := range peers {
		if !have[p] {
			out = append(out, p)
		}
	}
	return out
}

// joinLoop joins non-member peers at start, every JoinInterval and on
// Rejoin. The first attempt ends the "joining" isolation as soon as one
// join succeeds (the push-pull brings the whole membership) or when it
// is over.
func (m *Membership) joinLoop(ctx context.Context, ml *memberlist.Memberlist) {
	var lastFailed []string
	lastFailed = m.joinRound(ml, lastFailed)
	m.setJoined()

	ticker := time.NewTicker(m.cfg.JoinInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-m.rejoin:
		}
		if ctx.Err() != nil {
			return
		}
		lastFailed = m.joinRound(ml, lastFailed)
	}
}

func (m *Membership) setJoined() {
	m.mu.Lock()
	was := m.joined
	m.joined = true
	m.mu.Unlock()
	if !was {
		m.poke()
	}
}

// joinRound joins every target in parallel (bounded) and returns the
// addresses that failed, to log only when that set changes.
func (m *Membership) joinRound(ml *memberlist.Memberlist, lastFailed []string) []string {
	m.mu.Lock()
	targets := joinTargets(m.peers, m.self, m.members)
	m.mu.Unlock()
	if len(targets) == 0 {
		return nil
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
		joined int
		sem    = make(chan struct{}, maxParallelJoins)
	)
	for _, t := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := ml.Join([]string{t.String()})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, t.String())
				m.log.Debug("memberlist join failed", "peer", t.String(), "error", err)
				return
			}
			joined++
			m.setJoined()
		})
	}
	wg.Wait()
	slices.Sort(failed)
	switch {
	case joined > 0:
		m.log.Info("memberlist join", "joined", joined, "failed", failed)
	case len(failed) > 0 && !slices.Equal(failed, lastFailed):
		m.log.Warn("memberlist join failed", "failed", failed)
	}
	return failed
}

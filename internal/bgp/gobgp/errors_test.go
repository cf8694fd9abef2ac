package gobgp

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// refuser is a BGP peer that answers every OPEN with a NOTIFICATION (OPEN
// Message Error, Bad Peer AS), recording when each attempt arrived.
type refuser struct {
	ln       net.Listener
	mu       sync.Mutex
	attempts []time.Time
}

func startRefuser(t *testing.T) *refuser {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &refuser{ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.attempts = append(r.attempts, time.Now())
			r.mu.Unlock()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			hdr := make([]byte, 19)
			if _, err := io.ReadFull(c, hdr); err == nil {
				io.CopyN(io.Discard, c, int64(int(hdr[16])<<8|int(hdr[17]))-19)
				notif := append(make([]byte, 16), 0, 21, 3, 2, 2)
				for i := range 16 {
					notif[i] = 0xff
				}
				c.Write(notif)
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return r
}

func (r *refuser) port() uint16 { return uint16(r.ln.Addr().(*net.TCPAddr).Port) }

func (r *refuser) times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.attempts...)
}

// A wrong MD5 password, an unreachable peer and a peer refusing the
// session each show in their status and are retried, with back-off for the
// refusal, while a good session next to them stays up untouched.
func TestSessionErrorsAreIsolated(t *testing.T) {
	l1, l2 := newLink(t, 1), newLink(t, 2)
	g1 := startGoBGPd(t, l1, 64512, gobgpdNeighbor{address: l1.node4.String(), asn: 64500, password: "right one", families: []string{"ipv4-unicast"}})
	g2 := startGoBGPd(t, l2, 64512, gobgpdNeighbor{address: l2.node4.String(), asn: 64500, password: "right one", families: []string{"ipv4-unicast"}})
	ref := startRefuser(t)
	b, _ := runBackend(t, Options{})
	good := bgp.Peer{Name: "good", Address: l1.router4, MyASN: 64500, PeerASN: 64512, Password: "right one"}
	wrongPassword := bgp.Peer{Name: "wrong-password", Address: l2.router4, MyASN: 64500, PeerASN: 64512, Password: "wrong one"}
	unreachable := bgp.Peer{Name: "unreachable", Address: netip.MustParseAddr("198.51.100.20"), MyASN: 64500, PeerASN: 64512}
	refused := bgp.Peer{Name: "refused", Address: netip.MustParseAddr("127.0.0.1"), Port: ref.port(), MyASN: 64500, PeerASN: 64512}
	if err := b.SetPeers([]bgp.Peer{good, wrongPassword, unreachable, refused}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"good", "wrong-password", "unreachable", "refused"} {
		b.SetAdvertisements(p, []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}})
	}
	st := waitEstablished(t, b, "good")
	waitGoBGPdRoute(t, g1, "ipv4", pfxA, route{NextHop: l1.node4.String(), ASPath: "64500 "})
	n1, _ := g1.neighbor(l1.node4.String())

	wantError := func(name, substr string) {
		t.Helper()
		eventually(t, 20*time.Second, name+" error", func() error {
			st, err := peerStatus(b, name)
			if err != nil {
				return err
			}
			if st.State == bgp.StateEstablished || !strings.Contains(st.LastError, substr) {
				return fmt.Errorf("state %s last error %q", st.State, st.LastError)
			}
			if st.Pending != 1 || st.Announced != 0 {
				return fmt.Errorf("announced %d pending %d", st.Announced, st.Pending)
			}
			return nil
		})
	}
	wantError("wrong-password", "connect")
	wantError("unreachable", "connect")
	wantError("refused", "refused the session with a NOTIFICATION")

	// The refused session backs off: the gaps between attempts grow.
	eventually(t, 60*time.Second, "four attempts", func() error {
		if n := len(ref.times()); n < 4 {
			return fmt.Errorf("%d attempts", n)
		}
		return nil
	})
	at := ref.times()
	g := []time.Duration{at[1].Sub(at[0]), at[2].Sub(at[1]), at[3].Sub(at[2])}
	t.Logf("gaps between refused attempts: %v", g)
	if !(g[1] > g[0] && g[2] > g[1] && g[2] >= 2*backoffBase) {
		t.Errorf("attempt gaps %v do not grow", g)
	}
	if _, err := g2.neighbor(l2.node4.String()); err != nil {
		t.Fatal(err)
	}

	// Fixing the password opens that session; the good one never moved.
	wrongPassword.Password = "right one"
	b.SetPeers([]bgp.Peer{good, wrongPassword, unreachable, refused})
	waitEstablished(t, b, "wrong-password")
	waitGoBGPdRoute(t, g2, "ipv4", pfxA, route{NextHop: l2.node4.String(), ASPath: "64500 "})
	n1b, _ := g1.neighbor(l1.node4.String())
	stb, _ := peerStatus(b, "good")
	if n1b.Timers.State.Uptime != n1.Timers.State.Uptime || stb.Resets != 0 || !stb.EstablishedSince.Equal(st.EstablishedSince) {
		t.Errorf("the good session was disturbed: router uptime %v -> %v, status %+v", n1.Timers.State.Uptime, n1b.Timers.State.Uptime, stb)
	}
}

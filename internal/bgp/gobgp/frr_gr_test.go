package gobgp

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// watchRoute polls FRR for a prefix every 50 ms in the background and
// counts the polls that did not find it.
type routeWatch struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	polls   atomic.Int64
	missing atomic.Int64
	stale   atomic.Int64
}

func watchFRRRoute(f *frr, afi, prefix string) *routeWatch {
	w := &routeWatch{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			paths, err := f.route(afi, prefix)
			if err != nil {
				continue
			}
			w.polls.Add(1)
			if len(paths) == 0 {
				w.missing.Add(1)
			} else if paths[0].Stale {
				w.stale.Add(1)
			}
		}
	}()
	return w
}

func (w *routeWatch) end() { close(w.stop); w.wg.Wait() }

// With graceful restart the router keeps the routes while the speaker
// restarts (a new Backend, as after a process restart), even with BFD on
// the session; without it, the routes go when the speaker stops.
func TestFRRGracefulRestartKeepsRoutes(t *testing.T) {
	l := newLink(t, 1)
	f := startFRR(t, l, frrBGP(l, 64512, l.node4.String(), 64500, "bfd profile fast"), fastBFD)
	peer := bgp.Peer{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512, GracefulRestart: true, BFD: fastProfile}
	ads := []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}, {Prefix: mustPrefix(pfxB)}}
	start := func() (*Backend, func()) {
		b, stop := runBackend(t, Options{})
		b.SetPeers([]bgp.Peer{peer})
		b.SetAdvertisements("r", ads)
		waitEstablished(t, b, "r")
		return b, stop
	}
	fresh := frrSummary{NextHop: l.node4.String(), ASPath: "64500"}

	_, stopFirst := start()
	waitFRRRoute(t, f, "ipv4", pfxA, fresh)
	waitFRRRoute(t, f, "ipv4", pfxB, fresh)
	eventually(t, 15*time.Second, "BFD up at the router", func() error {
		fp, err := f.bfdPeer(l.node4.String())
		if err != nil || fp.Status != "up" {
			return fmt.Errorf("%+v %v", fp, err)
		}
		return nil
	})

	w := watchFRRRoute(f, "ipv4", pfxA)
	stopFirst()
	time.Sleep(3 * time.Second) // the speaker is away
	if w.stale.Load() == 0 {
		t.Errorf("the router did not mark the routes stale while the speaker was away (%d polls)", w.polls.Load())
	}
	start()
	waitFRRRoute(t, f, "ipv4", pfxA, fresh)
	waitFRRRoute(t, f, "ipv4", pfxB, fresh)
	w.end()
	if w.missing.Load() != 0 || w.polls.Load() < 5 {
		t.Errorf("the route was missing in %d of %d polls across the restart", w.missing.Load(), w.polls.Load())
	}
	t.Logf("across the restart: %d polls, %d with the route stale, %d without it", w.polls.Load(), w.stale.Load(), w.missing.Load())
}

func TestFRRWithoutGracefulRestartRoutesGo(t *testing.T) {
	l := newLink(t, 1)
	f := startFRR(t, l, frrBGP(l, 64512, l.node4.String(), 64500), "")
	b, stop := runBackend(t, Options{})
	b.SetPeers([]bgp.Peer{{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512}})
	b.SetAdvertisements("r", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}})
	waitEstablished(t, b, "r")
	waitFRRRoute(t, f, "ipv4", pfxA, frrSummary{NextHop: l.node4.String(), ASPath: "64500"})
	stop()
	eventually(t, 5*time.Second, "route withdrawn", func() error {
		paths, err := f.route("ipv4", pfxA)
		if err != nil {
			return err
		}
		if len(paths) != 0 {
			return fmt.Errorf("still there")
		}
		return nil
	})
}

package announcer

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ferrolb/ferrolb/internal/l2/internal/framepipe"
	"github.com/ferrolb/ferrolb/internal/l2/netif"
	"github.com/ferrolb/ferrolb/internal/l2/wire"
)

const waitLimit = 5 * time.Second

var (
	addr    = netip.MustParseAddr
	cmpAddr = cmpopts.EquateComparable(netip.Addr{})
)

// fakeHost is a mutable interface list plus the pipes opened on it.
type fakeHost struct {
	mu      sync.Mutex
	ifaces  []netif.Interface
	listErr error
	openErr map[string]error
	opened  map[string][]*opened // every Open call, per interface, in order
}

type opened struct {
	ARP *framepipe.Pipe // nil when no ARP socket was asked for
	NDP *framepipe.Pipe
}

func newFakeHost(ifaces ...netif.Interface) *fakeHost {
	return &fakeHost{ifaces: ifaces, openErr: map[string]error{}, opened: map[string][]*opened{}}
}

func (h *fakeHost) Interfaces() ([]netif.Interface, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.listErr != nil {
		return nil, h.listErr
	}
	return append([]netif.Interface(nil), h.ifaces...), nil
}

func (h *fakeHost) open(ifc netif.Interface, ipv4 bool) (Sockets, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.openErr[ifc.Name]; err != nil {
		return Sockets{}, err
	}
	o := &opened{NDP: framepipe.New()}
	s := Sockets{NDP: o.NDP}
	if ipv4 {
		o.ARP = framepipe.New()
		s.ARP = o.ARP
	}
	h.opened[ifc.Name] = append(h.opened[ifc.Name], o)
	return s, nil
}

func (h *fakeHost) set(ifaces ...netif.Interface) {
	h.mu.Lock()
	h.ifaces = ifaces
	h.mu.Unlock()
}

// last returns the latest sockets opened on an interface.
func (h *fakeHost) last(t *testing.T, name string) *opened {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.opened[name]
	if len(o) == 0 {
		t.Fatalf("no sockets opened on %s", name)
	}
	return o[len(o)-1]
}

func (h *fakeHost) opens(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.opened[name])
}

func ether(name string, index int, last byte) netif.Interface {
	return netif.Interface{Name: name, Index: index, MAC: net.HardwareAddr{2, 0, 0, 0, 0, last}, Up: true, Broadcast: true}
}

// run starts a.Run and stops it at the end of the test.
func run(t *testing.T, a *Announcer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(waitLimit):
			t.Error("Run did not return after cancel")
		}
	})
}

// answers sends an ARP request for ip on p and reports whether a reply
// with mac came back.
func answersARP(t *testing.T, p *framepipe.Pipe, ip string, mac wire.MAC) bool {
	t.Helper()
	peer := wire.MAC{2, 0, 0, 0, 0, 0xbb}
	req, err := wire.ARPFrame(wire.Broadcast, peer, wire.ARP{Op: wire.ARPRequest, SenderMAC: peer, SenderIP: addr("198.51.100.2"), TargetIP: addr(ip)})
	if err != nil {
		t.Fatal(err)
	}
	drain(p)
	if err := p.Deliver(req, waitLimit); err != nil {
		t.Fatalf("deliver on %s: %v", ip, err)
	}
	select {
	case f := <-p.Out():
		eth, err := wire.ParseEthernet(f)
		if err != nil {
			t.Fatal(err)
		}
		a, err := wire.ParseARP(eth.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if a.Op != wire.ARPReply || a.SenderIP != addr(ip) || a.SenderMAC != mac {
			t.Fatalf("unexpected answer %+v", a)
		}
		return true
	default:
		return false
	}
}

// answersNDP does the same with a multicast Neighbor Solicitation.
func answersNDP(t *testing.T, p *framepipe.Pipe, ip string, mac wire.MAC) bool {
	t.Helper()
	peer := wire.MAC{2, 0, 0, 0, 0, 0xbb}
	g := wire.SolicitedNode(addr(ip))
	req, err := wire.NDPFrame(wire.MulticastMAC(g), peer, addr("fe80::bb"), g, wire.NeighborSolicitation{Target: addr(ip), SourceLL: &peer})
	if err != nil {
		t.Fatal(err)
	}
	drain(p)
	if err := p.Deliver(req, waitLimit); err != nil {
		t.Fatalf("deliver on %s: %v", ip, err)
	}
	select {
	case f := <-p.Out():
		eth, err := wire.ParseEthernet(f)
		if err != nil {
			t.Fatal(err)
		}
		if eth.Src != mac {
			t.Fatalf("answer from %v, want %v", eth.Src, mac)
		}
		return true
	default:
		return false
	}
}

// drain discards frames already written (gratuitous announcements).
func drain(p *framepipe.Pipe) {
	for {
		select {
		case <-p.Out():
		default:
			return
		}
	}
}

// notified waits for the next Notify call.
func notified(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitLimit):
		t.Fatal("no status change notified")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var errBoom = errors.New("boom")

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

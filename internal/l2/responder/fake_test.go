package responder

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/l2/internal/framepipe"
)

type pipe = framepipe.Pipe

var (
	_ FrameConn = (*pipe)(nil)
	_ NDPConn   = (*pipe)(nil)
)

func newPipe() *pipe { return framepipe.New() }

// counts is a Recorder that remembers everything.
type counts struct {
	mu                          sync.Mutex
	requests, responses, gratis map[netip.Addr]int
}

func newCounts() *counts {
	return &counts{requests: map[netip.Addr]int{}, responses: map[netip.Addr]int{}, gratis: map[netip.Addr]int{}}
}

func (c *counts) RequestReceived(ip netip.Addr) { c.mu.Lock(); c.requests[ip]++; c.mu.Unlock() }
func (c *counts) ResponseSent(ip netip.Addr)    { c.mu.Lock(); c.responses[ip]++; c.mu.Unlock() }
func (c *counts) GratuitousSent(ip netip.Addr)  { c.mu.Lock(); c.gratis[ip]++; c.mu.Unlock() }

func (c *counts) get(ip netip.Addr) (req, resp, grat int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[ip], c.responses[ip], c.gratis[ip]
}

// harness runs a Responder over two pipes.
type harness struct {
	t        *testing.T
	r        *Responder
	arp, ndp *pipe
	rec      *counts
	done     chan error
	cancel   context.CancelFunc
}

const waitLimit = 5 * time.Second

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, arp: newPipe(), ndp: newPipe(), rec: newCounts(), done: make(chan error, 1)}
	cfg.ARP, cfg.NDP, cfg.Recorder = h.arp, h.ndp, h.rec
	if cfg.MAC == ([6]byte{}) {
		cfg.MAC = me
	}
	if cfg.Interface == "" {
		cfg.Interface = "eth0"
	}
	if cfg.Schedule == nil {
		cfg.Schedule = []time.Duration{} // no gratuitous frames unless asked
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(waitLimit):
			t.Error("Run did not return after cancel")
		}
	})
	return h
}

func (h *harness) set(ips ...string) {
	h.t.Helper()
	var addrs []netip.Addr
	for _, s := range ips {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	if err := h.r.SetAddrs(addrs); err != nil {
		h.t.Fatalf("SetAddrs: %v", err)
	}
}

// send hands a frame to the responder and waits until it has been fully
// processed (replies, if any, are then in p.Out()).
func (h *harness) send(p *pipe, frame []byte) {
	h.t.Helper()
	if err := p.Deliver(frame, waitLimit); err != nil {
		h.t.Fatal(err)
	}
}

// next returns the next frame the responder wrote on p.
func (h *harness) next(p *pipe) []byte {
	h.t.Helper()
	select {
	case f := <-p.Out():
		return f
	case <-time.After(waitLimit):
		h.t.Fatal("no frame written")
		return nil
	}
}

// none asserts that nothing was written on p (call after send).
func (h *harness) none(p *pipe) {
	h.t.Helper()
	select {
	case f := <-p.Out():
		h.t.Fatalf("unexpected frame written: %x", f)
	default:
	}
}

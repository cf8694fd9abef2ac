package framepipe

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Pipe implements the responder's FrameConn and NDPConn in memory.
// Frames given to Deliver reach the reader through an unbuffered channel;
// Deliver also passes a barrier so that, when it returns, the reader has
// finished with the frame and any reply is in Out.
type Pipe struct {
	in      chan []byte
	out     chan []byte
	closed  chan struct{}
	once    sync.Once
	readErr chan error

	mu      sync.Mutex
	groups  map[netip.Addr]int
	joins   int
	leaves  int
	joinErr error
}

// New returns an open Pipe whose output holds up to 1024 frames.
func New() *Pipe {
	return &Pipe{
		in:      make(chan []byte),
		out:     make(chan []byte, 1024),
		closed:  make(chan struct{}),
		readErr: make(chan error, 1),
		groups:  map[netip.Addr]int{},
	}
}

// ReadFrame implements FrameConn.
func (p *Pipe) ReadFrame(b []byte) (int, error) {
	for {
		select {
		case f := <-p.in:
			if f == nil {
				continue // barrier
			}
			return copy(b, f), nil
		case err := <-p.readErr:
			return 0, err
		case <-p.closed:
			return 0, net.ErrClosed
		}
	}
}

// WriteFrame implements FrameConn.
func (p *Pipe) WriteFrame(f []byte) error {
	if p.Closed() {
		return net.ErrClosed
	}
	select {
	case p.out <- append([]byte(nil), f...):
		return nil
	default:
		return errors.New("framepipe: output full")
	}
}

// Close implements FrameConn.
func (p *Pipe) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// Closed reports whether Close was called.
func (p *Pipe) Closed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// Deliver hands frame to the reader and waits until it is processed. It
// fails if nobody reads within limit.
func (p *Pipe) Deliver(frame []byte, limit time.Duration) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	for _, f := range [][]byte{frame, nil} {
		select {
		case p.in <- f:
		case <-p.closed:
			return net.ErrClosed
		case <-t.C:
			return errors.New("framepipe: nobody is reading")
		}
	}
	return nil
}

// Out is the channel of frames written.
func (p *Pipe) Out() <-chan []byte { return p.out }

// Fail makes the next (or current) ReadFrame return err.
func (p *Pipe) Fail(err error) { p.readErr <- err }

// JoinGroup implements NDPConn.
func (p *Pipe) JoinGroup(g netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.joinErr != nil {
		return p.joinErr
	}
	p.groups[g]++
	p.joins++
	return nil
}

// LeaveGroup implements NDPConn.
func (p *Pipe) LeaveGroup(g netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groups[g]--
	if p.groups[g] <= 0 {
		delete(p.groups, g)
	}
	p.leaves++
	return nil
}

// SetJoinError makes JoinGroup fail with err (nil: succeed).
func (p *Pipe) SetJoinError(err error) {
	p.mu.Lock()
	p.joinErr = err
	p.mu.Unlock()
}

// Groups returns the current memberships and the number of joins and
// leaves so far.
func (p *Pipe) Groups() (groups map[netip.Addr]int, joins, leaves int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := make(map[netip.Addr]int, len(p.groups))
	for k, v := range p.groups {
		g[k] = v
	}
	return g, p.joins, p.leaves
}

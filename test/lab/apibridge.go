package lab

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// forwarder relays TCP connections accepted inside a namespace to an
// address of the root namespace. It is how node processes reach the API
// server: each node namespace gets a listener on 127.0.0.1:6443 whose
// connections are dialled, from the lab's own process, to the API server
// on the root namespace's 127.0.0.1.
//
// A socket belongs to the namespace it was created in, not to the thread
// that uses it, so one Go process can hold both ends; the unix-socket hop
// of a socat-based bridge is not needed.
type forwarder struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// forward listens on listen inside namespace ns and relays every
// connection to target until Close.
func forward(ns, listen, target string) (*forwarder, error) {
	ln, err := listenIn(ns, listen)
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	f.wg.Go(f.accept)
	return f, nil
}

func (f *forwarder) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		f.wg.Go(func() { f.relay(c) })
	}
}

func (f *forwarder) relay(in net.Conn) {
	out, err := net.DialTimeout("tcp", f.target, 5*time.Second)
	if err != nil {
		in.Close()
		return
	}
	if !f.track(in, out) {
		in.Close()
		out.Close()
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done // either side ended: end both
	in.Close()
	out.Close()
	<-done
	f.untrack(in, out)
}

func (f *forwarder) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *forwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
	}
}

// Close stops listening, ends every relayed connection and waits for the
// relays to finish.
func (f *forwarder) Close() error {
	err := f.ln.Close()
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

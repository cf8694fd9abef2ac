package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
	"github.com/ferrolb/ferrolb/test/lab"
)

// The prober's own identity on the LAN: an address of the LAN no host
// uses, and the MAC the lab's scheme would give it (02:fe + the IPv4
// bytes). Requests carry this sender, so replies are unicast to a MAC the
// client's kernel does not own: it drops them (PACKET_OTHERHOST) and its
// neighbor table is never touched by the probing, and no node holds a
// neighbor entry for this address either. Only the packet socket sees the
// replies.
var (
	proberIP  = netip.MustParseAddr("198.51.100.200")
	proberMAC = wire.MAC{0x02, 0xfe, 198, 51, 100, 200}
)

// arpEvent is one ARP packet seen on the client's interface.
type arpEvent struct {
	at  time.Time
	arp wire.ARP
	dst wire.MAC // Ethernet destination
}

// gratuitous reports whether the packet announces its sender IP (RFC 5227
// announcement or the reply form).
func (e arpEvent) gratuitous() bool { return e.arp.SenderIP == e.arp.TargetIP }

// probeReply reports whether the packet answers one of the prober's
// requests.
func (e arpEvent) probeReply() bool {
	return e.arp.Op == wire.ARPReply && e.arp.TargetMAC == proberMAC && e.arp.TargetIP == proberIP
}

// prober sends ARP requests from the client namespace and hands every ARP
// packet it sees there (replies, the client kernel's own requests,
// gratuitous announcements) to its subscribers.
type prober struct {
	conn    *packet.Conn
	closed  atomic.Bool
	done    chan struct{}
	dropped atomic.Uint64

	mu     sync.Mutex
	subs   map[int]func(arpEvent)
	nextID int
}

// openProber opens a packet socket on eth0 of network namespace ns.
func openProber(ns string) (*prober, error) {
	var conn *packet.Conn
	err := lab.InNS(ns, func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		conn, err = packet.Listen(ifi, packet.Raw, int(wire.EtherTypeARP), nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("arp prober in %s: %w", ns, err)
	}
	// Thousands of replies arrive in a burst; a small buffer would drop
	// them. Best effort: the retries cover losses anyway.
	if rc, err := conn.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
		})
	}
	p := &prober{conn: conn, done: make(chan struct{}), subs: map[int]func(arpEvent){}}
	go p.read()
	return p, nil
}

func (p *prober) read() {
	defer close(p.done)
	buf := make([]byte, 1514)
	for {
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			if p.closed.Load() {
				return
			}
			progress("arp prober: read: %v", err)
			return
		}
		at := time.Now()
		eth, err := wire.ParseEthernet(buf[:n])
		if err != nil || eth.EtherType != wire.EtherTypeARP {
			continue
		}
		a, err := wire.ParseARP(eth.Payload)
		if err != nil {
			continue
		}
		ev := arpEvent{at: at, arp: a, dst: eth.Dst}
		p.mu.Lock()
		for _, fn := range p.subs {
			fn(ev)
		}
		p.mu.Unlock()
	}
}

// subscribe calls fn (from the reader goroutine, under the prober's lock:
// fn must be quick and must not call the prober) for every ARP packet
// until the returned cancel function is called.
func (p *prober) subscribe(fn func(arpEvent)) (cancel func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.nextID
	p.nextID++
	p.subs[id] = fn
	return func() {
		p.mu.Lock()
		delete(p.subs, id)
		p.mu.Unlock()
	}
}

// request broadcasts one ARP request for each IP, paced so that neither
// the LAN's backlog queues nor the speakers' sockets overflow.
func (p *prober) request(ctx context.Context, ips []netip.Addr) error {
	const burst = 50
	for i, ip := range ips {
		f, err := wire.ARPFrame(wire.Broadcast, proberMAC, wire.ARP{
			Op: wire.ARPRequest, SenderMAC: proberMAC, SenderIP: proberIP, TargetIP: ip,
		})
		if err != nil {
			return err
		}
		if _, err := p.conn.WriteTo(f, &packet.Addr{HardwareAddr: wire.Broadcast.HardwareAddr()}); err != nil {
			return fmt.Errorf("arp request for %s: %w", ip, err)
		}
		if (i+1)%burst == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	return nil
}

// ask sends one request for each IP and returns, for each, the distinct
// MACs that answered within wait.
func (p *prober) ask(ctx context.Context, ips []netip.Addr, wait time.Duration) (map[netip.Addr][]wire.MAC, error) {
	want := make(map[netip.Addr]bool, len(ips))
	for _, ip := range ips {
		want[ip] = true
	}
	var mu sync.Mutex
	got := map[netip.Addr][]wire.MAC{}
	cancel := p.subscribe(func(e arpEvent) {
		if !e.probeReply() || !want[e.arp.SenderIP] {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got[e.arp.SenderIP] {
			if m == e.arp.SenderMAC {
				return
			}
		}
		got[e.arp.SenderIP] = append(got[e.arp.SenderIP], e.arp.SenderMAC)
	})
	defer cancel()
	if err := p.request(ctx, ips); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(wait):
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	return got, nil
}

// drops returns how many packets the socket dropped so far (best effort;
// the kernel resets its counter on each read, so they are summed here).
func (p *prober) drops() uint64 {
	if st, err := p.conn.Stats(); err == nil {
		p.dropped.Add(uint64(st.Drops))
	}
	return p.dropped.Load()
}

func (p *prober) close() error {
	p.closed.Store(true)
	err := p.conn.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		err = errors.Join(err, errors.New("arp prober: reader did not stop"))
	}
	return err
}

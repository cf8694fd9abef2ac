//go:build linux

package bfd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"

	"github.com/ferrolb/ferrolb/internal/netpkt"
)

// echoPath sends and receives the echo packets of one session. An echo
// packet is addressed to this host itself: sent through the kernel it
// would be delivered locally, and coming back from the peer it is dropped
// as a martian (a local source address arriving from outside). So both
// ways use a packet socket on the interface towards the peer: whole
// Ethernet frames to the peer's MAC address out, and in, through
// echoFilter, only this session's echo packets coming back.
type echoPath struct {
	local, peer netip.Addr
	port        uint16 // the session's UDP source port, in echo packets too
	// deliver gets each returning echo packet, from the reading goroutine;
	// it must give up when done is closed.
	deliver func(payload []byte, src netip.Addr, ttl int, done <-chan struct{})

	dev        string
	ifi        *net.Interface
	conn       *packet.Conn
	done       chan struct{}
	reader     sync.WaitGroup
	peerMAC    net.HardwareAddr
	seq        uint32
	resolvedAt time.Time
}

// echoResolveEvery is how often the peer's neighbour entry is read again
// (its MAC address may change: a replaced router, a VRRP failover).
const echoResolveEvery = time.Second

func newEchoPath(local, peer netip.Addr, port uint16, deliver func([]byte, netip.Addr, int, <-chan struct{})) *echoPath {
	return &echoPath{local: local, peer: peer, port: port, deliver: deliver}
}

// resolve reads the peer's neighbour entry and (re)opens the socket when
// the device changed.
func (e *echoPath) resolve(now time.Time) error {
	f, err := os.Open("/proc/net/arp")
	if err != nil {
		return err
	}
	mac, dev, ok := arpEntry(f, e.peer)
	f.Close()
	if !ok {
		return fmt.Errorf("no neighbour entry for %s", e.peer)
	}
	if dev != e.dev || e.conn == nil {
		e.close()
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		filter, err := bpf.Assemble(echoFilter(e.local, e.port))
		if err != nil {
			return err
		}
		conn, err := packet.Listen(ifi, packet.Raw, 0x0800, &packet.Config{Filter: filter})
		if err != nil {
			return fmt.Errorf("echo socket on %s: %w", dev, err)
		}
		e.ifi, e.conn, e.dev, e.done = ifi, conn, dev, make(chan struct{})
		e.reader.Add(1)
		go e.read(conn, e.done)
	}
	e.peerMAC, e.resolvedAt = mac, now
	return nil
}

func (e *echoPath) read(conn *packet.Conn, done chan struct{}) {
	defer e.reader.Done()
	buf := make([]byte, 512)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			select {
			case <-done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. ENETDOWN: do not spin
			continue
		}
		if src, ttl, payload, ok := parseEchoFrame(buf[:n]); ok {
			e.deliver(append([]byte(nil), payload...), src, ttl, done)
		}
	}
}

// send transmits one echo packet of the session discr.
func (e *echoPath) send(now time.Time, discr uint32) error {
	if e.conn == nil || now.Sub(e.resolvedAt) >= echoResolveEvery {
		if err := e.resolve(now); err != nil {
			return err
		}
	}
	e.seq++
	frame := echoFrame(e.ifi.HardwareAddr, e.peerMAC, e.local, e.port, uint16(e.seq), echoPayload{Discr: discr, Seq: e.seq}.marshal())
	if _, err := e.conn.WriteTo(frame, &packet.Addr{HardwareAddr: e.peerMAC}); err != nil {
		// The next packet reopens the socket: the interface may have been
		// replaced by one of the same name (a new index), which resolve
		// alone would not notice.
		e.close()
		return err
	}
	return nil
}

// close closes the socket and waits for its reader.
func (e *echoPath) close() {
	if e.conn == nil {
		return
	}
	close(e.done)
	e.conn.Close()
	e.reader.Wait()
	e.conn = nil
}

// forwardsIPv4 reports whether the interface that holds local forwards
// IPv4 packets, which is how this host loops a remote system's echo
// packets back.
func forwardsIPv4(local netip.Addr) bool {
	ifi, _, ok := netpkt.InterfaceWith(local)
	if !ok {
		return false
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/conf/" + ifi.Name + "/forwarding")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

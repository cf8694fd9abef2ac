package membership

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// maxPacket is the largest UDP payload read.
const maxPacket = 65536

// udpRecvBuffer is the receive buffer asked of the kernel for the UDP
// socket (heartbeats of every member arrive there).
const udpRecvBuffer = 2 << 20

// transport is memberlist's network transport: TCP streams and UDP
// packets on one address and port, as memberlist's own. The difference
// is what a received packet costs: memberlist's transport allocates a
// fresh 64 KiB buffer for every packet, and with a heartbeat from every
// member every 100 ms that is 1.3 MB/s of garbage per speaker on a
// 3-node cluster, 65 MB/s on a 100-node one (a garbage collection every
// few hundred milliseconds on every node). Here one buffer is reused and
// each packet costs an allocation of its own size.
type transport struct {
	ip       net.IP
	port     int
	tcp      *net.TCPListener
	udp      *net.UDPConn
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	log      *slog.Logger
	closed   atomic.Bool
	done     chan struct{} // closed by Shutdown
	wg       sync.WaitGroup
}

var _ memberlist.NodeAwareTransport = (*transport)(nil)

// newTransport listens on ip:port, TCP and UDP; port 0 picks a free port
// (the same for both).
func newTransport(ip net.IP, port int, log *slog.Logger) (*transport, error) {
	var lastErr error
	for range 10 { // port 0: the port TCP got may be taken for UDP
		tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port})
		if err != nil {
			return nil, fmt.Errorf("listening on TCP %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(port)), err)
		}
		p := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: p})
		if err != nil {
			tcp.Close()
			lastErr = fmt.Errorf("listening on UDP %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(p)), err)
			if port != 0 {
				return nil, lastErr
			}
			continue
		}
		if err := udp.SetReadBuffer(udpRecvBuffer); err != nil {
			log.Warn("cannot enlarge the memberlist UDP receive buffer", "error", err)
		}
		t := &transport{
			ip: ip, port: p, tcp: tcp, udp: udp, log: log,
			packetCh: make(chan *memberlist.Packet),
			streamCh: make(chan net.Conn),
			done:     make(chan struct{}),
		}
		t.wg.Add(2)
		go t.acceptLoop()
		go t.readLoop()
		return t, nil
	}
	return nil, lastErr
}

// FinalAdvertiseAddr implements memberlist.Transport: the given address,
// else the bound one, else the first private address of the host.
func (t *transport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if port == 0 {
		port = t.port
	}
	if ip != "" {
		parsed := net.ParseIP(ip)
		if parsed == nil {
			return nil, 0, fmt.Errorf("advertise address %q is not an IP address", ip)
		}
		if v4 := parsed.To4(); v4 != nil {
			parsed = v4
		}
		return parsed, port, nil
	}
	if !t.ip.IsUnspecified() {
		return t.ip, port, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, 0, fmt.Errorf("no advertise address: %w", err)
	}
	if ip := privateAddr(addrs); ip != nil {
		return ip, port, nil
	}
	return nil, 0, errors.New("no advertise address: bound to every address and the host has no private one; set the bind address")
}

// privateAddr returns the first private address among addrs, IPv4 first.
func privateAddr(addrs []net.Addr) net.IP {
	var v6 net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || !n.IP.IsPrivate() {
			continue
		}
		if v4 := n.IP.To4(); v4 != nil {
			return v4
		}
		if v6 == nil {
			v6 = n.IP
		}
	}
	return v6
}

// WriteTo implements memberlist.Transport.
func (t *transport) WriteTo(b []byte, addr string) (time.Time, error) {
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return time.Time{}, err
	}
	_, err = t.udp.WriteTo(b, to)
	return time.Now(), err
}

// WriteToAddress implements memberlist.NodeAwareTransport.
func (t *transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

// PacketCh implements memberlist.Transport.
func (t *transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// DialTimeout implements memberlist.Transport.
func (t *transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (t *transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

// StreamCh implements memberlist.Transport.
func (t *transport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown implements memberlist.Transport: it closes both sockets and
// waits for the loops to end.
func (t *transport) Shutdown() error {
	if t.closed.Swap(true) {
		return nil
	}
	close(t.done)
	t.tcp.Close()
	t.udp.Close()
	t.wg.Wait()
	return nil
}

// acceptLoop hands incoming TCP connections to memberlist, backing off
// (5 ms doubling to 1 s) while accepting fails.
func (t *transport) acceptLoop() {
	defer t.wg.Done()
	const base, limit = 5 * time.Millisecond, time.Second
	delay := time.Duration(0)
	for {
		conn, err := t.tcp.AcceptTCP()
		if err != nil {
			if t.closed.Load() {
				return
			}
			delay = min(max(2*delay, base), limit)
			t.log.Error("memberlist: accepting a TCP connection failed", "error", err, "retryIn", delay)
			select {
			case <-time.After(delay):
			case <-t.done:
				return
			}
			continue
		}
		delay = 0
		select {
		case t.streamCh <- conn:
		case <-t.done:
			conn.Close()
			return
		}
	}
}

// readLoop hands incoming UDP packets to memberlist, each in a buffer of
// its own size.
func (t *transport) readLoop() {
	defer t.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, from, err := t.udp.ReadFrom(buf)
		at := time.Now()
		if err != nil {
			if t.closed.Load() {
				return
			}
			t.log.Error("memberlist: reading a UDP packet failed", "error", err)
			continue
		}
		if n < 1 {
			continue
		}
		select {
		case t.packetCh <- &memberlist.Packet{Buf: bytes.Clone(buf[:n]), From: from, Timestamp: at}:
		case <-t.done:
			return
		}
	}
}

package membership

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func newTestTransport(t *testing.T) *transport {
	t.Helper()
	tr, err := newTransport(net.ParseIP("127.0.0.1"), 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Shutdown() })
	return tr
}

func (t *transport) addr() string { return net.JoinHostPort(t.ip.String(), strconv.Itoa(t.port)) }

func recvPacket(t *testing.T, tr *transport) *memberlist.Packet {
	t.Helper()
	select {
	case p := <-tr.PacketCh():
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet within 5 s")
		return nil
	}
}

// Packets arrive whole, from the sender's address, each in a buffer of
// its own size (not a 64 KiB one).
func TestTransportPackets(t *testing.T) {
	a, b := newTestTransport(t), newTestTransport(t)
	msg := []byte("heartbeat from a")
	if _, err := a.WriteTo(msg, b.addr()); err != nil {
		t.Fatal(err)
	}
	p := recvPacket(t, b)
	if !bytes.Equal(p.Buf, msg) {
		t.Errorf("got %q, want %q", p.Buf, msg)
	}
	if cap(p.Buf) > 2*len(msg) {
		t.Errorf("packet of %d bytes held in a buffer of %d", len(p.Buf), cap(p.Buf))
	}
	if p.From.String() != a.addr() {
		t.Errorf("from %s, want %s", p.From, a.addr())
	}
	if p.Timestamp.IsZero() || time.Since(p.Timestamp) > 5*time.Second {
		t.Errorf("timestamp %v", p.Timestamp)
	}
	// The next packet does not overwrite the first (the read buffer is reused).
	if _, err := a.WriteToAddress([]byte("second"), memberlist.Address{Addr: b.addr(), Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if q := recvPacket(t, b); string(q.Buf) != "second" || !bytes.Equal(p.Buf, msg) {
		t.Errorf("second packet %q, first now %q", q.Buf, p.Buf)
	}
}

// Receiving a thousand small packets allocates about their size, not
// 64 KiB each (memberlist's own transport: 64 MiB for these).
func TestTransportPacketAllocations(t *testing.T) {
	a, b := newTestTransport(t), newTestTransport(t)
	const n = 1000
	msg := bytes.Repeat([]byte{'x'}, 60)
	done := make(chan int)
	go func() {
		got := 0
		for got < n {
			select {
			case <-b.PacketCh():
				got++
			case <-time.After(5 * time.Second):
				done <- got
				return
			}
		}
		done <- got
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		if _, err := a.WriteTo(msg, b.addr()); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(time.Millisecond) // let the reader keep up: loopback drops nothing then
		}
	}
	got := <-done
	runtime.ReadMemStats(&after)
	if got < n*9/10 {
		t.Fatalf("%d of %d packets received", got, n)
	}
	perPacket := (after.TotalAlloc - before.TotalAlloc) / uint64(got)
	if perPacket > 4096 {
		t.Errorf("%d bytes allocated per packet received (sending included); want a few hundred", perPacket)
	}
}

// Streams: a dial reaches the other side's StreamCh, both ways work.
func TestTransportStreams(t *testing.T) {
	a, b := newTestTransport(t), newTestTransport(t)
	c, err := a.DialAddressTimeout(memberlist.Address{Addr: b.addr()}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var s net.Conn
	select {
	case s = <-b.StreamCh():
	case <-time.After(5 * time.Second):
		t.Fatal("no stream within 5 s")
	}
	defer s.Close()
	if _, err := c.Write([]byte("push-pull")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "push-pull" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestTransportAdvertiseAndShutdown(t *testing.T) {
	tr := newTestTransport(t)
	ip, port, err := tr.FinalAdvertiseAddr("", 0)
	if err != nil || !ip.Equal(net.ParseIP("127.0.0.1")) || port != tr.port {
		t.Errorf("bound address: %v %d %v; want 127.0.0.1 %d", ip, port, err, tr.port)
	}
	ip, port, err = tr.FinalAdvertiseAddr("192.0.2.7", 7946)
	if err != nil || ip.String() != "192.0.2.7" || len(ip) != net.IPv4len || port != 7946 {
		t.Errorf("given address: %v (%d bytes) %d %v", ip, len(ip), port, err)
	}
	if _, _, err := tr.FinalAdvertiseAddr("not-an-ip", 1); err == nil {
		t.Error("a bad advertise address was accepted")
	}
	// Shutdown ends the loops even with nobody reading, and frees the port.
	other := newTestTransport(t)
	if _, err := other.WriteTo([]byte("unread"), tr.addr()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { tr.Shutdown(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown blocked")
	}
	again, err := newTransport(net.ParseIP("127.0.0.1"), tr.port, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("port %d not free after Shutdown: %v", tr.port, err)
	}
	again.Shutdown()
	if err := tr.Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestPrivateAddr(t *testing.T) {
	nets := func(cidrs ...string) []net.Addr {
		var out []net.Addr
		for _, c := range cidrs {
			ip, n, _ := net.ParseCIDR(c)
			n.IP = ip
			out = append(out, n)
		}
		return out
	}
	for _, c := range []struct {
		addrs []net.Addr
		want  string
	}{
		{nets("127.0.0.1/8", "10.1.2.3/16"), "10.1.2.3"},
		{nets("fd00::5/64", "192.168.1.9/24"), "192.168.1.9"},
		{nets("127.0.0.1/8", "fd00::5/64"), "fd00::5"},
		{nets("127.0.0.1/8", "192.0.2.1/24"), "<nil>"},
	} {
		if got := privateAddr(c.addrs); got.String() != c.want {
			t.Errorf("privateAddr(%v) = %v; want %s", c.addrs, got, c.want)
		}
	}
}

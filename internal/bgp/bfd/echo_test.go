package bfd

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/ferrolb/ferrolb/internal/netpkt"
)

func TestEchoPayloadRoundTrip(t *testing.T) {
	e := echoPayload{Discr: 0xdeadbeef, Seq: 7}
	b := e.marshal()
	if !bytes.HasPrefix(b, []byte("FLBE")) || len(b) != echoLen {
		t.Fatalf("payload % x", b)
	}
	if got, ok := parseEcho(b); !ok || got != e {
		t.Errorf("parseEcho = %+v, %v; want %+v", got, ok, e)
	}
	for name, bad := range map[string][]byte{
		"short":       b[:echoLen-1],
		"long":        append(append([]byte(nil), b...), 0),
		"other magic": append([]byte("FRRE"), b[4:]...),
		"zero discr":  echoPayload{Seq: 1}.marshal(),
		// FRR's echo packet: version 1, length 24, its discriminator.
		"frr": {1, 24, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, ok := parseEcho(bad); ok {
			t.Errorf("%s: accepted % x", name, bad)
		}
	}
}

func FuzzParseEcho(f *testing.F) {
	f.Add(echoPayload{Discr: 1, Seq: 2}.marshal())
	f.Add([]byte("FLBE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := parseEcho(b)
		if ok && !bytes.Equal(e.marshal(), b) {
			t.Errorf("parseEcho(% x) = %+v, which marshals differently", b, e)
		}
	})
}

// The frame is an Ethernet frame to the peer's MAC carrying an IPv4/UDP
// packet from local to local with valid checksums.
func TestEchoFrame(t *testing.T) {
	src, _ := net.ParseMAC("02:00:00:00:00:01")
	dst, _ := net.ParseMAC("02:00:00:00:00:02")
	local := netip.MustParseAddr("198.51.100.17")
	payload := echoPayload{Discr: 42, Seq: 3}.marshal()
	b := echoFrame(src, dst, local, 49200, 3, payload)
	if len(b) != ethLen+ipv4Len+udpLen+echoLen {
		t.Fatalf("frame length %d", len(b))
	}
	if !bytes.Equal(b[0:6], dst) || !bytes.Equal(b[6:12], src) || binary.BigEndian.Uint16(b[12:]) != 0x0800 {
		t.Errorf("Ethernet header % x", b[:14])
	}
	ip := b[ethLen : ethLen+ipv4Len]
	if ip[0] != 0x45 || ip[8] != 255 || ip[9] != 17 || binary.BigEndian.Uint16(ip[2:]) != ipv4Len+udpLen+echoLen {
		t.Errorf("IPv4 header % x", ip)
	}
	if !bytes.Equal(ip[12:16], local.AsSlice()) || !bytes.Equal(ip[16:20], local.AsSlice()) {
		t.Errorf("addresses %v -> %v, want %v both", ip[12:16], ip[16:20], local)
	}
	if c := netpkt.Checksum(0, ip); c != 0 {
		t.Errorf("IPv4 header checksum does not verify (%#x)", c)
	}
	udp := b[ethLen+ipv4Len:]
	if binary.BigEndian.Uint16(udp[0:]) != 49200 || binary.BigEndian.Uint16(udp[2:]) != EchoPort {
		t.Errorf("UDP ports % x", udp[:4])
	}
	if c := netpkt.Checksum(udpPseudoSum(ip, udp), udp); c != 0 {
		t.Errorf("UDP checksum does not verify (%#x)", c)
	}
	if !bytes.Equal(udp[udpLen:], payload) {
		t.Errorf("payload % x", udp[udpLen:])
	}
}

func TestARPEntry(t *testing.T) {
	table := `IP address       HW type     Flags       HW address            Mask     Device
198.51.100.18    0x1         0x0         00:00:00:00:00:00     *        n1
198.51.100.34    0x1         0x2         02:aa:bb:cc:dd:ee     *        n2
198.51.100.50    0x1         0x6         02:11:22:33:44:55     *        eth0
`
	for _, tc := range []struct {
		addr    string
		mac     string
		dev     string
		present bool
	}{
		{"198.51.100.18", "", "", false}, // incomplete
		{"198.51.100.34", "02:aa:bb:cc:dd:ee", "n2", true},
		{"198.51.100.50", "02:11:22:33:44:55", "eth0", true}, // permanent too
		{"198.51.100.3", "", "", false},
	} {
		mac, dev, ok := arpEntry(strings.NewReader(table), netip.MustParseAddr(tc.addr))
		if ok != tc.present || (ok && (mac.String() != tc.mac || dev != tc.dev)) {
			t.Errorf("%s: %v %q %v; want %s %q %v", tc.addr, mac, dev, ok, tc.mac, tc.dev, tc.present)
		}
	}
}

func TestEchoConfig(t *testing.T) {
	c := Config{DesiredMinTx: time.Second, EchoTx: 50 * time.Millisecond, EchoRx: 50 * time.Millisecond}
	v4 := Spec{Peer: netip.MustParseAddr("198.51.100.2")}
	for _, tc := range []struct {
		name     string
		s        Spec
		forwards bool
		tx, rx   time.Duration
	}{
		{"single hop, forwarding", v4, true, 50 * time.Millisecond, 50 * time.Millisecond},
		{"single hop, not forwarding: transmits, does not loop", v4, false, 50 * time.Millisecond, 0},
		{"multi hop", Spec{Peer: v4.Peer, Multihop: true}, true, 0, 0},
		{"IPv6", Spec{Peer: netip.MustParseAddr("2001:db8::2")}, true, 0, 0},
	} {
		tc.s.Config = c
		got := echoConfig(tc.s, tc.forwards)
		if got.EchoTx != tc.tx || got.EchoRx != tc.rx || got.DesiredMinTx != time.Second {
			t.Errorf("%s: %+v; want echo tx %v rx %v", tc.name, got, tc.tx, tc.rx)
		}
	}
}

// returned turns a frame echoFrame built into the one that comes back from
// the peer: TTL decremented, header checksum updated, MACs swapped.
func returned(b []byte) []byte {
	b = append([]byte(nil), b...)
	var mac [6]byte
	copy(mac[:], b[0:6])
	copy(b[0:6], b[6:12])
	copy(b[6:12], mac[:])
	ip := b[ethLen : ethLen+ipv4Len]
	ip[8]--
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], netpkt.Checksum(0, ip))
	return b
}

// withOptions inserts 4 bytes of IPv4 options (NOP x4) into frame.
func withOptions(b []byte) []byte {
	out := append([]byte(nil), b[:ethLen+ipv4Len]...)
	out = append(out, 1, 1, 1, 1)
	out = append(out, b[ethLen+ipv4Len:]...)
	ip := out[ethLen : ethLen+ipv4Len+4]
	ip[0] = 0x46
	binary.BigEndian.PutUint16(ip[2:], binary.BigEndian.Uint16(ip[2:])+4)
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], netpkt.Checksum(0, ip))
	return out
}

// The socket filter and the parser let through this host's echo packets
// of one session coming back, and nothing else: not its own outgoing
// frames (TTL 255), not the peer's echo packets (another source), not
// another session's (another source port), not other traffic.
func TestEchoFilterAndParse(t *testing.T) {
	me, _ := net.ParseMAC("02:00:00:00:00:01")
	peer, _ := net.ParseMAC("02:00:00:00:00:02")
	local := netip.MustParseAddr("198.51.100.17")
	router := netip.MustParseAddr("198.51.100.18")
	payload := echoPayload{Discr: 42, Seq: 3}.marshal()
	out := echoFrame(me, peer, local, 49200, 3, payload)
	back := returned(out)
	frrEcho := returned(echoFrame(peer, me, router, 49300, 1, make([]byte, 24)))
	otherPort := returned(echoFrame(me, peer, local, 49200, 3, payload))
	binary.BigEndian.PutUint16(otherPort[ethLen+ipv4Len+2:], 3784)
	otherSession := returned(echoFrame(me, peer, local, 49201, 3, payload))
	arp := make([]byte, 42)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)

	vm, err := bpf.NewVM(echoFrameFilter(local, 49200))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		frame  []byte
		accept bool
	}{
		{"returning echo", back, true},
		{"returning echo with IP options", withOptions(back), true},
		{"own outgoing echo (TTL 255)", out, false},
		{"peer's echo packet", frrEcho, false},
		{"another UDP port", otherPort, false},
		{"another session's echo (source port)", otherSession, false},
		{"ARP", arp, false},
		{"short", back[:20], false},
	} {
		n, err := vm.Run(tc.frame)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (n > 0) != tc.accept {
			t.Errorf("%s: filter returned %d, want accept %v", tc.name, n, tc.accept)
		}
	}
	if _, err := bpf.Assemble(echoFilter(local, 49200)); err != nil {
		t.Errorf("the socket's program does not assemble: %v", err)
	}

	for _, frame := range [][]byte{back, withOptions(back)} {
		src, ttl, got, ok := parseEchoFrame(frame)
		if !ok || src != local || ttl != echoReturnTTL || !bytes.Equal(got, payload) {
			t.Errorf("parseEchoFrame = %v %d % x %v; want %v %d % x", src, ttl, got, ok, local, echoReturnTTL, payload)
		}
	}
	bad := append([]byte(nil), back...)
	bad[ethLen+8]++ // TTL changed, checksum not updated
	fragment := returned(echoFrame(me, peer, local, 49200, 3, payload))
	fragment[ethLen+6] |= 0x20 // more fragments
	fragment[ethLen+10], fragment[ethLen+11] = 0, 0
	binary.BigEndian.PutUint16(fragment[ethLen+10:], netpkt.Checksum(0, fragment[ethLen:ethLen+ipv4Len]))
	for name, frame := range map[string][]byte{"bad checksum": bad, "fragment": fragment, "truncated": back[:len(back)-4], "short": back[:30]} {
		if _, _, _, ok := parseEchoFrame(frame); ok {
			t.Errorf("%s: parsed", name)
		}
	}
}

func FuzzParseEchoFrame(f *testing.F) {
	me, _ := net.ParseMAC("02:00:00:00:00:01")
	f.Add(returned(echoFrame(me, me, netip.MustParseAddr("198.51.100.17"), 49200, 1, echoPayload{Discr: 1, Seq: 1}.marshal())))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, p, ok := parseEchoFrame(b); ok && len(p) > len(b) {
			t.Errorf("payload longer than the frame")
		}
	})
}

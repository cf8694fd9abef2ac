package bfd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/ferrolb/ferrolb/internal/netpkt"
)

// EchoPort is the UDP destination port of BFD Echo packets (RFC 5881
// section 4).
const EchoPort = 3785

// echoMagic starts this engine's echo payloads (whose format RFC 5880
// leaves to the sender). Its first byte is not a BFD version, so another
// implementation that looks at the packets on their way back (FRR's bfdd
// watches port 3785) discards them.
var echoMagic = [4]byte{'F', 'L', 'B', 'E'}

// echoLen is the size of an echo payload: magic, discriminator, sequence
// number.
const echoLen = 12

// echoPayload identifies one echo packet of one session.
type echoPayload struct {
	Discr uint32 // the sending session's local discriminator
	Seq   uint32
}

func (e echoPayload) marshal() []byte {
	b := make([]byte, echoLen)
	copy(b, echoMagic[:])
	binary.BigEndian.PutUint32(b[4:], e.Discr)
	binary.BigEndian.PutUint32(b[8:], e.Seq)
	return b
}

// parseEcho reads a payload written by marshal; false for anything else.
func parseEcho(b []byte) (echoPayload, bool) {
	if len(b) != echoLen || !bytes.Equal(b[:4], echoMagic[:]) {
		return echoPayload{}, false
	}
	e := echoPayload{Discr: binary.BigEndian.Uint32(b[4:]), Seq: binary.BigEndian.Uint32(b[8:])}
	return e, e.Discr != 0
}

// echoReturnTTL is the TTL an echo packet sent with 255 has after the
// remote system's forwarding plane sent it back: one hop, no more.
const echoReturnTTL = 254

// Offsets and sizes of the frame echoFrame builds.
const (
	ethLen  = 14
	ipv4Len = 20
	udpLen  = 8
)

// echoFrame builds the Ethernet frame of an IPv4 echo packet (RFC 5881
// section 4): from local to local, so that the remote system, whose MAC
// address is dst, forwards it straight back; TTL 255, DSCP CS6 like the
// Control packets of most implementations, UDP from srcPort to EchoPort.
func echoFrame(src, dst net.HardwareAddr, local netip.Addr, srcPort, id uint16, payload []byte) []byte {
	b := make([]byte, ethLen+ipv4Len+udpLen+len(payload))
	copy(b[0:6], dst)
	copy(b[6:12], src)
	binary.BigEndian.PutUint16(b[12:], 0x0800)

	ip := b[ethLen : ethLen+ipv4Len]
	ip[0] = 0x45 // version 4, 5 words
	ip[1] = 0xc0 // DSCP CS6
	binary.BigEndian.PutUint16(ip[2:], uint16(ipv4Len+udpLen+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
	ip[8] = 255
	ip[9] = 17 // UDP
	a := local.As4()
	copy(ip[12:16], a[:])
	copy(ip[16:20], a[:])
	binary.BigEndian.PutUint16(ip[10:], netpkt.Checksum(0, ip))

	udp := b[ethLen+ipv4Len:]
	binary.BigEndian.PutUint16(udp[0:], srcPort)
	binary.BigEndian.PutUint16(udp[2:], EchoPort)
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen+len(payload)))
	copy(udp[udpLen:], payload)
	// Pseudo-header: addresses, protocol, UDP length (RFC 768).
	c := netpkt.Checksum(udpPseudoSum(ip, udp), udp)
	if c == 0 {
		c = 0xffff // zero means "no checksum" in UDP over IPv4
	}
	binary.BigEndian.PutUint16(udp[6:], c)
	return b
}

// udpPseudoSum is the sum of the IPv4 pseudo-header of a UDP datagram
// (RFC 768): the addresses of the IPv4 header ip, the protocol and the UDP
// length field of udp.
func udpPseudoSum(ip, udp []byte) uint64 {
	return netpkt.Sum(netpkt.Sum(netpkt.Sum(0, ip[12:20]), []byte{0, 17}), udp[4:6])
}

// echoFilter keeps the frames that can be the echo packets of one session
// (UDP source port srcPort) coming back to local: IPv4 UDP from srcPort
// to EchoPort, source local, TTL echoReturnTTL. The kernel drops them
// itself (a packet from one of its own addresses arriving from outside is
// a martian unless accept_local is set), so they are read on a packet
// socket; the source port keeps each session's socket to its own packets
// when several sessions share an interface and address. netpkt.HostGuard
// comes first; x/net/bpf's virtual machine cannot run it, so the tests run
// echoFrameFilter alone.
func echoFilter(local netip.Addr, srcPort uint16) []bpf.Instruction {
	return netpkt.Guarded(echoFrameFilter(local, srcPort))
}

func echoFrameFilter(local netip.Addr, srcPort uint16) []bpf.Instruction {
	a := local.As4()
	// Each test jumps to the last instruction (drop) when it fails;
	// SkipTrue counts the instructions between the jump and its target.
	const drop = 14
	skip := func(from int) uint8 { return uint8(drop - from - 1) }
	return []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: skip(1)},
		/* 2 */ bpf.LoadAbsolute{Off: ethLen + 9, Size: 1}, // protocol
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: skip(3)},
		/* 4 */ bpf.LoadAbsolute{Off: ethLen + 12, Size: 4}, // source
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: binary.BigEndian.Uint32(a[:]), SkipTrue: skip(5)},
		/* 6 */ bpf.LoadAbsolute{Off: ethLen + 8, Size: 1}, // TTL
		/* 7 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: echoReturnTTL, SkipTrue: skip(7)},
		/* 8 */ bpf.LoadMemShift{Off: ethLen}, // X = header length
		/* 9 */ bpf.LoadIndirect{Off: ethLen + 2, Size: 2}, // UDP destination port
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: EchoPort, SkipTrue: skip(10)},
		/* 11 */ bpf.LoadIndirect{Off: ethLen, Size: 2}, // UDP source port
		/* 12 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(srcPort), SkipTrue: skip(12)},
		/* accept */ bpf.RetConstant{Val: 256},
		/* drop */ bpf.RetConstant{Val: 0},
	}
}

// parseEchoFrame reads what echoFilter let through: the IPv4 source and
// TTL and the UDP payload. It checks the header checksum and lengths,
// which no one has checked yet on a packet socket.
func parseEchoFrame(b []byte) (src netip.Addr, ttl int, payload []byte, ok bool) {
	if len(b) < ethLen+ipv4Len+udpLen {
		return netip.Addr{}, 0, nil, false
	}
	ip := b[ethLen:]
	ihl := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	fragment := binary.BigEndian.Uint16(ip[6:])&0x3fff != 0
	if ip[0]>>4 != 4 || ihl < ipv4Len || total < ihl+udpLen || total > len(ip) || fragment || ip[9] != 17 || netpkt.Checksum(0, ip[:ihl]) != 0 {
		return netip.Addr{}, 0, nil, false
	}
	udp := ip[ihl:total]
	ulen := int(binary.BigEndian.Uint16(udp[4:]))
	if binary.BigEndian.Uint16(udp[2:]) != EchoPort || ulen < udpLen || ulen > len(udp) {
		return netip.Addr{}, 0, nil, false
	}
	return netip.AddrFrom4([4]byte(ip[12:16])), int(ip[8]), udp[udpLen:ulen], true
}

// arpEntry finds the link-layer address of addr in the kernel's IPv4
// neighbour table, as /proc/net/arp lists it (columns: IP address, HW
// type, Flags, HW address, Mask, Device), and the device it is on. Only
// complete entries (flag ATF_COM, 0x2) count.
func arpEntry(table io.Reader, addr netip.Addr) (mac net.HardwareAddr, dev string, ok bool) {
	want := addr.String()
	sc := bufio.NewScanner(table)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0] != want {
			continue
		}
		flags, err := strconv.ParseUint(f[2], 0, 32)
		if err != nil || flags&0x2 == 0 {
			continue
		}
		hw, err := net.ParseMAC(f[3])
		if err != nil || len(hw) != 6 {
			continue
		}
		return hw, f[5], true
	}
	return nil, "", false
}

// echoConfig is s.Config less what the Echo function cannot use on its
// path: echo needs a single-hop IPv4 session (RFC 5883 section 3 leaves it
// out of multi-hop; IPv6 is not implemented), and this side loops the
// remote's echo packets back only when the interface towards it forwards
// IPv4 (forwards).
func echoConfig(s Spec, forwards bool) Config {
	c := s.Config
	if s.Multihop || !s.Peer.Is4() {
		c.EchoTx, c.EchoRx = 0, 0
	}
	if !forwards {
		c.EchoRx = 0
	}
	return c
}

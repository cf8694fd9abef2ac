package wire

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ndpPacket builds an IPv6 packet carrying msg with a correct checksum,
// after letting edit change the message bytes (checksum recomputed).
func ndpPacket(t *testing.T, src, dst string, m Message, edit func(msg []byte) []byte) IPv6 {
	t.Helper()
	s, d := addr(src), addr(dst)
	msg, err := m.Marshal(s, d)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		msg = edit(msg)
		if len(msg) >= 4 {
			putICMPv6Checksum(s, d, msg)
		}
	}
	return IPv6{NextHeader: ProtocolICMPv6, HopLimit: 255, Src: s, Dst: d, Payload: msg}
}

// TestNeighborSolicitationValidity walks the receive checks of RFC 4861
// section 7.1.1, one rule per row.
func TestNeighborSolicitationValidity(t *testing.T) {
	peer := mac("02:00:00:00:00:0b")
	ns := NeighborSolicitation{Target: addr("2001:db8::1"), SourceLL: &peer}
	tests := []struct {
		name    string
		packet  func(t *testing.T) IPv6
		want    NeighborSolicitation
		wantErr error
	}{
		{
			name:   "multicast solicitation with source option is valid",
			packet: func(t *testing.T) IPv6 { return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, nil) },
			want:   ns,
		},
		{
			name: "unicast solicitation without source option is valid",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "2001:db8::1", NeighborSolicitation{Target: addr("2001:db8::1")}, nil)
			},
			want: NeighborSolicitation{Target: addr("2001:db8::1")},
		},
		{
			name: "DAD probe from :: to the solicited-node group is valid",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "::", "ff02::1:ff00:1", NeighborSolicitation{Target: addr("2001:db8::1")}, nil)
			},
			want: NeighborSolicitation{Target: addr("2001:db8::1")},
		},
		{
			name: "unknown options are skipped",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, func(m []byte) []byte {
					return append(m, 14, 1, 1, 2, 3, 4, 5, 6) // nonce, RFC 7527
				})
			},
			want: ns,
		},
		{
			name: "the first of two source options wins",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, func(m []byte) []byte {
					return append(m, 1, 1, 2, 0, 0, 0, 0, 0x0c)
				})
			},
			want: ns,
		},
		{
			name: "hop limit other than 255 means it was routed",
			packet: func(t *testing.T) IPv6 {
				p := ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, nil)
				p.HopLimit = 254
				return p
			},
			wantErr: ErrMalformed,
		},
		{
			name: "bad checksum",
			packet: func(t *testing.T) IPv6 {
				p := ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, nil)
				p.Payload[2] ^= 0x01
				return p
			},
			wantErr: ErrChecksum,
		},
		{
			name: "checksum computed for another source",
			packet: func(t *testing.T) IPv6 {
				p := ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, nil)
				p.Src = addr("fe80::c")
				return p
			},
			wantErr: ErrChecksum,
		},
		{
			name: "code must be 0",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, func(m []byte) []byte { m[1] = 1; return m })
			},
			wantErr: ErrMalformed,
		},
		{
			name: "shorter than 24 bytes",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, func(m []byte) []byte { return m[:20] })
			},
			wantErr: ErrTruncated,
		},
		{
			name: "multicast target",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, func(m []byte) []byte { m[8] = 0xff; return m })
			},
			wantErr: ErrMalformed,
		},
		{
			name: "option of length zero",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, func(m []byte) []byte { m[25] = 0; return m })
			},
			wantErr: ErrMalformed,
		},
		{
			name: "option longer than the message",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, func(m []byte) []byte { m[25] = 2; return m })
			},
			wantErr: ErrTruncated,
		},
		{
			name: "DAD probe to a unicast destination",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "::", "2001:db8::1", NeighborSolicitation{Target: addr("2001:db8::1")}, nil)
			},
			wantErr: ErrMalformed,
		},
		{
			name:    "DAD probe with a source link-layer option",
			packet:  func(t *testing.T) IPv6 { return ndpPacket(t, "::", "ff02::1:ff00:1", ns, nil) },
			wantErr: ErrMalformed,
		},
		{
			name: "not icmpv6",
			packet: func(t *testing.T) IPv6 {
				p := ndpPacket(t, "fe80::b", "ff02::1:ff00:1", ns, nil)
				p.NextHeader = 17
				return p
			},
			wantErr: ErrUnsupported,
		},
		{
			name: "an advertisement is not a solicitation",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::b", "fe80::a", NeighborAdvertisement{Target: addr("2001:db8::1")}, nil)
			},
			wantErr: ErrUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNeighborSolicitation(tt.packet(t))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpAddr); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestNeighborAdvertisementValidity covers RFC 4861 section 7.1.2 and the
// flag bits.
func TestNeighborAdvertisementValidity(t *testing.T) {
	me := mac("02:00:00:00:00:0a")
	tests := []struct {
		name    string
		packet  func(t *testing.T) IPv6
		want    NeighborAdvertisement
		wantErr error
	}{
		{
			name: "all three flags",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::a", "fe80::b", NeighborAdvertisement{Router: true, Solicited: true, Override: true, Target: addr("2001:db8::1"), TargetLL: &me}, nil)
			},
			want: NeighborAdvertisement{Router: true, Solicited: true, Override: true, Target: addr("2001:db8::1"), TargetLL: &me},
		},
		{
			name: "router flag alone",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::a", "fe80::b", NeighborAdvertisement{Router: true, Target: addr("2001:db8::1")}, nil)
			},
			want: NeighborAdvertisement{Router: true, Target: addr("2001:db8::1")},
		},
		{
			name: "solicited advertisement to a multicast group",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::a", "ff02::1", NeighborAdvertisement{Solicited: true, Target: addr("2001:db8::1")}, nil)
			},
			wantErr: ErrMalformed,
		},
		{
			name: "hop limit 64",
			packet: func(t *testing.T) IPv6 {
				p := ndpPacket(t, "fe80::a", "ff02::1", NeighborAdvertisement{Override: true, Target: addr("2001:db8::1")}, nil)
				p.HopLimit = 64
				return p
			},
			wantErr: ErrMalformed,
		},
		{
			name: "multicast target",
			packet: func(t *testing.T) IPv6 {
				return ndpPacket(t, "fe80::a", "ff02::1", NeighborAdvertisement{Target: addr("2001:db8::1")}, func(m []byte) []byte { m[8] = 0xff; return m })
			},
			wantErr: ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNeighborAdvertisement(tt.packet(t))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpAddr); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalNDPRejects(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.Addr
		m        Message
	}{
		{"ipv4 source", addr("198.51.100.1"), addr("ff02::1"), NeighborAdvertisement{Target: addr("2001:db8::1")}},
		{"missing destination", addr("fe80::1"), netip.Addr{}, NeighborAdvertisement{Target: addr("2001:db8::1")}},
		{"ipv4 target", addr("fe80::1"), addr("ff02::1"), NeighborAdvertisement{Target: addr("198.51.100.1")}},
		{"multicast target", addr("fe80::1"), addr("ff02::1:ff00:1"), NeighborSolicitation{Target: addr("ff02::1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.m.Marshal(tt.src, tt.dst); !errors.Is(err, ErrMalformed) {
				t.Errorf("Marshal error = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestICMPv6ChecksumOddLength(t *testing.T) {
	// An odd-length message is padded with a zero byte for summing
	// (RFC 1071): the checksum must equal that of the padded message
	// whose length field still says the odd length.
	src, dst := addr("2001:db8::1"), addr("2001:db8::2")
	odd := []byte{128, 0, 0, 0, 0xab, 0xcd, 0xef}
	sum := ICMPv6Checksum(src, dst, odd)
	binary.BigEndian.PutUint16(odd[2:], sum)
	if !VerifyICMPv6Checksum(src, dst, odd) {
		t.Fatalf("checksum %#04x does not verify", sum)
	}
	odd[6] ^= 0x80
	if VerifyICMPv6Checksum(src, dst, odd) {
		t.Fatal("a flipped bit in the odd byte still verifies")
	}
}

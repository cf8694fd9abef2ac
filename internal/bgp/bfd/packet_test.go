package bfd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// upPacket is an Up packet as FRR sends it with 100 ms timers, with the
// bytes from RFC 5880 section 4.1's layout worked out by hand.
var upPacket = ControlPacket{
	Version: 1, State: StateUp, DetectMult: 3,
	MyDiscr: 0x11223344, YourDiscr: 0x55667788,
	DesiredMinTx: 100000, RequiredMinRx: 100000, RequiredMinEchoRx: 50000,
}

const upPacketHex = "20c00318" + "11223344" + "55667788" + "000186a0" + "000186a0" + "0000c350"

func TestMarshalGolden(t *testing.T) {
	b, err := upPacket.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != upPacketHex {
		t.Errorf("Marshal = %s, want %s", got, upPacketHex)
	}
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(upPacket, *p); diff != "" {
		t.Errorf("Parse(Marshal) (-want +got):\n%s", diff)
	}
}

func TestMarshalFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    ControlPacket
		b1   byte
	}{
		{"poll", ControlPacket{State: StateInit, Poll: true}, 0x80 | 0x20},
		{"final", ControlPacket{State: StateDown, Final: true}, 0x40 | 0x10},
		{"cpi", ControlPacket{State: StateAdminDown, CPI: true}, 0x08},
		{"demand", ControlPacket{State: StateUp, Demand: true}, 0xc0 | 0x02},
		{"multipoint", ControlPacket{State: StateUp, Multipoint: true}, 0xc0 | 0x01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if b[1] != tc.b1 {
				t.Errorf("byte 1 = %#x, want %#x", b[1], tc.b1)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	valid := func(edit func(b []byte) []byte) []byte {
		b, _ := upPacket.Marshal()
		return edit(b)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"short", valid(func(b []byte) []byte { return b[:23] }), ErrShort},
		{"version 0", valid(func(b []byte) []byte { b[0] = 0x00; return b }), ErrVersion},
		{"version 2", valid(func(b []byte) []byte { b[0] = 0x40; return b }), ErrVersion},
		{"length below header", valid(func(b []byte) []byte { b[3] = 23; return b }), ErrLength},
		{"length beyond datagram", valid(func(b []byte) []byte { b[3] = 25; return b }), ErrLength},
		{"detect mult 0", valid(func(b []byte) []byte { b[2] = 0; return b }), ErrDetectMult},
		{"multipoint", valid(func(b []byte) []byte { b[1] |= flagMultipoint; return b }), ErrMultipoint},
		{"my discr 0", valid(func(b []byte) []byte { copy(b[4:8], []byte{0, 0, 0, 0}); return b }), ErrMyDiscr},
		{"your discr 0 while up", valid(func(b []byte) []byte { copy(b[8:12], []byte{0, 0, 0, 0}); return b }), ErrYourDiscr},
		{"poll and final", valid(func(b []byte) []byte { b[1] |= flagPoll | flagFinal; return b }), ErrFinalWithPoll},
		{"auth without section", valid(func(b []byte) []byte { b[1] |= flagAuth; return b }), ErrAuthLength},
		{"auth length mismatch", valid(func(b []byte) []byte {
			b[1] |= flagAuth
			b = append(b, 1, 9, 0, 0)
			b[3] = byte(len(b))
			return b
		}), ErrAuthLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b)
			if !errors.Is(err, tc.want) {
				t.Errorf("Parse error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	down := ControlPacket{Version: 1, State: StateDown, DetectMult: 3, MyDiscr: 7, DesiredMinTx: 1000000, RequiredMinRx: 100000}
	b, _ := down.Marshal()
	for _, tc := range []struct {
		name string
		b    []byte
		want ControlPacket
	}{
		{"down with your discr 0", b, down},
		{"trailing bytes past the length", append(bytes.Clone(b), 0xde, 0xad), down},
		{"auth section kept", func() []byte {
			c := bytes.Clone(b)
			c[1] |= flagAuth
			c = append(c, 1, 5, 1, 'x', 'y')
			c[3] = byte(len(c))
			return c
		}(), func() ControlPacket {
			p := down
			p.Auth, p.AuthSection = true, []byte{1, 5, 1, 'x', 'y'}
			return p
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, *p); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that what it accepts
// survives a Marshal/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	seeds := [][]byte{}
	for _, p := range []ControlPacket{
		upPacket,
		{Version: 1, State: StateDown, DetectMult: 3, MyDiscr: 1, DesiredMinTx: 1000000, RequiredMinRx: 300000},
		{Version: 1, State: StateInit, Poll: true, DetectMult: 5, MyDiscr: 2, YourDiscr: 3},
		{Version: 1, State: StateAdminDown, Diag: DiagAdminDown, DetectMult: 1, MyDiscr: 9},
		{Version: 1, State: StateUp, Auth: true, AuthSection: []byte{2, 4, 1, 0}, DetectMult: 3, MyDiscr: 1, YourDiscr: 1},
	} {
		b, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	seeds = append(seeds, []byte{}, []byte{0x20}, make([]byte, 24))
	if len(seeds) == 0 {
		f.Fatal("empty seed corpus")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed packet: %v", err)
		}
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(p)): %v", err)
		}
		if diff := cmp.Diff(p, q); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

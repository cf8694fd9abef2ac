package wire

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEthernetErrors(t *testing.T) {
	if _, err := ParseEthernet(make([]byte, 13)); !errors.Is(err, ErrTruncated) {
		t.Errorf("13 bytes: error = %v, want ErrTruncated", err)
	}
	llc := unhex(t, "ffffffffffff 02000000000a 0026 4242030000")
	if _, err := ParseEthernet(llc); !errors.Is(err, ErrUnsupported) {
		t.Errorf("802.3 length field: error = %v, want ErrUnsupported", err)
	}
}

func TestParseARPErrors(t *testing.T) {
	valid := unhex(t, "0001 0800 06 04 0001 02000000000b c6336402 000000000000 c6336401")
	tests := []struct {
		name    string
		b       []byte
		wantErr error
	}{
		{"valid with trailing padding", append(append([]byte{}, valid...), make([]byte, 18)...), nil},
		{"token ring hardware", patch(valid, 1, 6), ErrUnsupported},
		{"ipv6 protocol type", patch(patch(valid, 2, 0x86), 3, 0xdd), ErrUnsupported},
		{"hardware length 8", patch(valid, 4, 8), ErrMalformed},
		{"protocol length 16", patch(valid, 5, 16), ErrMalformed},
		{"cut in the target address", valid[:27], ErrTruncated},
		{"cut in the fixed header", valid[:7], ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseARP(tt.b); !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestARPAppendNeedsIPv4(t *testing.T) {
	_, err := ARP{Op: ARPRequest, SenderIP: addr("2001:db8::1"), TargetIP: addr("198.51.100.1")}.Append(nil)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("error = %v, want ErrMalformed", err)
	}
}

func TestParseIPv6(t *testing.T) {
	hdr := unhex(t, `6abcdef1 0003 3a ff
		20010db8000000000000000000000001
		20010db8000000000000000000000002
		aabbcc dddd`) // 3 payload bytes, then 2 bytes of padding
	got, err := ParseIPv6(hdr)
	if err != nil {
		t.Fatal(err)
	}
	want := IPv6{TrafficClass: 0xab, FlowLabel: 0xcdef1, NextHeader: 58, HopLimit: 255,
		Src: addr("2001:db8::1"), Dst: addr("2001:db8::2"), Payload: []byte{0xaa, 0xbb, 0xcc}}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseIPv6(patch(hdr, 0, 0x4a)); !errors.Is(err, ErrMalformed) {
		t.Errorf("version 4: error = %v, want ErrMalformed", err)
	}
	if _, err := ParseIPv6(patch(hdr, 5, 0x06)); !errors.Is(err, ErrTruncated) {
		t.Errorf("payload length beyond the data: error = %v, want ErrTruncated", err)
	}
	if _, err := ParseIPv6(hdr[:39]); !errors.Is(err, ErrTruncated) {
		t.Errorf("39 bytes: error = %v, want ErrTruncated", err)
	}
}

func TestIPv6AppendRejects(t *testing.T) {
	tests := []struct {
		name    string
		h       IPv6
		wantErr error
	}{
		{"ipv4 source", IPv6{Src: addr("198.51.100.1"), Dst: addr("2001:db8::1")}, ErrMalformed},
		{"flow label over 20 bits", IPv6{Src: addr("2001:db8::2"), Dst: addr("2001:db8::1"), FlowLabel: 1 << 20}, ErrMalformed},
		{"jumbo payload", IPv6{Src: addr("2001:db8::2"), Dst: addr("2001:db8::1"), Payload: make([]byte, 65536)}, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.h.Append(nil); !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSolicitedNode(t *testing.T) {
	tests := []struct {
		ip, want string
		mac      string
	}{
		{"2001:db8::1:2345:6789", "ff02::1:ff45:6789", "33:33:ff:45:67:89"},
		{"fe80::ff:fe00:a", "ff02::1:ff00:a", "33:33:ff:00:00:0a"},
		{"2001:db8::", "ff02::1:ff00:0", "33:33:ff:00:00:00"},
	}
	for _, tt := range tests {
		got := SolicitedNode(addr(tt.ip))
		if got != addr(tt.want) {
			t.Errorf("SolicitedNode(%s) = %v, want %s", tt.ip, got, tt.want)
		}
		if !IsSolicitedNode(got) {
			t.Errorf("IsSolicitedNode(%v) = false", got)
		}
		if m := MulticastMAC(got); m != mac(tt.mac) {
			t.Errorf("MulticastMAC(%v) = %v, want %s", got, m, tt.mac)
		}
	}
	if got := SolicitedNode(addr("198.51.100.1")); got.IsValid() {
		t.Errorf("SolicitedNode(ipv4) = %v, want the zero Addr", got)
	}
	for _, s := range []string{"ff02::1", "ff02::2:ff00:1", "ff05::1:ff00:1", "2001:db8::1", "198.51.100.1"} {
		if IsSolicitedNode(addr(s)) {
			t.Errorf("IsSolicitedNode(%s) = true", s)
		}
	}
	if MulticastMAC(AllNodes) != mac("33:33:00:00:00:01") {
		t.Errorf("MulticastMAC(ff02::1) = %v", MulticastMAC(AllNodes))
	}
	if AllNodes != netip.MustParseAddr("ff02::1") {
		t.Errorf("AllNodes = %v", AllNodes)
	}
}

func TestMAC(t *testing.T) {
	m, err := MACFrom(net.HardwareAddr{2, 0, 0, 0, 0, 0x0a})
	if err != nil || m != mac("02:00:00:00:00:0a") {
		t.Fatalf("MACFrom = %v, %v", m, err)
	}
	if m.String() != "02:00:00:00:00:0a" || m.HardwareAddr().String() != "02:00:00:00:00:0a" {
		t.Errorf("String %q, HardwareAddr %q", m.String(), m.HardwareAddr())
	}
	if m.IsMulticast() || !Broadcast.IsMulticast() || !mac("33:33:00:00:00:01").IsMulticast() {
		t.Error("IsMulticast wrong")
	}
	if _, err := MACFrom(make(net.HardwareAddr, 20)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("20-byte infiniband address: error = %v, want ErrUnsupported", err)
	}
}

// patch returns a copy of b with b[i] = v.
func patch(b []byte, i int, v byte) []byte {
	c := append([]byte{}, b...)
	c[i] = v
	return c
}

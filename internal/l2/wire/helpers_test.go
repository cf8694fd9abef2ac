package wire

import (
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
)

// unhex decodes hex written with spaces, newlines and "#" comments.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for line := range strings.Lines(s) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// wantCaptures is the number of frames in testdata/captures; a missing or
// empty folder must fail rather than check nothing.
const wantCaptures = 13

// captures reads testdata/captures/*.hex: frames recorded with tcpdump
// between two network namespaces, sent by the Linux kernel, arping and
// ndisc6. The key is the file name without extension.
func captures(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "captures", "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != wantCaptures {
		t.Fatalf("found %d capture files, want %d", len(files), wantCaptures)
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".hex")] = unhex(t, string(raw))
	}
	return out
}

// decoded is everything this package can read from one frame.
type decoded struct {
	Dst, Src  MAC
	EtherType uint16
	ARP       *ARP
	IP        *IPv6 // Payload cleared
	NS        *NeighborSolicitation
	NA        *NeighborAdvertisement
}

// decode parses a frame as deep as it goes; an NDP parse error is
// returned with the layers decoded so far.
func decode(frame []byte) (decoded, error) {
	eth, err := ParseEthernet(frame)
	if err != nil {
		return decoded{}, err
	}
	d := decoded{Dst: eth.Dst, Src: eth.Src, EtherType: eth.EtherType}
	switch eth.EtherType {
	case EtherTypeARP:
		a, err := ParseARP(eth.Payload)
		if err != nil {
			return d, err
		}
		d.ARP = &a
	case EtherTypeIPv6:
		ip, err := ParseIPv6(eth.Payload)
		if err != nil {
			return d, err
		}
		hdr := ip
		hdr.Payload = nil
		d.IP = &hdr
		if len(ip.Payload) > 0 && ip.NextHeader == ProtocolICMPv6 {
			switch ip.Payload[0] {
			case ICMPv6NeighborSolicitation:
				ns, err := ParseNeighborSolicitation(ip)
				if err != nil {
					return d, err
				}
				d.NS = &ns
			case ICMPv6NeighborAdvertisement:
				na, err := ParseNeighborAdvertisement(ip)
				if err != nil {
					return d, err
				}
				d.NA = &na
			}
		}
	}
	return d, nil
}

// encode rebuilds a frame from a decoded value with this package's
// encoders; IPv6 header fields are taken from d.IP.
func encode(d decoded) ([]byte, error) {
	eth := Ethernet{Dst: d.Dst, Src: d.Src, EtherType: d.EtherType}
	switch {
	case d.ARP != nil:
		return ARPFrame(d.Dst, d.Src, *d.ARP)
	case d.IP != nil:
		var msg []byte
		var err error
		switch {
		case d.NS != nil:
			msg, err = d.NS.Marshal(d.IP.Src, d.IP.Dst)
		case d.NA != nil:
			msg, err = d.NA.Marshal(d.IP.Src, d.IP.Dst)
		}
		if err != nil {
			return nil, err
		}
		ip := *d.IP
		ip.Payload = msg
		return ip.Append(eth.Append(nil))
	}
	return eth.Append(nil), nil
}

func mac(s string) MAC {
	var m MAC
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil || len(b) != 6 {
		panic("bad mac " + s)
	}
	copy(m[:], b)
	return m
}

func macp(s string) *MAC { m := mac(s); return &m }

var addr = netip.MustParseAddr

// cmpAddr lets go-cmp compare netip.Addr values with ==.
var cmpAddr = cmpopts.EquateComparable(netip.Addr{})

func addrFrom16(b [16]byte) netip.Addr { return netip.AddrFrom16(b) }

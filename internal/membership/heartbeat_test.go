package membership

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHeartbeatWire(t *testing.T) {
	tests := []struct {
		name string
		hb   heartbeat
		wire string
	}{
		{"hears you", heartbeat{From: "a", To: "bc", HearsYou: true}, "FLHB\x01\x01\x01a\x02bc"},
		{"does not hear you", heartbeat{From: "node-1", To: "n2"}, "FLHB\x01\x00\x06node-1\x02n2"},
		{"goodbye", heartbeat{From: "a", To: "b", HearsYou: true, Leaving: true}, "FLHB\x01\x03\x01a\x01b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.hb.marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.wire {
				t.Errorf("marshal = %q, want %q", b, tc.wire)
			}
			got, err := parseHeartbeat([]byte(tc.wire))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.hb, got); diff != "" {
				t.Errorf("parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeartbeatLongestNamesFit(t *testing.T) {
	hb := heartbeat{From: strings.Repeat("a", 255), To: strings.Repeat("b", 255)}
	b, err := hb.marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != maxHeartbeatLen || maxHeartbeatLen+64 > minUDPBufferSize {
		t.Errorf("heartbeat of %d bytes (max %d) does not leave room under UDPBufferSize %d",
			len(b), maxHeartbeatLen, minUDPBufferSize)
	}
	if _, err := (heartbeat{From: strings.Repeat("a", 256), To: "b"}).marshal(); err == nil {
		t.Error("marshal accepted a 256-byte name")
	}
	if _, err := (heartbeat{From: "a"}).marshal(); err == nil {
		t.Error("marshal accepted an empty recipient")
	}
}

func TestParseHeartbeatRejects(t *testing.T) {
	tests := []struct{ name, wire string }{
		{"empty", ""},
		{"other magic", "XXXX\x01\x00\x01a\x01b"},
		{"version 2", "FLHB\x02\x00\x01a\x01b"},
		{"header only", "FLHB\x01\x00"},
		{"empty sender", "FLHB\x01\x00\x00\x01b"},
		{"sender overruns", "FLHB\x01\x00\x05ab"},
		{"no recipient", "FLHB\x01\x00\x01a"},
		{"recipient overruns", "FLHB\x01\x00\x01a\x03bc"},
		{"trailing bytes", "FLHB\x01\x00\x01a\x01bZ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := parseHeartbeat([]byte(tc.wire)); !errors.Is(err, errBadHeartbeat) {
				t.Errorf("parse(%q) = %+v, %v; want errBadHeartbeat", tc.wire, h, err)
			}
		})
	}
	// Unknown flag bits are tolerated.
	if h, err := parseHeartbeat([]byte("FLHB\x01\xfc\x01a\x01b")); err != nil || h.HearsYou || h.Leaving {
		t.Errorf("flags 0xfc: %+v, %v; want accepted, no known flag set", h, err)
	}
}

func FuzzParseHeartbeat(f *testing.F) {
	seeds := []string{"FLHB\x01\x01\x01a\x02bc", "FLHB\x01\x00\x06node-1\x02n2", "FLHB", "", "FLHB\x01\x00\xff"}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeartbeat(b)
		if err != nil {
			return
		}
		// Whatever parses must re-encode to the same bytes, flags aside.
		out, err := h.marshal()
		if err != nil {
			t.Fatalf("parsed %+v but cannot marshal it: %v", h, err)
		}
		if string(out[6:]) != string(b[6:]) || string(out[:5]) != string(b[:5]) {
			t.Fatalf("round trip changed %q into %q", b, out)
		}
	})
}

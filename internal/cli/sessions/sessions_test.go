package sessions

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want []Session
	}{
		{
			name: "full lines, sorted, IPv4 and IPv6",
			msg: "peer1 192.0.2.1:179 Established bfd=Up\n" +
				"peer2 [2001:db8::1]:1179 Active bfd=Down error=dial tcp [2001:db8::1]:1179: connect: connection refused\n" +
				"peer3 198.51.100.7:179 Idle error=hold timer expired",
			want: []Session{
				{Peer: "peer1", Address: "192.0.2.1", Port: "179", State: "Established", BFD: "Up"},
				{Peer: "peer2", Address: "2001:db8::1", Port: "1179", State: "Active", BFD: "Down",
					Error: "dial tcp [2001:db8::1]:1179: connect: connection refused"},
				{Peer: "peer3", Address: "198.51.100.7", Port: "179", State: "Idle", Error: "hold timer expired"},
			},
		},
		{
			name: "error text holding bfd= and equal signs stays whole",
			msg:  "p 192.0.2.1:179 OpenSent error=notification: code=6 subcode=2 bfd=weird",
			want: []Session{{Peer: "p", Address: "192.0.2.1", Port: "179", State: "OpenSent",
				Error: "notification: code=6 subcode=2 bfd=weird"}},
		},
		{
			name: "missing state and port",
			msg:  "p 192.0.2.1",
			want: []Session{{Peer: "p", Address: "192.0.2.1"}},
		},
		{
			name: "bare IPv6 address is not split at its last colon",
			msg:  "p 2001:db8::1:179 Connect",
			want: []Session{{Peer: "p", Address: "2001:db8::1:179", State: "Connect"}},
		},
		{
			name: "name only",
			msg:  "lonely",
			want: []Session{{Peer: "lonely"}},
		},
		{
			name: "blank lines, CRLF, extra spaces and unknown extensions",
			msg:  "\n  p1   192.0.2.1:179   Established  rtt=3ms bfd=Up \r\n\n p2 192.0.2.2:179 Connect extra words\n",
			want: []Session{
				{Peer: "p1", Address: "192.0.2.1", Port: "179", State: "Established", BFD: "Up"},
				{Peer: "p2", Address: "192.0.2.2", Port: "179", State: "Connect"},
			},
		},
		{
			name: "empty error",
			msg:  "p 192.0.2.1:179 Active error=",
			want: []Session{{Peer: "p", Address: "192.0.2.1", Port: "179", State: "Active"}},
		},
		{
			name: "unparseable endpoint is kept as the address",
			msg:  "p eth0 Established",
			want: []Session{{Peer: "p", Address: "eth0", State: "Established"}},
		},
		{name: "empty message", msg: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.msg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.msg, diff)
			}
		})
	}
}

func TestEndpointAndEstablished(t *testing.T) {
	s := Parse("p [2001:db8::2]:179 Established")[0]
	if got := s.Endpoint(); got != "[2001:db8::2]:179" {
		t.Errorf("Endpoint() = %q", got)
	}
	if !s.Established() {
		t.Error("Established() = false for an Established session")
	}
	s = Parse("p 192.0.2.1 Active")[0]
	if got := s.Endpoint(); got != "192.0.2.1" {
		t.Errorf("Endpoint() without port = %q", got)
	}
	if s.Established() {
		t.Error("Established() = true for an Active session")
	}
}

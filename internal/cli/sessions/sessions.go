package sessions

import (
	"net"
	"net/netip"
	"strings"
)

// Condition type and reasons of the speaker's session summary.
const (
	ConditionType = "bgpSessionsReady"

	ReasonAllEstablished = "AllEstablished"
	ReasonSessionsDown   = "SessionsDown"
	ReasonNoPeers        = "NoPeers"
)

// StateEstablished is the only FSM state in which a session carries routes.
const StateEstablished = "Established"

// Session is one line of the summary.
type Session struct {
	// Peer is the BGPPeer object's name.
	Peer string `json:"peer"`
	// Address is the peer's address and Port its TCP port, as the speaker
	// wrote them (Port is empty when the line has none).
	Address string `json:"address,omitempty"`
	Port    string `json:"port,omitempty"`
	// State is the BGP FSM state (Idle, Connect, Active, OpenSent,
	// OpenConfirm, Established); empty when the line has none.
	State string `json:"state,omitempty"`
	// BFD is the BFD session state when BFD runs (Up, Down, Init,
	// AdminDown).
	BFD string `json:"bfd,omitempty"`
	// Error is the last reason the session went down or failed to open.
	Error string `json:"error,omitempty"`
}

// Established reports whether the session is up.
func (s Session) Established() bool { return s.State == StateEstablished }

// Endpoint is "address:port" (IPv6 in brackets), or the address alone when
// the port is unknown.
func (s Session) Endpoint() string {
	if s.Port == "" {
		return s.Address
	}
	return net.JoinHostPort(s.Address, s.Port)
}

// Parse reads a bgpSessionsReady message. Empty lines are skipped; every
// other line gives one Session, in message order. Parse never fails: it
// keeps what it can read of a malformed line.
//
// The caller should not parse the message of a NoPeers condition, which is
// free text.
func Parse(message string) []Session {
	var out []Session
	for line := range strings.SplitSeq(message, "\n") {
		if s, ok := parseLine(line); ok {
			out = append(out, s)
		}
	}
	return out
}

func parseLine(line string) (Session, bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return Session{}, false
	}
	var s Session
	// error= runs to the end of the line and may hold spaces; cut it off
	// first. It may appear right after the state or after bfd=.
	if i := indexField(line, "error="); i >= 0 {
		s.Error = strings.TrimSpace(line[i+len("error="):])
		line = strings.TrimSpace(line[:i])
	}
	var positional []string
	for f := range strings.FieldsSeq(line) {
		if v, ok := strings.CutPrefix(f, "bfd="); ok {
			s.BFD = v
			continue
		}
		if strings.Contains(f, "=") || len(positional) == 3 {
			continue // an extension we do not know: ignore it
		}
		positional = append(positional, f)
	}
	if len(positional) > 0 {
		s.Peer = positional[0]
	}
	if len(positional) > 1 {
		s.Address, s.Port = splitEndpoint(positional[1])
	}
	if len(positional) > 2 {
		s.State = positional[2]
	}
	return s, true
}

// indexField returns the index of key at the start of a space-separated
// field of line, or -1.
func indexField(line, key string) int {
	for i := 0; i+len(key) <= len(line); i++ {
		if (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') && strings.HasPrefix(line[i:], key) {
			return i
		}
	}
	return -1
}

// splitEndpoint splits "192.0.2.1:179" or "[2001:db8::1]:179". A bare
// address (including a bare IPv6 address, whose last group could be
// mistaken for a port) is returned whole with no port.
func splitEndpoint(s string) (addr, port string) {
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return strings.Trim(s, "[]"), ""
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		return h, p
	}
	return s, ""
}

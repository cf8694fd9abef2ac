package bfd

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// State is a BFD session state as carried on the wire (RFC 5880 4.1).
type State uint8

// The session states.
const (
	StateAdminDown State = 0
	StateDown      State = 1
	StateInit      State = 2
	StateUp        State = 3
)

func (s State) String() string {
	switch s {
	case StateAdminDown:
		return "AdminDown"
	case StateDown:
		return "Down"
	case StateInit:
		return "Init"
	case StateUp:
		return "Up"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Diag is the reason of the last state change (RFC 5880 4.1).
type Diag uint8

// The diagnostic codes.
const (
	DiagNone                  Diag = 0
	DiagControlTimeExpired    Diag = 1
	DiagEchoFailed            Diag = 2
	DiagNeighborDown          Diag = 3
	DiagForwardingPlaneReset  Diag = 4
	DiagPathDown              Diag = 5
	DiagConcatenatedPathDown  Diag = 6
	DiagAdminDown             Diag = 7
	DiagReverseConcatenatedPD Diag = 8
)

func (d Diag) String() string {
	names := [...]string{"None", "ControlDetectionTimeExpired", "EchoFunctionFailed",
		"NeighborSignaledSessionDown", "ForwardingPlaneReset", "PathDown",
		"ConcatenatedPathDown", "AdministrativelyDown", "ReverseConcatenatedPathDown"}
	if int(d) < len(names) {
		return names[d]
	}
	return fmt.Sprintf("Diag(%d)", uint8(d))
}

// Version is the protocol version this package speaks.
const Version = 1

// HeaderLen is the length of a Control packet without authentication.
const HeaderLen = 24

// ControlPacket is a BFD Control packet (RFC 5880 4.1). Intervals are in
// microseconds, as on the wire.
type ControlPacket struct {
	Version    uint8
	Diag       Diag
	State      State
	Poll       bool
	Final      bool
	CPI        bool // Control Plane Independent
	Auth       bool // Authentication Present
	Demand     bool
	Multipoint bool
	DetectMult uint8
	MyDiscr    uint32
	YourDiscr  uint32
	// DesiredMinTx, RequiredMinRx and RequiredMinEchoRx in microseconds.
	DesiredMinTx      uint32
	RequiredMinRx     uint32
	RequiredMinEchoRx uint32
	// AuthSection holds the authentication section verbatim when Auth is
	// set (this package only carries it; it never verifies it).
	AuthSection []byte
}

// Errors of Parse: the packet MUST be discarded (RFC 5880 6.8.6).
var (
	ErrShort          = errors.New("bfd: packet shorter than its header")
	ErrVersion        = errors.New("bfd: unsupported version")
	ErrLength         = errors.New("bfd: length field does not match the packet")
	ErrDetectMult     = errors.New("bfd: detect multiplier is zero")
	ErrMultipoint     = errors.New("bfd: multipoint bit set")
	ErrMyDiscr        = errors.New("bfd: my discriminator is zero")
	ErrYourDiscr      = errors.New("bfd: your discriminator is zero outside Down and AdminDown")
	ErrAuthLength     = errors.New("bfd: bad authentication section length")
	ErrFinalWithPoll  = errors.New("bfd: poll and final bits both set")
	errMarshalAuthLen = errors.New("bfd: authentication section too long")
)

const (
	flagPoll       = 0x20
	flagFinal      = 0x10
	flagCPI        = 0x08
	flagAuth       = 0x04
	flagDemand     = 0x02
	flagMultipoint = 0x01
)

// Marshal encodes p. It does not validate the fields (tests use it to craft
// invalid packets) except that the packet must fit its 8-bit length.
func (p *ControlPacket) Marshal() ([]byte, error) {
	n := HeaderLen
	if p.Auth {
		n += len(p.AuthSection)
	}
	if n > 255 {
		return nil, errMarshalAuthLen
	}
	b := make([]byte, n)
	b[0] = p.Version<<5 | uint8(p.Diag)&0x1f
	b[1] = uint8(p.State) << 6
	for _, f := range []struct {
		set  bool
		mask uint8
	}{{p.Poll, flagPoll}, {p.Final, flagFinal}, {p.CPI, flagCPI}, {p.Auth, flagAuth}, {p.Demand, flagDemand}, {p.Multipoint, flagMultipoint}} {
		if f.set {
			b[1] |= f.mask
		}
	}
	b[2] = p.DetectMult
	b[3] = uint8(n)
	binary.BigEndian.PutUint32(b[4:], p.MyDiscr)
	binary.BigEndian.PutUint32(b[8:], p.YourDiscr)
	binary.BigEndian.PutUint32(b[12:], p.DesiredMinTx)
	binary.BigEndian.PutUint32(b[16:], p.RequiredMinRx)
	binary.BigEndian.PutUint32(b[20:], p.RequiredMinEchoRx)
	if p.Auth {
		copy(b[HeaderLen:], p.AuthSection)
	}
	return b, nil
}

// Parse decodes a Control packet and applies the reception checks of
// RFC 5880 6.8.6 that need no session: version 1, a length field that
// covers the header and does not exceed the datagram (bytes past the length,
// and past the header when no authentication is present, are ignored), a non-zero detect multiplier, no multipoint bit, a non-zero My
// Discriminator, a non-zero Your Discriminator unless the sender is Down or
// AdminDown, and not Poll and Final together (RFC 5880 4.1).
func Parse(b []byte) (*ControlPacket, error) {
	if len(b) < HeaderLen {
		return nil, ErrShort
	}
	p := &ControlPacket{
		Version:           b[0] >> 5,
		Diag:              Diag(b[0] & 0x1f),
		State:             State(b[1] >> 6),
		Poll:              b[1]&flagPoll != 0,
		Final:             b[1]&flagFinal != 0,
		CPI:               b[1]&flagCPI != 0,
		Auth:              b[1]&flagAuth != 0,
		Demand:            b[1]&flagDemand != 0,
		Multipoint:        b[1]&flagMultipoint != 0,
		DetectMult:        b[2],
		MyDiscr:           binary.BigEndian.Uint32(b[4:]),
		YourDiscr:         binary.BigEndian.Uint32(b[8:]),
		DesiredMinTx:      binary.BigEndian.Uint32(b[12:]),
		RequiredMinRx:     binary.BigEndian.Uint32(b[16:]),
		RequiredMinEchoRx: binary.BigEndian.Uint32(b[20:]),
	}
	length := int(b[3])
	switch {
	case p.Version != Version:
		return nil, ErrVersion
	case length < HeaderLen || length > len(b):
		return nil, ErrLength
	}
	if p.Auth {
		// Auth Type (1), Auth Len (1), then data; Auth Len counts the
		// whole section and must fill the rest of the packet.
		rest := b[HeaderLen:length]
		if len(rest) < 2 || int(rest[1]) != len(rest) {
			return nil, ErrAuthLength
		}
		p.AuthSection = append([]byte(nil), rest...)
	}
	switch {
	case p.DetectMult == 0:
		return nil, ErrDetectMult
	case p.Multipoint:
		return nil, ErrMultipoint
	case p.MyDiscr == 0:
		return nil, ErrMyDiscr
	case p.YourDiscr == 0 && p.State != StateDown && p.State != StateAdminDown:
		return nil, ErrYourDiscr
	case p.Poll && p.Final:
		return nil, ErrFinalWithPoll
	}
	return p, nil
}

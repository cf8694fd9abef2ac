package membership

import (
	"errors"
	"fmt"
)

// A heartbeat travels as a memberlist user message (so memberlist adds its
// CRC and, with a secret, AES-GCM encryption). Layout:
//
//	0..3  magic "FLHB"
//	4     version (1)
//	5     flags; bit 0 = the sender hears the recipient (the recipient is
//	      live in the sender's tracker); bit 1 = the sender is leaving
//	      gracefully (its last message)
//	6     length of the sender name, then the sender name
//	      length of the recipient name, then the recipient name
//
// Names are at most 255 bytes. Unknown flag bits are ignored so that a
// later version can add some; a different version is rejected.
type heartbeat struct {
	From     string
	To       string
	HearsYou bool
	Leaving  bool
}

const (
	hbMagic         = "FLHB"
	hbVersion       = 1
	hbFlagHearsYou  = 1 << 0
	hbFlagLeaving   = 1 << 1
	hbHeaderLen     = len(hbMagic) + 2
	maxHeartbeatLen = hbHeaderLen + 2 + 2*255
)

var errBadHeartbeat = errors.New("malformed heartbeat")

// heartbeatMeta is the memberlist node metadata a FerroLB speaker
// advertises. A member without it (a MetalLB speaker) sends no heartbeats,
// so its liveness is memberlist's alone.
const heartbeatMeta = "ferrolb:hb1"

func heartbeatCapable(meta []byte) bool { return string(meta) == heartbeatMeta }

func (h heartbeat) marshal() ([]byte, error) {
	if len(h.From) == 0 || len(h.From) > 255 || len(h.To) == 0 || len(h.To) > 255 {
		return nil, fmt.Errorf("%w: node names must be 1 to 255 bytes", errBadHeartbeat)
	}
	b := make([]byte, 0, hbHeaderLen+2+len(h.From)+len(h.To))
	b = append(b, hbMagic...)
	var flags byte
	if h.HearsYou {
		flags |= hbFlagHearsYou
	}
	if h.Leaving {
		flags |= hbFlagLeaving
	}
	b = append(b, hbVersion, flags)
	b = append(b, byte(len(h.From)))
	b = append(b, h.From...)
	b = append(b, byte(len(h.To)))
	b = append(b, h.To...)
	return b, nil
}

func parseHeartbeat(b []byte) (heartbeat, error) {
	if len(b) < hbHeaderLen || string(b[:len(hbMagic)]) != hbMagic {
		return heartbeat{}, fmt.Errorf("%w: bad magic", errBadHeartbeat)
	}
	if v := b[len(hbMagic)]; v != hbVersion {
		return heartbeat{}, fmt.Errorf("%w: version %d", errBadHeartbeat, v)
	}
	flags := b[len(hbMagic)+1]
	h := heartbeat{HearsYou: flags&hbFlagHearsYou != 0, Leaving: flags&hbFlagLeaving != 0}
	rest := b[hbHeaderLen:]
	var err error
	if h.From, rest, err = readName(rest); err != nil {
		return heartbeat{}, err
	}
	if h.To, rest, err = readName(rest); err != nil {
		return heartbeat{}, err
	}
	if len(rest) != 0 {
		return heartbeat{}, fmt.Errorf("%w: %d trailing bytes", errBadHeartbeat, len(rest))
	}
	return h, nil
}

func readName(b []byte) (string, []byte, error) {
	if len(b) < 1 {
		return "", nil, fmt.Errorf("%w: truncated", errBadHeartbeat)
	}
	n := int(b[0])
	if n == 0 || len(b) < 1+n {
		return "", nil, fmt.Errorf("%w: bad name length", errBadHeartbeat)
	}
	return string(b[1 : 1+n]), b[1+n:], nil
}

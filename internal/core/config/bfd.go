package config

import (
	"time"
)

// BFD defaults, as FRR applies them (the values MetalLB users observe).
const (
	DefaultBFDReceiveInterval  = 300 * time.Millisecond
	DefaultBFDTransmitInterval = 300 * time.Millisecond
	DefaultBFDDetectMultiplier = 3
	DefaultBFDEchoInterval     = 50 * time.Millisecond
	DefaultBFDMinimumTTL       = 254
)

// BFDProfile is a validated BFD profile with defaults applied.
type BFDProfile struct {
	Name             string
	ReceiveInterval  time.Duration
	TransmitInterval time.Duration
	DetectMultiplier uint8
	EchoInterval     time.Duration
	EchoMode         bool
	PassiveMode      bool
	// MinimumTTL applies to multi-hop sessions only.
	MinimumTTL uint8
}

func (c *compiler) bfdProfiles() map[string]*BFDProfile {
	specs := byName(&c.errs, KindBFDProfile, c.s.BFDProfiles, func(b BFDProfileSpec) string { return b.Name })
	out := map[string]*BFDProfile{}
	for _, s := range specs {
		b := &BFDProfile{
			Name:             s.Name,
			ReceiveInterval:  c.bfdInterval(s.Name, "spec.receiveInterval", s.ReceiveInterval, DefaultBFDReceiveInterval),
			TransmitInterval: c.bfdInterval(s.Name, "spec.transmitInterval", s.TransmitInterval, DefaultBFDTransmitInterval),
			DetectMultiplier: uint8(c.bfdRange(s.Name, "spec.detectMultiplier", s.DetectMultiplier, DefaultBFDDetectMultiplier, 2, 255)),
			EchoInterval:     c.bfdInterval(s.Name, "spec.echoInterval", s.EchoInterval, DefaultBFDEchoInterval),
			EchoMode:         s.EchoMode != nil && *s.EchoMode,
			PassiveMode:      s.PassiveMode != nil && *s.PassiveMode,
			MinimumTTL:       uint8(c.bfdRange(s.Name, "spec.minimumTtl", s.MinimumTTL, DefaultBFDMinimumTTL, 1, 254)),
		}
		if !c.errs.faulty(KindBFDProfile, s.Name) {
			out[s.Name] = b
		}
	}
	return out
}

// bfdInterval checks an interval in milliseconds (10..60000).
func (c *compiler) bfdInterval(name, field string, v *uint32, def time.Duration) time.Duration {
	if v == nil {
		return def
	}
	return time.Duration(c.bfdRange(name, field, v, 0, 10, 60000)) * time.Millisecond
}

// bfdRange returns *v (or def when v is nil), reporting a value outside
// lo..hi.
func (c *compiler) bfdRange(name, field string, v *uint32, def, lo, hi uint32) uint32 {
	if v == nil {
		return def
	}
	if *v < lo || *v > hi {
		c.errs.add(KindBFDProfile, name, field, "%d is out of range %d..%d", *v, lo, hi)
	}
	return *v
}

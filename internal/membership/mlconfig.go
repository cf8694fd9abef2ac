package membership

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// overrides is the JSON document of the metallb-memberlist-config
// ConfigMap. Keys are memberlist's field names; durations are Go duration
// strings ("500ms"). A field that is absent keeps the LAN (or WAN)
// default, so a file listing every field is a full override.
type overrides struct {
	TCPTimeout              *duration `json:"TCPTimeout"`
	IndirectChecks          *int      `json:"IndirectChecks"`
	RetransmitMult          *int      `json:"RetransmitMult"`
	SuspicionMult           *int      `json:"SuspicionMult"`
	SuspicionMaxTimeoutMult *int      `json:"SuspicionMaxTimeoutMult"`
	PushPullInterval        *duration `json:"PushPullInterval"`
	ProbeTimeout            *duration `json:"ProbeTimeout"`
	ProbeInterval           *duration `json:"ProbeInterval"`
	DisableTcpPings         *bool     `json:"DisableTcpPings"`
	AwarenessMaxMultiplier  *int      `json:"AwarenessMaxMultiplier"`
	GossipNodes             *int      `json:"GossipNodes"`
	GossipInterval          *duration `json:"GossipInterval"`
	GossipToTheDeadTime     *duration `json:"GossipToTheDeadTime"`
	GossipVerifyIncoming    *bool     `json:"GossipVerifyIncoming"`
	GossipVerifyOutgoing    *bool     `json:"GossipVerifyOutgoing"`
	EnableCompression       *bool     `json:"EnableCompression"`
	HandoffQueueDepth       *int      `json:"HandoffQueueDepth"`
	UDPBufferSize           *int      `json:"UDPBufferSize"`
	QueueCheckInterval      *duration `json:"QueueCheckInterval"`
}

// overrideKeys lists the JSON keys overrides understands, for the
// unknown-key warning.
var overrideKeys = []string{
	"TCPTimeout", "IndirectChecks", "RetransmitMult", "SuspicionMult",
	"SuspicionMaxTimeoutMult", "PushPullInterval", "ProbeTimeout", "ProbeInterval",
	"DisableTcpPings", "AwarenessMaxMultiplier", "GossipNodes", "GossipInterval",
	"GossipToTheDeadTime", "GossipVerifyIncoming", "GossipVerifyOutgoing",
	"EnableCompression", "HandoffQueueDepth", "UDPBufferSize", "QueueCheckInterval",
}

// duration is a time.Duration written as a Go duration string.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"500ms\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = duration(v)
	return nil
}

// applyOverrides parses data and sets the fields it names on dst. It
// returns the top-level keys it did not recognise (ignored), sorted.
func applyOverrides(dst *memberlist.Config, data []byte) (unknown []string, err error) {
	var o overrides
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("%w: memberlist config: %v", ErrInvalidConfig, err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("%w: memberlist config: %v", ErrInvalidConfig, err)
	}
	for k := range all {
		// encoding/json matches field names case-insensitively; so do we.
		if !slices.ContainsFunc(overrideKeys, func(known string) bool { return strings.EqualFold(known, k) }) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)

	ints := []struct {
		name string
		v    *int
		dst  *int
		min  int
	}{
		{"IndirectChecks", o.IndirectChecks, &dst.IndirectChecks, 0},
		{"RetransmitMult", o.RetransmitMult, &dst.RetransmitMult, 0},
		{"SuspicionMult", o.SuspicionMult, &dst.SuspicionMult, 0},
		{"SuspicionMaxTimeoutMult", o.SuspicionMaxTimeoutMult, &dst.SuspicionMaxTimeoutMult, 0},
		{"AwarenessMaxMultiplier", o.AwarenessMaxMultiplier, &dst.AwarenessMaxMultiplier, 0},
		{"GossipNodes", o.GossipNodes, &dst.GossipNodes, 0},
		{"HandoffQueueDepth", o.HandoffQueueDepth, &dst.HandoffQueueDepth, 0},
		// Heartbeats and gossip must fit in one packet.
		{"UDPBufferSize", o.UDPBufferSize, &dst.UDPBufferSize, minUDPBufferSize},
	}
	for _, f := range ints {
		if f.v == nil {
			continue
		}
		if *f.v < f.min {
			return nil, fmt.Errorf("%w: memberlist config: %s is %d, must be at least %d",
				ErrInvalidConfig, f.name, *f.v, f.min)
		}
		*f.dst = *f.v
	}
	durations := []struct {
		v   *duration
		dst *time.Duration
	}{
		{o.TCPTimeout, &dst.TCPTimeout},
		{o.PushPullInterval, &dst.PushPullInterval},
		{o.ProbeTimeout, &dst.ProbeTimeout},
		{o.ProbeInterval, &dst.ProbeInterval},
		{o.GossipInterval, &dst.GossipInterval},
		{o.GossipToTheDeadTime, &dst.GossipToTheDeadTime},
		{o.QueueCheckInterval, &dst.QueueCheckInterval},
	}
	for _, f := range durations {
		if f.v != nil {
			*f.dst = time.Duration(*f.v)
		}
	}
	bools := []struct {
		v   *bool
		dst *bool
	}{
		{o.DisableTcpPings, &dst.DisableTcpPings},
		{o.GossipVerifyIncoming, &dst.GossipVerifyIncoming},
		{o.GossipVerifyOutgoing, &dst.GossipVerifyOutgoing},
		{o.EnableCompression, &dst.EnableCompression},
	}
	for _, f := range bools {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return unknown, nil
}

// minUDPBufferSize leaves room for a heartbeat carrying two maximal node
// names plus memberlist's CRC and encryption overhead.
const minUDPBufferSize = 600

// baseConfig returns memberlist's LAN or WAN defaults with the JSON file
// (if any) applied. A missing file is not an error; found reports whether
// it was read.
func baseConfig(wan bool, path string) (cfg *memberlist.Config, unknown []string, found bool, err error) {
	if wan {
		cfg = memberlist.DefaultWANConfig()
	} else {
		cfg = memberlist.DefaultLANConfig()
	}
	// Our traffic is gossip and heartbeats of a few dozen bytes, which
	// compression does not shrink but which cost memberlist a fresh LZW
	// writer (tens of KiB) per message. Receivers accept both forms; the
	// configuration file can turn it back on.
	cfg.EnableCompression = false
	if path == "" {
		return cfg, nil, false, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("reading memberlist config: %w", err)
	}
	unknown, err = applyOverrides(cfg, data)
	if err != nil {
		return nil, nil, true, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, unknown, true, nil
}

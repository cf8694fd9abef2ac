package membership

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Defaults and well-known paths shared with MetalLB.
const (
	// DefaultPort is memberlist's port, TCP and UDP.
	DefaultPort = 7946
	// DefaultConfigPath is where MetalLB mounts the optional
	// metallb-memberlist-config ConfigMap.
	DefaultConfigPath = "/etc/metallb/memberlist/config.json"
	// SecretKeyFile is the file name, inside --ml-secret-key-path, that
	// holds the shared secret.
	SecretKeyFile = "secretkey"

	DefaultHeartbeatInterval = 100 * time.Millisecond
	DefaultDeadAfter         = 400 * time.Millisecond
	DefaultForgetAfter       = 60 * time.Second
	DefaultJoinInterval      = 10 * time.Second
)

// ErrInvalidConfig marks configuration errors: retrying will not help.
var ErrInvalidConfig = errors.New("invalid membership configuration")

// Config is what the speaker passes to New.
type Config struct {
	// NodeName is this speaker's member name. It must equal the node name
	// (spec.nodeName) because the L2 election compares it to node names.
	NodeName string
	// BindAddr is the IP address memberlist binds to; it is also the
	// advertised address (unless it is the unspecified address, in which
	// case memberlist picks one).
	BindAddr string
	// BindPort is the TCP and UDP port, also advertised. 0 means DefaultPort.
	BindPort int

	// Secret is the shared secret, exactly as read from the secretkey file
	// (see ReadSecret). Empty disables encryption.
	Secret string

	// WAN selects memberlist's WAN defaults instead of its LAN defaults.
	WAN bool
	// ConfigFile optionally names a JSON file that overrides memberlist
	// timings (see DefaultConfigPath). A missing file is not an error.
	ConfigFile string

	// HeartbeatInterval is how often a heartbeat goes to every member.
	HeartbeatInterval time.Duration
	// DeadAfter is how long without a heartbeat before a peer is dead. It
	// must be longer than HeartbeatInterval.
	DeadAfter time.Duration
	// ForgetAfter is how long a peer that memberlist declared failed still
	// counts as a known speaker for the majority guard.
	ForgetAfter time.Duration
	// Warmup is how long a speaker that becomes live (joins or comes back)
	// stays out of Live, matching the hold-down the returning speaker
	// applies to itself (see Tracker.SetWarmup). Zero: no warm-up.
	Warmup time.Duration
	// JoinInterval is how often addresses that are not members are joined
	// again.
	JoinInterval time.Duration

	// Peers is the initial list of addresses to join ("ip" or "ip:port";
	// a bare IP uses BindPort). SetPeers replaces it later.
	Peers []string

	// Recorder receives counters; nil records nothing.
	Recorder Recorder
}

// withDefaults fills zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	if c.NodeName == "" || len(c.NodeName) > 255 {
		return c, fmt.Errorf("%w: node name must be 1 to 255 bytes", ErrInvalidConfig)
	}
	if _, err := netip.ParseAddr(c.BindAddr); err != nil {
		return c, fmt.Errorf("%w: bind address %q: %v", ErrInvalidConfig, c.BindAddr, err)
	}
	if c.BindPort == 0 {
		c.BindPort = DefaultPort
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		return c, fmt.Errorf("%w: bind port %d out of range", ErrInvalidConfig, c.BindPort)
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.DeadAfter == 0 {
		c.DeadAfter = DefaultDeadAfter
	}
	if c.ForgetAfter == 0 {
		c.ForgetAfter = DefaultForgetAfter
	}
	if c.JoinInterval == 0 {
		c.JoinInterval = DefaultJoinInterval
	}
	switch {
	case c.HeartbeatInterval < 0, c.DeadAfter < 0, c.ForgetAfter < 0, c.JoinInterval < 0:
		return c, fmt.Errorf("%w: durations must not be negative", ErrInvalidConfig)
	case c.DeadAfter <= c.HeartbeatInterval:
		return c, fmt.Errorf("%w: dead-after %v must be longer than the heartbeat interval %v",
			ErrInvalidConfig, c.DeadAfter, c.HeartbeatInterval)
	case c.ForgetAfter < c.DeadAfter:
		return c, fmt.Errorf("%w: forget-after %v must not be shorter than dead-after %v",
			ErrInvalidConfig, c.ForgetAfter, c.DeadAfter)
	}
	return c, nil
}

// DeriveKey turns the shared secret into the 32-byte memberlist key the
// way MetalLB does: the secret's bytes followed by the SHA-256 digest of
// the empty input, truncated to 32 bytes. It is NOT SHA-256(secret); a
// secret of 32 bytes or more is used as its own first 32 bytes. Mixed
// MetalLB/FerroLB clusters interoperate only because this is bit-exact.
func DeriveKey(secret string) []byte {
	empty := sha256.Sum256(nil)
	key := make([]byte, 0, len(secret)+len(empty))
	key = append(key, secret...)
	key = append(key, empty[:]...)
	return key[:32:32]
}

// ReadSecret reads the shared secret from dir/secretkey, byte for byte
// (no trimming, as MetalLB does). An empty dir means no secret.
func ReadSecret(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	b, err := os.ReadFile(filepath.Join(dir, SecretKeyFile))
	if err != nil {
		return "", fmt.Errorf("reading memberlist secret: %w", err)
	}
	return string(b), nil
}

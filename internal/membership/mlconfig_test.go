package membership

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/memberlist"
)

// tunables is the part of memberlist.Config the JSON file controls.
type tunables struct {
	TCPTimeout              time.Duration
	IndirectChecks          int
	RetransmitMult          int
	SuspicionMult           int
	SuspicionMaxTimeoutMult int
	PushPullInterval        time.Duration
	ProbeTimeout            time.Duration
	ProbeInterval           time.Duration
	DisableTcpPings         bool
	AwarenessMaxMultiplier  int
	GossipNodes             int
	GossipInterval          time.Duration
	GossipToTheDeadTime     time.Duration
	GossipVerifyIncoming    bool
	GossipVerifyOutgoing    bool
	EnableCompression       bool
	HandoffQueueDepth       int
	UDPBufferSize           int
	QueueCheckInterval      time.Duration
}

func tunablesOf(c *memberlist.Config) tunables {
	return tunables{
		c.TCPTimeout, c.IndirectChecks, c.RetransmitMult, c.SuspicionMult, c.SuspicionMaxTimeoutMult,
		c.PushPullInterval, c.ProbeTimeout, c.ProbeInterval, c.DisableTcpPings, c.AwarenessMaxMultiplier,
		c.GossipNodes, c.GossipInterval, c.GossipToTheDeadTime, c.GossipVerifyIncoming,
		c.GossipVerifyOutgoing, c.EnableCompression, c.HandoffQueueDepth, c.UDPBufferSize, c.QueueCheckInterval,
	}
}

// Every value differs from both the LAN and the WAN default, so a field
// the loader forgot shows up in the diff.
const fullOverride = `{
  "TCPTimeout": "7s",
  "IndirectChecks": 5,
  "RetransmitMult": 6,
  "SuspicionMult": 2,
  "SuspicionMaxTimeoutMult": 3,
  "PushPullInterval": "45s",
  "ProbeTimeout": "250ms",
  "ProbeInterval": "700ms",
  "DisableTcpPings": true,
  "AwarenessMaxMultiplier": 9,
  "GossipNodes": 7,
  "GossipInterval": "150ms",
  "GossipToTheDeadTime": "20s",
  "GossipVerifyIncoming": false,
  "GossipVerifyOutgoing": false,
  "EnableCompression": false,
  "HandoffQueueDepth": 2048,
  "UDPBufferSize": 1300,
  "QueueCheckInterval": "12s"
}`

func TestApplyOverridesAllFields(t *testing.T) {
	want := tunables{
		TCPTimeout: 7 * time.Second, IndirectChecks: 5, RetransmitMult: 6, SuspicionMult: 2,
		SuspicionMaxTimeoutMult: 3, PushPullInterval: 45 * time.Second, ProbeTimeout: 250 * time.Millisecond,
		ProbeInterval: 700 * time.Millisecond, DisableTcpPings: true, AwarenessMaxMultiplier: 9,
		GossipNodes: 7, GossipInterval: 150 * time.Millisecond, GossipToTheDeadTime: 20 * time.Second,
		GossipVerifyIncoming: false, GossipVerifyOutgoing: false, EnableCompression: false,
		HandoffQueueDepth: 2048, UDPBufferSize: 1300, QueueCheckInterval: 12 * time.Second,
	}
	for _, base := range []*memberlist.Config{memberlist.DefaultLANConfig(), memberlist.DefaultWANConfig()} {
		unknown, err := applyOverrides(base, []byte(fullOverride))
		if err != nil {
			t.Fatal(err)
		}
		if len(unknown) != 0 {
			t.Errorf("unknown keys %v, want none", unknown)
		}
		if diff := cmp.Diff(want, tunablesOf(base)); diff != "" {
			t.Errorf("config after full override (-want +got):\n%s", diff)
		}
	}
}

func TestApplyOverridesPartialKeepsDefaults(t *testing.T) {
	cfg := memberlist.DefaultLANConfig()
	want := tunablesOf(memberlist.DefaultLANConfig())
	want.ProbeInterval = 300 * time.Millisecond
	want.SuspicionMult = 2
	unknown, err := applyOverrides(cfg, []byte(`{"ProbeInterval": "300ms", "suspicionmult": 2, "Name": "x", "Bogus": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, tunablesOf(cfg)); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Bogus", "Name"}, unknown); diff != "" {
		t.Errorf("unknown keys (-want +got):\n%s", diff)
	}
}

func TestApplyOverridesErrors(t *testing.T) {
	tests := []struct {
		name, json, wantInErr string
	}{
		{"bad duration", `{"ProbeInterval": "fast"}`, "fast"},
		{"duration without unit", `{"TCPTimeout": "10"}`, "10"},
		{"duration as a number", `{"TCPTimeout": 10000000000}`, "must be a string"},
		{"negative duration", `{"GossipInterval": "-1s"}`, "negative"},
		{"negative int", `{"GossipNodes": -1}`, "GossipNodes"},
		{"UDP buffer too small for a heartbeat", `{"UDPBufferSize": 100}`, "UDPBufferSize"},
		{"int as a string", `{"GossipNodes": "3"}`, "GossipNodes"},
		{"bool as a string", `{"EnableCompression": "yes"}`, "EnableCompression"},
		{"not an object", `[1,2]`, "memberlist config"},
		{"truncated", `{"TCPTimeout": "1s"`, "memberlist config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := applyOverrides(memberlist.DefaultLANConfig(), []byte(tc.json))
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("got %v, want ErrInvalidConfig mentioning %q", err, tc.wantInErr)
			}
		})
	}
}

func TestBaseConfig(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "config.json")
	if err := os.WriteFile(full, []byte(fullOverride), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"ProbeInterval": "1 second"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("LAN defaults without a file", func(t *testing.T) {
		cfg, _, found, err := baseConfig(false, "")
		if err != nil || found {
			t.Fatalf("found=%v err=%v", found, err)
		}
		want := tunablesOf(memberlist.DefaultLANConfig())
		want.EnableCompression = false // our default
		if diff := cmp.Diff(want, tunablesOf(cfg)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("WAN defaults when the file is missing", func(t *testing.T) {
		cfg, _, found, err := baseConfig(true, filepath.Join(dir, "absent.json"))
		if err != nil || found {
			t.Fatalf("found=%v err=%v", found, err)
		}
		want := tunablesOf(memberlist.DefaultWANConfig())
		want.EnableCompression = false // our default
		if diff := cmp.Diff(want, tunablesOf(cfg)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("file overrides", func(t *testing.T) {
		cfg, _, found, err := baseConfig(false, full)
		if err != nil || !found {
			t.Fatalf("found=%v err=%v", found, err)
		}
		if cfg.ProbeInterval != 700*time.Millisecond || cfg.UDPBufferSize != 1300 {
			t.Errorf("override not applied: probe %v, udp %d", cfg.ProbeInterval, cfg.UDPBufferSize)
		}
	})
	t.Run("bad file fails New", func(t *testing.T) {
		_, err := New(Config{NodeName: "n1", BindAddr: "127.0.0.1", ConfigFile: broken}, nil)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), broken) {
			t.Errorf("New: got %v, want ErrInvalidConfig naming the file", err)
		}
	})
}

func TestNewBuildsMemberlistConfig(t *testing.T) {
	m, err := New(Config{NodeName: "n1", BindAddr: "198.51.100.7", BindPort: 7000, Secret: "abc", WAN: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := m.mlConf
	got := []any{c.Name, c.BindAddr, c.BindPort, c.AdvertiseAddr, c.AdvertisePort, c.ProbeInterval, string(c.SecretKey) == string(DeriveKey("abc"))}
	want := []any{"n1", "198.51.100.7", 7000, "198.51.100.7", 7000, 5 * time.Second, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("memberlist config (-want +got):\n%s", diff)
	}

	m, err = New(Config{NodeName: "n1", BindAddr: "0.0.0.0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.mlConf.AdvertiseAddr != "" || m.mlConf.SecretKey != nil || m.mlConf.BindPort != DefaultPort {
		t.Errorf("unspecified bind, no secret: advertise %q, key %x, port %d",
			m.mlConf.AdvertiseAddr, m.mlConf.SecretKey, m.mlConf.BindPort)
	}
}

func TestBaseConfigCompressionOffUnlessConfigured(t *testing.T) {
	for _, wan := range []bool{false, true} {
		cfg, _, found, err := baseConfig(wan, "")
		if err != nil || found {
			t.Fatalf("no file: found %v, err %v", found, err)
		}
		if cfg.EnableCompression {
			t.Errorf("wan=%v: compression on by default", wan)
		}
	}
	path := filepath.Join(t.TempDir(), "ml.json")
	if err := os.WriteFile(path, []byte(`{"EnableCompression": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, found, err := baseConfig(false, path)
	if err != nil || !found {
		t.Fatalf("with file: found %v, err %v", found, err)
	}
	if !cfg.EnableCompression {
		t.Error("the configuration file's EnableCompression: true was not applied")
	}
}

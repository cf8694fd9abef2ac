package membership

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The expected keys are written out by hand: the secret's bytes, then the
// SHA-256 of the empty input (e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4
// 649b934c a495991b 7852b855), cut at 32 bytes.
func TestDeriveKey(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		want   string
	}{{
		name:   "short secret is followed by 29 bytes of sha256 of nothing",
		secret: "abc",
		want:   "616263" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b78",
	}, {
		name:   "22 base64 characters, as the manifests generate, leave room for 10 digest bytes",
		secret: strings.Repeat("A", 22),
		want:   strings.Repeat("41", 22) + "e3b0c44298fc1c149afb",
	}, {
		name:   "a secret of 32 bytes or more is its own first 32 bytes",
		secret: "0123456789abcdefghijklmnopqrstuvwxyzABCD",
		want:   "303132333435363738396162636465666768696a6b6c6d6e6f70717273747576",
	}, {
		name:   "the secret is used verbatim, trailing newline included",
		secret: "k\n",
		want:   "6b0a" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := hex.EncodeToString(DeriveKey(tc.secret))
			if got != tc.want {
				t.Errorf("DeriveKey(%q)\n got %s\nwant %s", tc.secret, got, tc.want)
			}
			if len(DeriveKey(tc.secret)) != 32 {
				t.Errorf("key length %d, want 32 (AES-256)", len(DeriveKey(tc.secret)))
			}
		})
	}
	// Not SHA-256("abc") = ba7816bf...: the trap this function exists for.
	if got := hex.EncodeToString(DeriveKey("abc")); strings.HasPrefix(got, "ba7816bf") {
		t.Errorf("DeriveKey hashed the secret: %s", got)
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SecretKeyFile), []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSecret(dir)
	if err != nil || got != "s3cr3t\n" {
		t.Errorf("ReadSecret = %q, %v; want the file verbatim", got, err)
	}
	if got, err := ReadSecret(""); err != nil || got != "" {
		t.Errorf("ReadSecret(\"\") = %q, %v; want no secret", got, err)
	}
	if _, err := ReadSecret(t.TempDir()); err == nil {
		t.Error("ReadSecret of a directory without secretkey: want an error")
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	got, err := Config{NodeName: "n1", BindAddr: "198.51.100.1"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.BindPort != 7946 || got.HeartbeatInterval != 100*time.Millisecond ||
		got.DeadAfter != 400*time.Millisecond || got.ForgetAfter != time.Minute || got.JoinInterval != 10*time.Second {
		t.Errorf("defaults not applied: %+v", got)
	}

	bad := []struct {
		name string
		cfg  Config
	}{
		{"no node name", Config{BindAddr: "198.51.100.1"}},
		{"node name too long", Config{NodeName: strings.Repeat("n", 256), BindAddr: "198.51.100.1"}},
		{"no bind address", Config{NodeName: "n1"}},
		{"bind address is a name", Config{NodeName: "n1", BindAddr: "node1"}},
		{"port out of range", Config{NodeName: "n1", BindAddr: "198.51.100.1", BindPort: 70000}},
		{"dead-after not above the interval", Config{NodeName: "n1", BindAddr: "198.51.100.1",
			HeartbeatInterval: 200 * time.Millisecond, DeadAfter: 200 * time.Millisecond}},
		{"negative duration", Config{NodeName: "n1", BindAddr: "198.51.100.1", JoinInterval: -time.Second}},
		{"forget before dead", Config{NodeName: "n1", BindAddr: "198.51.100.1", ForgetAfter: 100 * time.Millisecond}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, nil); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New: got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

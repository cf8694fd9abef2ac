package gobgp

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// runBackend runs a Backend until the test ends (or stop is called).
func runBackend(t *testing.T, opts Options) (b *Backend, stop func()) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if opts.NodeName == "" {
		opts.NodeName = "node-a"
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	b = New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return")
		}
	}
	t.Cleanup(stop)
	return b, stop
}

// peerStatus returns the status of one peer.
func peerStatus(b *Backend, name string) (bgp.PeerStatus, error) {
	for _, st := range b.Status() {
		if st.Name == name {
			return st, nil
		}
	}
	return bgp.PeerStatus{}, fmt.Errorf("no status for %q", name)
}

func waitEstablished(t *testing.T, b *Backend, name string) bgp.PeerStatus {
	t.Helper()
	var st bgp.PeerStatus
	eventually(t, 30*time.Second, name+" established", func() error {
		var err error
		if st, err = peerStatus(b, name); err != nil {
			return err
		}
		if st.State != bgp.StateEstablished {
			return fmt.Errorf("state %s, last error %q", st.State, st.LastError)
		}
		return nil
	})
	return st
}

package gobgp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// Desired state is recorded and reported before Run, invalid peers
// included, without touching the network.
func TestDesiredStateBeforeRun(t *testing.T) {
	b := New(Options{})
	good := bgp.Peer{Name: "good", Address: addr("198.51.100.2"), MyASN: 64500, PeerASN: 64501}
	bad := bgp.Peer{Name: "bad", Address: addr("198.51.100.3"), MyASN: 64500}
	dup := good
	err := b.SetPeers([]bgp.Peer{good, bad, dup})
	if !errors.Is(err, bgp.ErrInvalidPeer) || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("SetPeers error %v, want the invalid and the duplicate peer", err)
	}
	if err := b.SetAdvertisements("good", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}, {Prefix: mustPrefix(pfx6A)}}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetAdvertisements("good", []bgp.Advertisement{{}}); err == nil {
		t.Error("an invalid prefix was accepted")
	}
	st := b.Status()
	if len(st) != 2 || st[0].Name != "bad" || st[1].Name != "good" {
		t.Fatalf("status %+v", st)
	}
	if !strings.Contains(st[0].LastError, "missing peer ASN") {
		t.Errorf("bad peer's last error %q", st[0].LastError)
	}
	if g := st[1]; g.State != bgp.StateIdle || g.Pending != 1 || g.Unsupported != 1 || g.Peer != "198.51.100.2:179" {
		t.Errorf("good peer's status %+v", g)
	}
}

// What a session carries follows its settings (the advertisements are
// worked out once per set and session shape) and the advertisements.
func TestCarriedFollowsSessionShapeAndAdvertisements(t *testing.T) {
	b := New(Options{})
	p := bgp.Peer{Name: "p", Address: addr("198.51.100.2"), MyASN: 64500, PeerASN: 64501}
	if err := b.SetPeers([]bgp.Peer{p}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetAdvertisements("p", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}, {Prefix: mustPrefix(pfx6A)}}); err != nil {
		t.Fatal(err)
	}
	check := func(what string, pending, unsupported int) {
		t.Helper()
		st := b.Status()
		if len(st) != 1 || st[0].Pending != pending || st[0].Unsupported != unsupported {
			t.Errorf("%s: status %+v, want %d pending and %d unsupported", what, st, pending, unsupported)
		}
	}
	check("IPv4 session", 1, 1)
	p.DualStackAddressFamily = true
	if err := b.SetPeers([]bgp.Peer{p}); err != nil {
		t.Fatal(err)
	}
	check("dual-stack session", 2, 0)
	// The same set again changes nothing; a smaller one does.
	if err := b.SetAdvertisements("p", []bgp.Advertisement{{Prefix: mustPrefix(pfx6A)}, {Prefix: mustPrefix(pfxA)}}); err != nil {
		t.Fatal(err)
	}
	check("same set", 2, 0)
	if err := b.SetAdvertisements("p", []bgp.Advertisement{{Prefix: mustPrefix(pfx6A)}}); err != nil {
		t.Fatal(err)
	}
	check("IPv6 prefix only", 1, 0)
	p.DualStackAddressFamily = false
	if err := b.SetPeers([]bgp.Peer{p}); err != nil {
		t.Fatal(err)
	}
	check("back to IPv4 only", 0, 1)
	if err := b.SetAdvertisements("p", nil); err != nil {
		t.Fatal(err)
	}
	check("nothing", 0, 0)
}

func TestRunTwiceFails(t *testing.T) {
	b := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !b.running.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := b.Run(ctx); err == nil {
		t.Error("a second Run was accepted")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

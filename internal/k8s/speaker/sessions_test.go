package speaker

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/cli/sessions"
)

type statusBackend struct {
	bgp.Backend
	st []bgp.PeerStatus
}

func (b *statusBackend) Status() []bgp.PeerStatus { return b.st }

type notFoundReader struct{ client.Reader }

func (notFoundReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return apierrors.NewNotFound(schema.GroupResource{}, "")
}

func TestSessionWatcherEventsPerTransition(t *testing.T) {
	be := &statusBackend{}
	rec := record.NewFakeRecorder(20)
	w := &sessionWatcher{reader: notFoundReader{}, backend: be, events: rec, log: slog.New(slog.DiscardHandler),
		namespace: "metallb-system", node: "n1", last: map[string]sessionView{}}
	steps := []struct {
		st   bgp.PeerStatus
		want string // event prefix, "" = none
	}{
		{bgp.PeerStatus{Name: "r", Peer: "192.0.2.1:179", State: bgp.StateActive, LastError: "connection refused"}, "Warning BGPSessionDown"},
		{bgp.PeerStatus{Name: "r", Peer: "192.0.2.1:179", State: bgp.StateActive, LastError: "connection refused"}, ""},
		{bgp.PeerStatus{Name: "r", Peer: "192.0.2.1:179", State: bgp.StateActive, LastError: "bad password"}, "Warning BGPSessionDown"},
		{bgp.PeerStatus{Name: "r", Peer: "192.0.2.1:179", State: bgp.StateEstablished}, "Normal BGPSessionUp"},
		{bgp.PeerStatus{Name: "r", Peer: "192.0.2.1:179", State: bgp.StateEstablished}, ""},
		{bgp.PeerStatus{Name: "r", Peer: "192.0.2.1:179", State: bgp.StateIdle, LastError: "hold timer expired"}, "Warning BGPSessionDown"},
	}
	for i, s := range steps {
		be.st = []bgp.PeerStatus{s.st}
		w.check()
		var got string
		select {
		case got = <-rec.Events:
		default:
		}
		if (s.want == "") != (got == "") || !strings.HasPrefix(got, s.want) {
			t.Errorf("step %d: event %q, want prefix %q", i, got, s.want)
		}
	}
}

func TestSessionsCondition(t *testing.T) {
	c := sessionsCondition(nil)
	if c.Status != "True" || c.Reason != "NoPeers" || c.Type != "bgpSessionsReady" {
		t.Fatalf("no peers: %+v", c)
	}
	c = sessionsCondition([]bgp.PeerStatus{
		{Name: "zeta", Peer: "192.0.2.9:179", State: bgp.StateEstablished, BFD: bgp.BFDUp},
		{Name: "alpha", Peer: "[2001:db8::1]:179", State: bgp.StateActive, LastError: "dial: connection\nrefused"},
	})
	want := "alpha [2001:db8::1]:179 Active error=dial: connection refused\nzeta 192.0.2.9:179 Established bfd=Up"
	if c.Status != "False" || c.Reason != "SessionsDown" || c.Message != want {
		t.Fatalf("got %+v\nwant message %q", c, want)
	}
	c = sessionsCondition([]bgp.PeerStatus{{Name: "a", Peer: "192.0.2.1:179", State: bgp.StateEstablished}})
	if c.Status != "True" || c.Reason != "AllEstablished" || c.Message != "a 192.0.2.1:179 Established" {
		t.Fatalf("all up: %+v", c)
	}
}

// TestSessionsConditionReadByCLI closes the loop with `kubectl metallb`:
// what the speaker writes is what the plugin's parser reads.
func TestSessionsConditionReadByCLI(t *testing.T) {
	c := sessionsCondition([]bgp.PeerStatus{
		{Name: "v6", Peer: "[2001:db8::fe]:1179", State: bgp.StateActive, BFD: bgp.BFDDown, LastError: "dial tcp [2001:db8::fe]:1179: connect: connection refused"},
		{Name: "v4", Peer: "192.0.2.254:179", State: bgp.StateEstablished, BFD: bgp.BFDUp},
	})
	got := sessions.Parse(c.Message)
	want := []sessions.Session{
		{Peer: "v4", Address: "192.0.2.254", Port: "179", State: "Established", BFD: "Up"},
		{Peer: "v6", Address: "2001:db8::fe", Port: "1179", State: "Active", BFD: "Down", Error: "dial tcp [2001:db8::fe]:1179: connect: connection refused"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed %+v\nwant   %+v", got, want)
	}
}

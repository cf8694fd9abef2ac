package speaker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/k8s/confstate"
)

// sessionWatcher reports BGP session transitions of this node as events on
// the BGPPeer object and in the log: Normal BGPSessionUp when a session is
// established, Warning BGPSessionDown with the reason when it goes down or
// fails to come up with a new error. One event per transition, not per
// retry.
type sessionWatcher struct {
	reader    client.Reader
	backend   bgp.Backend
	events    record.EventRecorder
	log       *slog.Logger
	namespace string
	node      string
	interval  time.Duration
	// state, if set, receives the sessions as the bgpSessionsReady
	// condition.
	state *confstate.Reporter

	last map[string]sessionView
}

type sessionView struct {
	up  bool
	err string
}

func (w *sessionWatcher) Start(ctx context.Context) error {
	if w.interval <= 0 {
		w.interval = time.Second
	}
	w.last = map[string]sessionView{}
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			w.check()
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (w *sessionWatcher) NeedLeaderElection() bool { return false }

func (w *sessionWatcher) check() {
	seen := map[string]bool{}
	all := w.backend.Status()
	if w.state != nil {
		w.state.Set(sessionsCondition(all))
	}
	for _, st := range all {
		seen[st.Name] = true
		now := sessionView{up: st.State == bgp.StateEstablished, err: st.LastError}
		prev, known := w.last[st.Name]
		w.last[st.Name] = now
		peer := &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: w.namespace, Name: st.Name}}
		// The cached object carries the UID that ties the event to it.
		_ = w.reader.Get(context.Background(), client.ObjectKeyFromObject(peer), peer)
		peer.SetGroupVersionKind(v1beta2.GroupVersion.WithKind("BGPPeer"))
		switch {
		case now.up && (!known || !prev.up):
			w.log.Info("BGP session established", "peer", st.Peer, "name", st.Name, "node", w.node)
			w.events.Event(peer, corev1.EventTypeNormal, "BGPSessionUp",
				fmt.Sprintf("session from node %q to %s established", w.node, st.Peer))
		case !now.up && now.err != "" && (!known || prev.up || prev.err != now.err):
			w.log.Warn("BGP session down", "peer", st.Peer, "name", st.Name, "node", w.node, "error", now.err)
			w.events.Event(peer, corev1.EventTypeWarning, "BGPSessionDown",
				fmt.Sprintf("session from node %q to %s is down: %s", w.node, st.Peer, now.err))
		}
	}
	for name := range w.last {
		if !seen[name] {
			delete(w.last, name)
		}
	}
}

// sessionsCondition summarises the sessions as the bgpSessionsReady
// condition: one line per session, "<peer> <address:port> <state>", then
// " bfd=<state>" when BFD runs and " error=<text>" when the session has a
// last error, lines sorted.
func sessionsCondition(all []bgp.PeerStatus) metav1.Condition {
	c := metav1.Condition{Type: confstate.TypeBGPSessions, Status: metav1.ConditionTrue, Reason: confstate.ReasonAllEstablished}
	if len(all) == 0 {
		c.Reason = confstate.ReasonNoPeers
		c.Message = "no BGP peers on this node"
		return c
	}
	lines := make([]string, 0, len(all))
	for _, st := range all {
		l := st.Name + " " + st.Peer + " " + string(st.State)
		if st.BFD != "" {
			l += " bfd=" + string(st.BFD)
		}
		if st.LastError != "" {
			l += " error=" + strings.ReplaceAll(st.LastError, "\n", " ")
		}
		lines = append(lines, l)
		if st.State != bgp.StateEstablished {
			c.Status, c.Reason = metav1.ConditionFalse, confstate.ReasonSessionsDown
		}
	}
	slices.Sort(lines)
	c.Message = strings.Join(lines, "\n")
	return c
}

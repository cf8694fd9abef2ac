package gobgp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/metrics"
)

// promValues gathers reg and returns the value of every metallb_* series
// with the given peer label, by metric name.
func promValues(t *testing.T, reg *prometheus.Registry, peer string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != "peer" || l.GetValue() != peer {
					continue
				}
				switch {
				case m.GetCounter() != nil:
					out[mf.GetName()] = m.GetCounter().GetValue()
				case m.GetGauge() != nil:
					out[mf.GetName()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

// The per-peer message counters, through the Prometheus recorder, against
// gobgpd: one OPEN each way, keepalives flowing both ways, UPDATEs sent as
// the router counts them and received when the router announces a route;
// the series go away with the session.
func TestGoBGPdMessageCounters(t *testing.T) {
	l := newLink(t, 1)
	g := startGoBGPd(t, l, 64512, gobgpdNeighbor{address: l.node4.String(), asn: 64500, families: []string{"ipv4-unicast"}})
	reg := prometheus.NewRegistry()
	b, _ := runBackend(t, Options{Recorder: metrics.NewBGP(reg)})
	p := bgp.Peer{Name: "r", Address: l.router4, MyASN: 64500, PeerASN: 64512, HoldTime: 3 * time.Second, KeepaliveTime: time.Second}
	b.SetPeers([]bgp.Peer{p})
	b.SetAdvertisements("r", []bgp.Advertisement{{Prefix: mustPrefix(pfxA)}, {Prefix: mustPrefix(pfxB)}})
	waitEstablished(t, b, "r")
	waitGoBGPdRoute(t, g, "ipv4", pfxA, route{NextHop: l.node4.String(), ASPath: "64500 "})
	if _, err := g.cli("global", "rib", "-a", "ipv4", "add", "203.0.113.0/24"); err != nil {
		t.Fatal(err)
	}

	var v map[string]float64
	eventually(t, 10*time.Second, "message counters", func() error {
		v = promValues(t, reg, p.ID())
		n, err := g.neighbor(l.node4.String())
		if err != nil {
			return err
		}
		var errs []string
		check := func(ok bool, format string, args ...any) {
			if !ok {
				errs = append(errs, fmt.Sprintf(format, args...))
			}
		}
		check(v["metallb_bgp_session_up"] == 1, "session_up %v", v["metallb_bgp_session_up"])
		check(v["metallb_bgp_opens_sent"] == 1 && v["metallb_bgp_opens_received"] == 1,
			"opens sent %v received %v, want 1 and 1", v["metallb_bgp_opens_sent"], v["metallb_bgp_opens_received"])
		check(v["metallb_bgp_updates_total"] >= 1 && v["metallb_bgp_updates_total"] == float64(n.State.Messages.Received.Update),
			"updates sent %v, the router received %d", v["metallb_bgp_updates_total"], n.State.Messages.Received.Update)
		check(v["metallb_bgp_updates_total_received"] >= 1, "updates received %v", v["metallb_bgp_updates_total_received"])
		check(v["metallb_bgp_keepalives_sent"] >= 1 && v["metallb_bgp_keepalives_received"] >= 1,
			"keepalives sent %v received %v", v["metallb_bgp_keepalives_sent"], v["metallb_bgp_keepalives_received"])
		check(v["metallb_bgp_total_sent"] >= v["metallb_bgp_opens_sent"]+v["metallb_bgp_updates_total"]+v["metallb_bgp_keepalives_sent"],
			"total sent %v below the sum of its parts", v["metallb_bgp_total_sent"])
		check(v["metallb_bgp_total_received"] >= v["metallb_bgp_opens_received"]+v["metallb_bgp_updates_total_received"]+v["metallb_bgp_keepalives_received"],
			"total received %v below the sum of its parts", v["metallb_bgp_total_received"])
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		return nil
	})
	for _, name := range []string{"metallb_bgp_notifications_sent", "metallb_bgp_route_refresh_sent"} {
		if got, ok := v[name]; !ok || got != 0 {
			t.Errorf("%s = %v (present %v), want a series at 0", name, got, ok)
		}
	}

	// Keepalives keep flowing (one a second) and are counted.
	eventually(t, 10*time.Second, "keepalives counted", func() error {
		w := promValues(t, reg, p.ID())
		for _, name := range []string{"metallb_bgp_keepalives_sent", "metallb_bgp_keepalives_received", "metallb_bgp_total_sent", "metallb_bgp_total_received"} {
			if w[name] < v[name]+2 {
				return fmt.Errorf("%s %v, was %v", name, w[name], v[name])
			}
		}
		if w["metallb_bgp_opens_sent"] != 1 {
			return fmt.Errorf("opens sent %v: the session was reset", w["metallb_bgp_opens_sent"])
		}
		return nil
	})

	b.SetPeers(nil)
	eventually(t, 10*time.Second, "series removed", func() error {
		if w := promValues(t, reg, p.ID()); len(w) != 0 {
			return fmt.Errorf("still there: %v", w)
		}
		return nil
	})
}

// GoBGP clears a neighbor's counters when the back-off disables it; the
// exported counters keep growing: every refused attempt is one OPEN sent
// and one NOTIFICATION received.
func TestMessageCountersSurviveGoBGPResets(t *testing.T) {
	needLab(t)
	ref := startRefuser(t)
	rec := newRecorder()
	b, _ := runBackend(t, Options{Recorder: rec})
	p := bgp.Peer{Name: "refused", Address: addr("127.0.0.1"), Port: ref.port(), MyASN: 64500, PeerASN: 64512}
	b.SetPeers([]bgp.Peer{p})
	// The second refusal disables the neighbor for a while (counters
	// cleared); the third attempt comes after it is enabled again.
	eventually(t, 60*time.Second, "three attempts", func() error {
		if n := len(ref.times()); n < 3 {
			return fmt.Errorf("%d attempts", n)
		}
		return nil
	})
	eventually(t, 5*time.Second, "every attempt counted", func() error {
		n := uint64(len(ref.times()))
		sent, received := rec.messages(p.ID())
		if sent.Open != n || received.Notification != n || sent.Total < n || received.Total < n {
			return fmt.Errorf("%d attempts; sent %+v, received %+v", n, sent, received)
		}
		return nil
	})
}

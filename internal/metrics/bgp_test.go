package metrics

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// series gathers reg into "name{peer}" -> value, checking that every
// series has exactly the label peer and is a counter or a gauge.
func series(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetName() != "peer" {
				t.Errorf("%s has labels %v, want peer only", mf.GetName(), m.GetLabel())
				continue
			}
			key := mf.GetName() + "{" + m.GetLabel()[0].GetValue() + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			default:
				t.Errorf("%s has type %v", mf.GetName(), mf.GetType())
			}
		}
	}
	return out
}

func TestBGPMessageCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewBGP(reg)
	const p = "198.51.100.2:179"
	m.Messages(p, bgp.MessageCounts{}, bgp.MessageCounts{})
	m.Messages(p, bgp.MessageCounts{Open: 1, Update: 2, Keepalive: 3, Total: 6}, bgp.MessageCounts{Open: 1, Keepalive: 2, Update: 4, Notification: 9, RouteRefresh: 9, Total: 7})
	m.Messages(p, bgp.MessageCounts{Update: 1, Notification: 1, RouteRefresh: 2, Keepalive: 1, Total: 5}, bgp.MessageCounts{Keepalive: 1, Total: 1})
	want := map[string]float64{
		"metallb_bgp_opens_sent{" + p + "}":             1,
		"metallb_bgp_opens_received{" + p + "}":         1,
		"metallb_bgp_notifications_sent{" + p + "}":     1,
		"metallb_bgp_updates_total{" + p + "}":          3,
		"metallb_bgp_updates_total_received{" + p + "}": 4,
		"metallb_bgp_keepalives_sent{" + p + "}":        4,
		"metallb_bgp_keepalives_received{" + p + "}":    3,
		"metallb_bgp_route_refresh_sent{" + p + "}":     2,
		"metallb_bgp_total_sent{" + p + "}":             11,
		"metallb_bgp_total_received{" + p + "}":         8,
	}
	if diff := cmp.Diff(want, series(t, reg)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	m.PeerRemoved(p, "")
	if got := series(t, reg); len(got) != 0 {
		t.Errorf("series left after PeerRemoved: %v", got)
	}
}

func TestBFDCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewBGP(reg)
	const p, other = "198.51.100.2", "198.51.100.3"
	// The first refresh creates every BFD counter of the peer, echo
	// included.
	m.BFDControlPackets(p, 0, 0)
	m.BFDControlPackets(other, 1, 1)
	m.BFDNotification(p)
	m.BFDSessionUp(p, true)
	m.BFDControlPackets(p, 10, 12)
	m.BFDNotification(p)
	m.BFDSessionUp(p, false)
	m.BFDControlPackets(p, 3, 4)
	m.BFDEchoPackets(p, 5, 7)
	m.BFDEchoPackets(p, 1, 1)
	want := map[string]float64{
		"metallb_bfd_session_up{" + p + "}":            0,
		"metallb_bfd_session_up_events{" + p + "}":     1,
		"metallb_bfd_session_down_events{" + p + "}":   1,
		"metallb_bfd_control_packet_input{" + p + "}":  13,
		"metallb_bfd_control_packet_output{" + p + "}": 16,
		"metallb_bfd_echo_packet_input{" + p + "}":     6,
		"metallb_bfd_echo_packet_output{" + p + "}":    8,
		"metallb_bfd_zebra_notifications{" + p + "}":   2,
	}
	got := series(t, reg)
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	m.PeerRemoved("198.51.100.2:179", p)
	for k := range series(t, reg) {
		if _, ok := want[k]; ok {
			t.Errorf("%s left after PeerRemoved", k)
		}
	}
	if got := series(t, reg); got["metallb_bfd_control_packet_input{"+other+"}"] != 1 {
		t.Errorf("another peer's series were touched: %v", got)
	}
}

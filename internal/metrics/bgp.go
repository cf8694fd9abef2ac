package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferrolb/ferrolb/internal/bgp"
)

// BGP exports the metallb_bgp_* and metallb_bfd_* metrics of the speaker
// (peer label: "address:port" for BGP, the address for BFD, as in
// MetalLB): those of MetalLB's native mode and the per-peer counters its
// FRR mode reads from FRR. It implements bgp.Recorder.
type BGP struct {
	sessionUp, announced, pending *prometheus.GaugeVec
	// BGP message counters.
	updates, updatesReceived           *prometheus.CounterVec
	opensSent, opensReceived           *prometheus.CounterVec
	notificationsSent                  *prometheus.CounterVec
	keepalivesSent, keepalivesReceived *prometheus.CounterVec
	routeRefreshSent                   *prometheus.CounterVec
	totalSent, totalReceived           *prometheus.CounterVec
	bfdUp                              *prometheus.GaugeVec
	bfdUpEvents, bfdDownEvents         *prometheus.CounterVec
	bfdControlInput, bfdControlOutput  *prometheus.CounterVec
	bfdEchoInput, bfdEchoOutput        *prometheus.CounterVec
	bfdZebraNotifications              *prometheus.CounterVec
}

var _ bgp.Recorder = (*BGP)(nil)

// NewBGP creates and registers the BGP and BFD metrics.
func NewBGP(reg prometheus.Registerer) *BGP {
	gauge := func(sub, name, help string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "metallb", Subsystem: sub, Name: name, Help: help}, []string{"peer"})
		reg.MustRegister(v)
		return v
	}
	counter := func(sub, name, help string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "metallb", Subsystem: sub, Name: name, Help: help}, []string{"peer"})
		reg.MustRegister(v)
		return v
	}
	return &BGP{
		sessionUp:          gauge("bgp", "session_up", "BGP session state (1 is up, 0 is down)"),
		announced:          gauge("bgp", "announced_prefixes_total", "Number of prefixes currently being advertised on the BGP session"),
		pending:            gauge("bgp", "pending_prefixes_total", "Number of prefixes that should be advertised on the BGP session"),
		updates:            counter("bgp", "updates_total", "Number of BGP UPDATE messages sent"),
		updatesReceived:    counter("bgp", "updates_total_received", "Number of BGP UPDATE messages received"),
		opensSent:          counter("bgp", "opens_sent", "Number of BGP open messages sent"),
		opensReceived:      counter("bgp", "opens_received", "Number of BGP open messages received"),
		notificationsSent:  counter("bgp", "notifications_sent", "Number of BGP notification messages sent"),
		keepalivesSent:     counter("bgp", "keepalives_sent", "Number of BGP keepalive messages sent"),
		keepalivesReceived: counter("bgp", "keepalives_received", "Number of BGP keepalive messages received"),
		routeRefreshSent:   counter("bgp", "route_refresh_sent", "Number of BGP route refresh messages sent"),
		totalSent:          counter("bgp", "total_sent", "Number of all BGP messages sent"),
		totalReceived:      counter("bgp", "total_received", "Number of all BGP messages received"),
		bfdUp:              gauge("bfd", "session_up", "BFD session state (1 is up, 0 is down)"),
		bfdUpEvents:        counter("bfd", "session_up_events", "Number of times the BFD session went up"),
		bfdDownEvents:      counter("bfd", "session_down_events", "Number of times the BFD session went down"),
		bfdControlInput:    counter("bfd", "control_packet_input", "Number of received BFD control packets"),
		bfdControlOutput:   counter("bfd", "control_packet_output", "Number of sent BFD control packets"),
		bfdEchoInput:       counter("bfd", "echo_packet_input", "Number of this system's BFD echo packets that came back (echo mode)"),
		bfdEchoOutput:      counter("bfd", "echo_packet_output", "Number of BFD echo packets sent (echo mode)"),
		bfdZebraNotifications: counter("bfd", "zebra_notifications",
			"Number of BFD state changes notified to the BGP session"),
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// SessionUp sets metallb_bgp_session_up.
func (m *BGP) SessionUp(peer string, up bool) { m.sessionUp.WithLabelValues(peer).Set(b2f(up)) }

// Messages adds to the BGP message counters (metallb_bgp_updates_total for
// UPDATEs sent, the others by type and direction); zero counts create the
// series.
func (m *BGP) Messages(peer string, sent, received bgp.MessageCounts) {
	for _, c := range []struct {
		v *prometheus.CounterVec
		n uint64
	}{
		{m.opensSent, sent.Open},
		{m.opensReceived, received.Open},
		{m.notificationsSent, sent.Notification},
		{m.updates, sent.Update},
		{m.updatesReceived, received.Update},
		{m.keepalivesSent, sent.Keepalive},
		{m.keepalivesReceived, received.Keepalive},
		{m.routeRefreshSent, sent.RouteRefresh},
		{m.totalSent, sent.Total},
		{m.totalReceived, received.Total},
	} {
		c.v.WithLabelValues(peer).Add(float64(c.n))
	}
}

// Prefixes sets the announced and pending prefix gauges.
func (m *BGP) Prefixes(peer string, announced, pending int) {
	m.announced.WithLabelValues(peer).Set(float64(announced))
	m.pending.WithLabelValues(peer).Set(float64(pending))
}

// BFDSessionUp sets metallb_bfd_session_up and counts the transition.
func (m *BGP) BFDSessionUp(peer string, up bool) {
	m.bfdUp.WithLabelValues(peer).Set(b2f(up))
	if up {
		m.bfdUpEvents.WithLabelValues(peer).Inc()
	} else {
		m.bfdDownEvents.WithLabelValues(peer).Inc()
	}
}

// BFDControlPackets adds to the control packet counters. It also creates
// every other BFD counter series of the peer at 0, the echo ones included
// (they stay 0 unless the profile asks for echo mode).
func (m *BGP) BFDControlPackets(peer string, in, out uint64) {
	m.bfdControlInput.WithLabelValues(peer).Add(float64(in))
	m.bfdControlOutput.WithLabelValues(peer).Add(float64(out))
	for _, v := range m.bfdCounters() {
		v.WithLabelValues(peer)
	}
}

// BFDEchoPackets adds to the echo packet counters: those that came back
// (input) and those sent (output).
func (m *BGP) BFDEchoPackets(peer string, in, out uint64) {
	m.bfdEchoInput.WithLabelValues(peer).Add(float64(in))
	m.bfdEchoOutput.WithLabelValues(peer).Add(float64(out))
}

// BFDNotification counts a BFD state change delivered to the BGP session
// in metallb_bfd_zebra_notifications.
func (m *BGP) BFDNotification(peer string) { m.bfdZebraNotifications.WithLabelValues(peer).Inc() }

// PeerRemoved drops a removed session's series.
func (m *BGP) PeerRemoved(peer, bfdPeer string) {
	for _, v := range []*prometheus.GaugeVec{m.sessionUp, m.announced, m.pending} {
		v.DeleteLabelValues(peer)
	}
	for _, v := range m.bgpCounters() {
		v.DeleteLabelValues(peer)
	}
	if bfdPeer != "" {
		m.bfdUp.DeleteLabelValues(bfdPeer)
		for _, v := range m.bfdCounters() {
			v.DeleteLabelValues(bfdPeer)
		}
	}
}

func (m *BGP) bgpCounters() []*prometheus.CounterVec {
	return []*prometheus.CounterVec{m.updates, m.updatesReceived, m.opensSent, m.opensReceived, m.notificationsSent,
		m.keepalivesSent, m.keepalivesReceived, m.routeRefreshSent, m.totalSent, m.totalReceived}
}

func (m *BGP) bfdCounters() []*prometheus.CounterVec {
	return []*prometheus.CounterVec{m.bfdUpEvents, m.bfdDownEvents, m.bfdControlInput, m.bfdControlOutput,
		m.bfdEchoInput, m.bfdEchoOutput, m.bfdZebraNotifications}
}

package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// BGP exports the metallb_bgp_* and metallb_bfd_* metrics of the speaker
// (peer label: "address:port" for BGP, the address for BFD, as in
// MetalLB). Its methods satisfy bgp.Recorder.
type BGP struct {
	sessionUp, announced, pending *prometheus.GaugeVec
	updates                       *prometheus.CounterVec
	bfdUp                         *prometheus.GaugeVec
	bfdUpEvents, bfdDownEvents    *prometheus.CounterVec
}

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
		sessionUp:     gauge("bgp", "session_up", "BGP session state (1 is up, 0 is down)"),
		announced:     gauge("bgp", "announced_prefixes_total", "Number of prefixes currently being advertised on the BGP session"),
		pending:       gauge("bgp", "pending_prefixes_total", "Number of prefixes that should be advertised on the BGP session"),
		updates:       counter("bgp", "updates_total", "Number of BGP UPDATE messages sent"),
		bfdUp:         gauge("bfd", "session_up", "BFD session state (1 is up, 0 is down)"),
		bfdUpEvents:   counter("bfd", "session_up_events", "Number of times the BFD session went up"),
		bfdDownEvents: counter("bfd", "session_down_events", "Number of times the BFD session went down"),
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

// UpdatesSent adds to metallb_bgp_updates_total.
func (m *BGP) UpdatesSent(peer string, n uint64) { m.updates.WithLabelValues(peer).Add(float64(n)) }

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

// PeerRemoved drops a removed session's series.
func (m *BGP) PeerRemoved(peer, bfdPeer string) {
	for _, v := range []*prometheus.GaugeVec{m.sessionUp, m.announced, m.pending} {
		v.DeleteLabelValues(peer)
	}
	m.updates.DeleteLabelValues(peer)
	if bfdPeer != "" {
		m.bfdUp.DeleteLabelValues(bfdPeer)
		m.bfdUpEvents.DeleteLabelValues(bfdPeer)
		m.bfdDownEvents.DeleteLabelValues(bfdPeer)
	}
}

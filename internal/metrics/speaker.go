package metrics

import (
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
)

// Speaker exports metallb_speaker_announced and the metallb_layer2_*
// counters. Its Layer2 methods satisfy the responders' recorder.
type Speaker struct {
	announced                   *prometheus.GaugeVec
	requests, responses, gratis *prometheus.CounterVec
}

// NewSpeaker creates and registers the speaker metrics.
func NewSpeaker(reg prometheus.Registerer) *Speaker {
	counter := func(name, help string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "metallb", Subsystem: "layer2", Name: name, Help: help,
		}, []string{"ip"})
		reg.MustRegister(v)
		return v
	}
	m := &Speaker{
		announced: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "metallb", Subsystem: "speaker", Name: "announced",
			Help: "Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.",
		}, []string{"service", "protocol", "node", "ip"}),
		requests:  counter("requests_received", "Number of layer2 requests received for owned IPs"),
		responses: counter("responses_sent", "Number of layer2 responses sent for owned IPs"),
		gratis:    counter("gratuitous_sent", "Number of gratuitous layer2 packets sent for owned IPs"),
	}
	reg.MustRegister(m.announced)
	return m
}

// Announcement identifies one series of metallb_speaker_announced.
type Announcement struct {
	Service, Protocol, Node, IP string
}

// SetAnnounced makes metallb_speaker_announced hold exactly the given
// series of protocol, dropping the protocol's other series (no stale
// "announced" after a switch).
func (m *Speaker) SetAnnounced(protocol string, now, before map[Announcement]bool) {
	for a := range before {
		if !now[a] && a.Protocol == protocol {
			m.announced.DeleteLabelValues(a.Service, a.Protocol, a.Node, a.IP)
		}
	}
	for a := range now {
		m.announced.WithLabelValues(a.Service, a.Protocol, a.Node, a.IP).Set(1)
	}
}

// RequestReceived counts an ARP/NDP request for an owned IP.
func (m *Speaker) RequestReceived(ip netip.Addr) { m.requests.WithLabelValues(ip.String()).Inc() }

// ResponseSent counts an ARP/NDP reply.
func (m *Speaker) ResponseSent(ip netip.Addr) { m.responses.WithLabelValues(ip.String()).Inc() }

// GratuitousSent counts a gratuitous ARP or unsolicited NA.
func (m *Speaker) GratuitousSent(ip netip.Addr) { m.gratis.WithLabelValues(ip.String()).Inc() }

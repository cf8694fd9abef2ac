package speaker

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/internal/bgp"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/plan"
	"github.com/ferrolb/ferrolb/internal/metrics"
)

// applyBGP plans this node's BGP sessions and routes, hands them to the
// backend (which sends only differences: one UPDATE per change, no session
// reset), then publishes ServiceBGPStatus objects, events and metrics.
func (r *Reconciler) applyBGP(in plan.Input, svcs map[string]*corev1.Service) error {
	result := plan.DesiredBGP(in)
	peers := make([]bgp.Peer, 0, len(result.Sessions))
	for _, s := range result.Sessions {
		peers = append(peers, toBGPPeer(s))
	}
	var errs []error
	if err := r.BGP.SetPeers(peers); err != nil {
		errs = append(errs, err)
	}
	for _, p := range peers {
		if err := r.BGP.SetAdvertisements(p.Name, toBGPAds(result.Advertisements[p.Name])); err != nil {
			errs = append(errs, err)
		}
	}

	series := map[metrics.Announcement]bool{}
	announced := map[string]bool{}
	want := map[string]StatusSpec{}
	for key, d := range result.Services {
		if len(d.Peers) > 0 {
			want[key] = StatusSpec{Service: key, Peers: slices.Clone(d.Peers)}
		}
		if !d.Announced() {
			continue
		}
		announced[key] = true
		for _, ipd := range d.IPs {
			if ipd.Announce {
				series[metrics.Announcement{Service: key, Protocol: "bgp", Node: r.Node, IP: ipd.IP.String()}] = true
			}
		}
		if !r.bgpAnnounced[key] {
			if svc := svcs[key]; svc != nil {
				r.Events.Event(svc, corev1.EventTypeNormal, "nodeAssigned",
					fmt.Sprintf("announcing from node %q with protocol %q", r.Node, "bgp"))
			}
			r.Log.Info("announcing", "service", key, "node", r.Node, "protocol", "bgp", "peers", d.Peers)
		}
	}
	for key := range r.bgpAnnounced {
		if !announced[key] {
			r.Log.Info("withdrawn", "service", key, "node", r.Node, "protocol", "bgp", "reason", bgpReason(result.Services[key]))
		}
	}
	if r.Metrics != nil {
		r.Metrics.SetAnnounced("bgp", series, r.bgpSeries)
	}
	r.bgpSeries, r.bgpAnnounced = series, announced
	if r.BGPStatus != nil {
		r.BGPStatus.Set(want)
	}
	if len(errs) > 0 {
		return fmt.Errorf("bgp: %v", errs)
	}
	return nil
}

func bgpReason(d plan.BGPDecision) string {
	if d.Reason != "" {
		return d.Reason
	}
	for _, ip := range d.IPs {
		if ip.Reason != "" {
			return ip.Reason
		}
	}
	return "serviceGone"
}

func toBGPPeer(p *config.BGPPeer) bgp.Peer {
	out := bgp.Peer{
		Name:                   p.Name,
		Address:                p.Address,
		Port:                   p.Port,
		MyASN:                  plan.SessionASN(p), // localASN replaces myASN
		PeerASN:                p.PeerASN,
		DynamicASN:             p.DynamicASN,
		RouterID:               p.RouterID,
		SourceAddress:          p.SourceAddress,
		HoldTime:               p.HoldTime,
		KeepaliveTime:          p.KeepaliveTime,
		ConnectTime:            p.ConnectTime,
		Password:               p.Password,
		EBGPMultiHop:           p.EBGPMultiHop,
		GracefulRestart:        p.EnableGracefulRestart,
		VRF:                    p.VRF,
		DualStackAddressFamily: p.DualStackAddressFamily,
	}
	if b := p.BFDProfile; b != nil {
		out.BFD = &bgp.BFDProfile{
			ReceiveInterval:  b.ReceiveInterval,
			TransmitInterval: b.TransmitInterval,
			DetectMultiplier: b.DetectMultiplier,
			EchoMode:         b.EchoMode,
			EchoInterval:     b.EchoInterval,
			PassiveMode:      b.PassiveMode,
			MinimumTTL:       b.MinimumTTL,
		}
	}
	return out
}

func toBGPAds(ads []plan.Advertisement) []bgp.Advertisement {
	out := make([]bgp.Advertisement, len(ads))
	for i, a := range ads {
		out[i] = bgp.Advertisement{Prefix: a.Prefix, LocalPref: a.LocalPref}
		for _, c := range a.Communities {
			out[i].Communities = append(out[i].Communities, bgp.Community(c))
		}
	}
	return out
}

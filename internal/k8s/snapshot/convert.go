package snapshot

import (
	"bytes"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/core/config"
)

func meta(m *metav1.ObjectMeta) config.Meta {
	return config.Meta{Name: m.Name, Labels: maps.Clone(m.Labels)}
}

func pool(p *v1beta1.IPAddressPool) config.PoolSpec {
	out := config.PoolSpec{
		Meta:          meta(&p.ObjectMeta),
		Addresses:     slices.Clone(p.Spec.Addresses),
		AutoAssign:    clonePtr(p.Spec.AutoAssign),
		AvoidBuggyIPs: p.Spec.AvoidBuggyIPs,
	}
	if a := p.Spec.ServiceAllocation; a != nil {
		out.Allocation = &config.ServiceAllocationSpec{
			Priority:           a.Priority,
			Namespaces:         slices.Clone(a.Namespaces),
			NamespaceSelectors: Selectors(a.NamespaceSelectors),
			ServiceSelectors:   Selectors(a.ServiceSelectors),
		}
	}
	return out
}

func l2Advertisement(a *v1beta1.L2Advertisement) config.L2AdvertisementSpec {
	s := &a.Spec
	out := config.L2AdvertisementSpec{
		Meta:                   meta(&a.ObjectMeta),
		IPAddressPools:         slices.Clone(s.IPAddressPools),
		IPAddressPoolSelectors: Selectors(s.IPAddressPoolSelectors),
		NodeSelectors:          Selectors(s.NodeSelectors),
		Interfaces:             slices.Clone(s.Interfaces),
		ServiceSelectors:       Selectors(s.ServiceSelectors),
	}
	for _, p := range s.PreferredNodeSelectors {
		out.PreferredNodeSelectors = append(out.PreferredNodeSelectors, config.PreferredNodeSelector{
			Weight:     p.Weight,
			Preference: Selector(p.Preference),
		})
	}
	return out
}

func bgpAdvertisement(a *v1beta1.BGPAdvertisement) config.BGPAdvertisementSpec {
	s := &a.Spec
	return config.BGPAdvertisementSpec{
		Meta:                   meta(&a.ObjectMeta),
		AggregationLength:      clonePtr(s.AggregationLength),
		AggregationLengthV6:    clonePtr(s.AggregationLengthV6),
		LocalPref:              s.LocalPref,
		Communities:            slices.Clone(s.Communities),
		IPAddressPools:         slices.Clone(s.IPAddressPools),
		IPAddressPoolSelectors: Selectors(s.IPAddressPoolSelectors),
		NodeSelectors:          Selectors(s.NodeSelectors),
		Peers:                  slices.Clone(s.Peers),
		ServiceSelectors:       Selectors(s.ServiceSelectors),
	}
}

func bgpPeer(p *v1beta2.BGPPeer) config.BGPPeerSpec {
	s := &p.Spec
	return config.BGPPeerSpec{
		Meta:                   meta(&p.ObjectMeta),
		MyASN:                  s.MyASN,
		PeerASN:                s.ASN,
		LocalASN:               s.LocalASN,
		DynamicASN:             string(s.DynamicASN),
		PeerAddress:            s.Address,
		Interface:              s.Interface,
		SourceAddress:          s.SrcAddress,
		PeerPort:               s.Port,
		HoldTime:               duration(s.HoldTime),
		KeepaliveTime:          duration(s.KeepaliveTime),
		ConnectTime:            duration(s.ConnectTime),
		RouterID:               s.RouterID,
		NodeSelectors:          Selectors(s.NodeSelectors),
		Password:               s.Password,
		PasswordSecret:         s.PasswordSecret.Name,
		BFDProfile:             s.BFDProfile,
		EnableGracefulRestart:  s.EnableGracefulRestart,
		EBGPMultiHop:           s.EBGPMultiHop,
		VRF:                    s.VRFName,
		DisableMP:              s.DisableMP,
		DualStackAddressFamily: s.DualStackAddressFamily,
	}
}

func bfdProfile(p *v1beta1.BFDProfile) config.BFDProfileSpec {
	s := &p.Spec
	return config.BFDProfileSpec{
		Meta:             meta(&p.ObjectMeta),
		ReceiveInterval:  clonePtr(s.ReceiveInterval),
		TransmitInterval: clonePtr(s.TransmitInterval),
		DetectMultiplier: clonePtr(s.DetectMultiplier),
		EchoInterval:     clonePtr(s.EchoInterval),
		EchoMode:         clonePtr(s.EchoMode),
		PassiveMode:      clonePtr(s.PassiveMode),
		MinimumTTL:       clonePtr(s.MinimumTTL),
	}
}

func community(c *v1beta1.Community) config.CommunitySpec {
	out := config.CommunitySpec{Meta: meta(&c.ObjectMeta)}
	for _, a := range c.Spec.Communities {
		out.Communities = append(out.Communities, config.CommunityAlias{Name: a.Name, Value: a.Value})
	}
	return out
}

func secret(s *corev1.Secret) config.SecretSpec {
	out := config.SecretSpec{Name: s.Name, Type: string(s.Type)}
	if s.Data != nil {
		out.Data = make(map[string][]byte, len(s.Data))
		for k, v := range s.Data {
			out.Data[k] = bytes.Clone(v)
		}
	}
	return out
}

func namespace(n *corev1.Namespace) config.Namespace {
	return config.Namespace{Name: n.Name, Labels: maps.Clone(n.Labels)}
}

func node(n *corev1.Node) config.Node {
	return config.Node{Name: n.Name, Labels: maps.Clone(n.Labels)}
}

func duration(d *metav1.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.Duration
	return &v
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

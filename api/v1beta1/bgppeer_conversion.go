package v1beta1

import (
	"fmt"
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/ferrolb/ferrolb/api/v1beta2"
)

var _ conversion.Convertible = (*BGPPeer)(nil)

// ConvertTo converts this BGPPeer to the v1beta2 hub. A zero v1beta1 timer
// is one the user did not set (v1beta1 cannot express an explicit zero:
// the field is omitted when empty), so it becomes an unset v1beta2 timer
// and gets the defaults (hold 90 s, keepalive a third of it) rather than
// MetalLB's "hold time 0", which turns keepalives off.
func (p *BGPPeer) ConvertTo(hub conversion.Hub) error {
	dst, ok := hub.(*v1beta2.BGPPeer)
	if !ok {
		return fmt.Errorf("v1beta1 BGPPeer: cannot convert to %T", hub)
	}
	p.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	s := p.Spec
	dst.Spec = v1beta2.BGPPeerSpec{
		MyASN:         s.MyASN,
		ASN:           s.ASN,
		Address:       s.Address,
		SrcAddress:    s.SrcAddress,
		Port:          s.Port,
		HoldTime:      durationOrNil(s.HoldTime),
		KeepaliveTime: durationOrNil(s.KeepaliveTime),
		RouterID:      s.RouterID,
		NodeSelectors: toLabelSelectors(s.NodeSelectors),
		Password:      s.Password,
		BFDProfile:    s.BFDProfile,
		EBGPMultiHop:  s.EBGPMultiHop,
	}
	return nil
}

// ConvertFrom converts the v1beta2 hub to this version. Fields v1beta1
// cannot express (dynamicASN, interface, passwordSecret, VRF, ...) are
// dropped; unset timers become zero durations.
func (p *BGPPeer) ConvertFrom(hub conversion.Hub) error {
	src, ok := hub.(*v1beta2.BGPPeer)
	if !ok {
		return fmt.Errorf("v1beta1 BGPPeer: cannot convert from %T", hub)
	}
	src.ObjectMeta.DeepCopyInto(&p.ObjectMeta)
	s := src.Spec
	p.Spec = BGPPeerSpec{
		MyASN:         s.MyASN,
		ASN:           s.ASN,
		Address:       s.Address,
		SrcAddress:    s.SrcAddress,
		Port:          s.Port,
		HoldTime:      durationOrZero(s.HoldTime),
		KeepaliveTime: durationOrZero(s.KeepaliveTime),
		RouterID:      s.RouterID,
		NodeSelectors: fromLabelSelectors(s.NodeSelectors),
		Password:      s.Password,
		BFDProfile:    s.BFDProfile,
		EBGPMultiHop:  s.EBGPMultiHop,
	}
	return nil
}

func durationOrZero(d *metav1.Duration) metav1.Duration {
	if d == nil {
		return metav1.Duration{}
	}
	return *d
}

func toLabelSelectors(in []NodeSelector) []metav1.LabelSelector {
	if in == nil {
		return nil
	}
	out := make([]metav1.LabelSelector, len(in))
	for i, s := range in {
		out[i].MatchLabels = maps.Clone(s.MatchLabels)
		if s.MatchExpressions == nil {
			continue
		}
		out[i].MatchExpressions = make([]metav1.LabelSelectorRequirement, len(s.MatchExpressions))
		for j, e := range s.MatchExpressions {
			out[i].MatchExpressions[j] = metav1.LabelSelectorRequirement{
				Key:      e.Key,
				Operator: metav1.LabelSelectorOperator(e.Operator),
				Values:   slices.Clone(e.Values),
			}
		}
	}
	return out
}

func fromLabelSelectors(in []metav1.LabelSelector) []NodeSelector {
	if in == nil {
		return nil
	}
	out := make([]NodeSelector, len(in))
	for i, s := range in {
		out[i].MatchLabels = maps.Clone(s.MatchLabels)
		if s.MatchExpressions == nil {
			continue
		}
		out[i].MatchExpressions = make([]MatchExpression, len(s.MatchExpressions))
		for j, e := range s.MatchExpressions {
			out[i].MatchExpressions[j] = MatchExpression{
				Key:      e.Key,
				Operator: string(e.Operator),
				Values:   slices.Clone(e.Values),
			}
		}
	}
	return out
}

func durationOrNil(d metav1.Duration) *metav1.Duration {
	if d.Duration == 0 {
		return nil
	}
	return &d
}

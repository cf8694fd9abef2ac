package v1beta1

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/randfill"

	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func TestConvertTo(t *testing.T) {
	tests := []struct {
		name string
		in   BGPPeerSpec
		want v1beta2.BGPPeerSpec
	}{
		{
			name: "zero timers are unset timers",
			in:   BGPPeerSpec{MyASN: 64500, ASN: 64501, Address: "192.0.2.1"},
			want: v1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, Address: "192.0.2.1"},
		},
		{
			name: "every field",
			in: BGPPeerSpec{
				MyASN: 4200000000, ASN: 64501, Address: "2001:db8::1", SrcAddress: "2001:db8::2",
				Port: 1179, HoldTime: metav1.Duration{Duration: 90 * time.Second},
				KeepaliveTime: metav1.Duration{Duration: 30 * time.Second}, RouterID: "192.0.2.9",
				NodeSelectors: []NodeSelector{
					{},
					{
						MatchLabels: map[string]string{"rack": "a"},
						MatchExpressions: []MatchExpression{
							{Key: "zone", Operator: "In", Values: []string{"z1", "z2"}},
						},
					},
				},
				Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
			},
			want: v1beta2.BGPPeerSpec{
				MyASN: 4200000000, ASN: 64501, Address: "2001:db8::1", SrcAddress: "2001:db8::2",
				Port: 1179, HoldTime: dur(90 * time.Second), KeepaliveTime: dur(30 * time.Second),
				RouterID: "192.0.2.9",
				NodeSelectors: []metav1.LabelSelector{
					{},
					{
						MatchLabels: map[string]string{"rack": "a"},
						MatchExpressions: []metav1.LabelSelectorRequirement{
							{Key: "zone", Operator: metav1.LabelSelectorOpIn, Values: []string{"z1", "z2"}},
						},
					},
				},
				Password: "secret", BFDProfile: "fast", EBGPMultiHop: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "metallb-system"}, Spec: tt.in}
			var dst v1beta2.BGPPeer
			if err := src.ConvertTo(&dst); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, dst.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(src.ObjectMeta, dst.ObjectMeta); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConvertFromDropsV1beta2OnlyFields(t *testing.T) {
	src := &v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}},
		Spec: v1beta2.BGPPeerSpec{
			MyASN: 64500, DynamicASN: v1beta2.ExternalASNMode, LocalASN: 64999,
			Interface: "eth1", Port: 179, ConnectTime: dur(5 * time.Second),
			PasswordSecret:        corev1.SecretReference{Name: "bgp-pass"},
			EnableGracefulRestart: true, VRFName: "red", DisableMP: true, DualStackAddressFamily: true,
			NodeSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "k", Operator: metav1.LabelSelectorOpExists},
			}}},
		},
	}
	var dst BGPPeer
	if err := dst.ConvertFrom(src); err != nil {
		t.Fatal(err)
	}
	want := BGPPeerSpec{
		MyASN: 64500, Port: 179,
		NodeSelectors: []NodeSelector{{MatchExpressions: []MatchExpression{{Key: "k", Operator: "Exists"}}}},
	}
	if diff := cmp.Diff(want, dst.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if dst.Name != "p" || dst.Labels["a"] != "b" {
		t.Errorf("metadata not copied: %+v", dst.ObjectMeta)
	}
}

func TestConversionDoesNotAlias(t *testing.T) {
	src := &BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
		Spec: BGPPeerSpec{HoldTime: metav1.Duration{Duration: time.Minute}, NodeSelectors: []NodeSelector{{
			MatchLabels:      map[string]string{"x": "y"},
			MatchExpressions: []MatchExpression{{Key: "k", Operator: "In", Values: []string{"v"}}},
		}}},
	}
	var hub v1beta2.BGPPeer
	if err := src.ConvertTo(&hub); err != nil {
		t.Fatal(err)
	}
	hub.Labels["a"] = "changed"
	hub.Spec.NodeSelectors[0].MatchLabels["x"] = "changed"
	hub.Spec.NodeSelectors[0].MatchExpressions[0].Values[0] = "changed"
	*hub.Spec.HoldTime = metav1.Duration{Duration: time.Hour}
	if src.Labels["a"] != "b" || src.Spec.NodeSelectors[0].MatchLabels["x"] != "y" ||
		src.Spec.NodeSelectors[0].MatchExpressions[0].Values[0] != "v" || src.Spec.HoldTime.Duration != time.Minute {
		t.Errorf("ConvertTo result shares memory with its source: %+v", src)
	}

	var back BGPPeer
	if err := back.ConvertFrom(&hub); err != nil {
		t.Fatal(err)
	}
	back.Spec.NodeSelectors[0].MatchLabels["x"] = "again"
	back.Spec.NodeSelectors[0].MatchExpressions[0].Values[0] = "again"
	if hub.Spec.NodeSelectors[0].MatchLabels["x"] != "changed" ||
		hub.Spec.NodeSelectors[0].MatchExpressions[0].Values[0] != "changed" {
		t.Errorf("ConvertFrom result shares memory with its source: %+v", hub.Spec)
	}
}

// otherHub is a Hub that is not a v1beta2 BGPPeer.
type otherHub struct{ v1beta2.BGPPeer }

func TestConvertWrongHub(t *testing.T) {
	var p BGPPeer
	if err := p.ConvertTo(&otherHub{}); err == nil {
		t.Error("ConvertTo accepted a foreign hub")
	}
	if err := p.ConvertFrom(&otherHub{}); err == nil {
		t.Error("ConvertFrom accepted a foreign hub")
	}
}

func filler(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(0, 3)
}

// Every v1beta1 object survives v1beta1 -> v1beta2 -> v1beta1 unchanged.
func TestRoundTripFromV1beta1(t *testing.T) {
	for seed := range int64(300) {
		var orig BGPPeer
		filler(seed).Fill(&orig.Spec)
		filler(seed).Fill(&orig.ObjectMeta)
		var hub v1beta2.BGPPeer
		if err := orig.ConvertTo(&hub); err != nil {
			t.Fatal(err)
		}
		var back BGPPeer
		if err := back.ConvertFrom(&hub); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(orig, back); diff != "" {
			t.Fatalf("seed %d: round trip changed the object (-orig +back):\n%s", seed, diff)
		}
	}
}

// A v1beta2 object that uses only what v1beta1 can express survives
// v1beta2 -> v1beta1 -> v1beta2 unchanged.
func TestRoundTripFromV1beta2(t *testing.T) {
	for seed := range int64(300) {
		var orig v1beta2.BGPPeer
		f := filler(seed)
		f.Fill(&orig.ObjectMeta)
		s := &orig.Spec
		f.Fill(&s.MyASN)
		f.Fill(&s.ASN)
		f.Fill(&s.Address)
		f.Fill(&s.SrcAddress)
		f.Fill(&s.Port)
		s.HoldTime, s.KeepaliveTime = new(metav1.Duration), new(metav1.Duration)
		f.Fill(s.HoldTime)
		f.Fill(s.KeepaliveTime)
		f.Fill(&s.RouterID)
		f.Fill(&s.NodeSelectors)
		f.Fill(&s.Password)
		f.Fill(&s.BFDProfile)
		f.Fill(&s.EBGPMultiHop)

		var v1 BGPPeer
		if err := v1.ConvertFrom(&orig); err != nil {
			t.Fatal(err)
		}
		var back v1beta2.BGPPeer
		if err := v1.ConvertTo(&back); err != nil {
			t.Fatal(err)
		}
		// v1beta1 cannot tell an explicit zero timer from an unset one.
		for _, d := range []**metav1.Duration{&orig.Spec.HoldTime, &orig.Spec.KeepaliveTime} {
			if *d != nil && (*d).Duration == 0 {
				*d = nil
			}
		}
		if diff := cmp.Diff(orig, back); diff != "" {
			t.Fatalf("seed %d: round trip changed the object (-orig +back):\n%s", seed, diff)
		}
	}
}

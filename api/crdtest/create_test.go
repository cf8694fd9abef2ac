package crdtest

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

type createCase struct {
	name string
	obj  client.Object
	// wantErr is "" when the object must be accepted, else a substring of
	// the Invalid error the API server must return.
	wantErr string
	// check inspects an accepted object as the server returned it.
	check func(t *testing.T, got client.Object)
}

func runCreate(t *testing.T, cases []createCase) {
	t.Helper()
	ctx, e := setup(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.c.Create(ctx, tc.obj)
			checkErr(t, err, tc.wantErr)
			if err == nil && tc.check != nil {
				tc.check(t, tc.obj)
			}
		})
	}
}

func TestIPAddressPoolSchema(t *testing.T) {
	runCreate(t, []createCase{
		{
			name: "minimal pool gets autoAssign true",
			obj:  pool(v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/24"}}),
			check: func(t *testing.T, got client.Object) {
				s := got.(*v1beta1.IPAddressPool).Spec
				if s.AutoAssign == nil || !*s.AutoAssign || s.AvoidBuggyIPs {
					t.Errorf("autoAssign = %v, avoidBuggyIPs = %v; want true, false", s.AutoAssign, s.AvoidBuggyIPs)
				}
			},
		},
		{
			name: "autoAssign false is kept",
			obj:  pool(v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/24"}, AutoAssign: ptr(false)}),
			check: func(t *testing.T, got client.Object) {
				if a := got.(*v1beta1.IPAddressPool).Spec.AutoAssign; a == nil || *a {
					t.Errorf("autoAssign = %v, want false", a)
				}
			},
		},
		{
			name: "dual-stack pool with every field",
			obj: pool(v1beta1.IPAddressPoolSpec{
				Addresses:     []string{"203.0.113.10-203.0.113.20", "2001:db8::/120"},
				AvoidBuggyIPs: true,
				ServiceAllocation: &v1beta1.ServiceAllocation{
					Priority: 10, Namespaces: []string{"web"},
					NamespaceSelectors: []metav1.LabelSelector{sel}, ServiceSelectors: []metav1.LabelSelector{sel},
				},
			}),
		},
		{name: "addresses missing", obj: raw("v1beta1", "IPAddressPool", map[string]any{}), wantErr: "spec.addresses: Required value"},
		{name: "addresses empty", obj: raw("v1beta1", "IPAddressPool", map[string]any{"addresses": []any{}}), wantErr: "spec.addresses"},
		{name: "address empty string", obj: pool(v1beta1.IPAddressPoolSpec{Addresses: []string{""}}), wantErr: "spec.addresses[0]"},
	})
}

func TestL2AdvertisementSchema(t *testing.T) {
	pref := func(w int32) v1beta1.L2AdvertisementSpec {
		return v1beta1.L2AdvertisementSpec{PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{{Weight: w, Preference: sel}}}
	}
	runCreate(t, []createCase{
		{name: "empty spec", obj: l2(v1beta1.L2AdvertisementSpec{})},
		{
			name: "every field",
			obj: l2(v1beta1.L2AdvertisementSpec{
				IPAddressPools: []string{"a"}, IPAddressPoolSelectors: []metav1.LabelSelector{sel},
				NodeSelectors: []metav1.LabelSelector{sel}, Interfaces: []string{"eth0"},
				ServiceSelectors: []metav1.LabelSelector{sel},
				PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
					{Weight: 1, Preference: sel}, {Weight: 100},
				},
			}),
		},
		{name: "preferred weight 0", obj: l2(pref(0)), wantErr: "spec.preferredNodeSelectors[0].weight"},
		{name: "preferred weight 101", obj: l2(pref(101)), wantErr: "spec.preferredNodeSelectors[0].weight"},
	})
}

func TestBGPAdvertisementSchema(t *testing.T) {
	const exclusive = "serviceSelectors and aggregationLength are mutually exclusive"
	lengths := func(t *testing.T, got client.Object, v4, v6 int32) {
		s := got.(*v1beta1.BGPAdvertisement).Spec
		if s.AggregationLength == nil || *s.AggregationLength != v4 ||
			s.AggregationLengthV6 == nil || *s.AggregationLengthV6 != v6 {
			t.Errorf("aggregation lengths %v/%v, want %d/%d", s.AggregationLength, s.AggregationLengthV6, v4, v6)
		}
	}
	selectors := []metav1.LabelSelector{sel}
	runCreate(t, []createCase{
		{
			name:  "defaults 32 and 128",
			obj:   bgpAdv(v1beta1.BGPAdvertisementSpec{}),
			check: func(t *testing.T, got client.Object) { lengths(t, got, 32, 128) },
		},
		{
			name:  "serviceSelectors with default lengths",
			obj:   bgpAdv(v1beta1.BGPAdvertisementSpec{ServiceSelectors: selectors}),
			check: func(t *testing.T, got client.Object) { lengths(t, got, 32, 128) },
		},
		{
			name: "serviceSelectors with explicit 32 and 128",
			obj: bgpAdv(v1beta1.BGPAdvertisementSpec{ServiceSelectors: selectors,
				AggregationLength: ptr[int32](32), AggregationLengthV6: ptr[int32](128)}),
		},
		{
			name: "aggregation without serviceSelectors, largest localPref",
			obj: bgpAdv(v1beta1.BGPAdvertisementSpec{
				AggregationLength: ptr[int32](1), AggregationLengthV6: ptr[int32](64), LocalPref: 4294967295,
				Communities: []string{"65000:1", "large:1:2:3"}, IPAddressPools: []string{"a"},
				IPAddressPoolSelectors: selectors, NodeSelectors: selectors, Peers: []string{"p"},
			}),
			check: func(t *testing.T, got client.Object) { lengths(t, got, 1, 64) },
		},
		{
			name:    "serviceSelectors with aggregationLength 24",
			obj:     bgpAdv(v1beta1.BGPAdvertisementSpec{ServiceSelectors: selectors, AggregationLength: ptr[int32](24)}),
			wantErr: exclusive,
		},
		{
			name:    "serviceSelectors with aggregationLengthV6 64",
			obj:     bgpAdv(v1beta1.BGPAdvertisementSpec{ServiceSelectors: selectors, AggregationLengthV6: ptr[int32](64)}),
			wantErr: exclusive,
		},
		{name: "aggregationLength 0", obj: bgpAdv(v1beta1.BGPAdvertisementSpec{AggregationLength: ptr[int32](0)}), wantErr: "spec.aggregationLength"},
		{name: "aggregationLength 33", obj: bgpAdv(v1beta1.BGPAdvertisementSpec{AggregationLength: ptr[int32](33)}), wantErr: "spec.aggregationLength"},
		{name: "aggregationLengthV6 0", obj: bgpAdv(v1beta1.BGPAdvertisementSpec{AggregationLengthV6: ptr[int32](0)}), wantErr: "spec.aggregationLengthV6"},
		{name: "aggregationLengthV6 129", obj: bgpAdv(v1beta1.BGPAdvertisementSpec{AggregationLengthV6: ptr[int32](129)}), wantErr: "spec.aggregationLengthV6"},
		{
			name:    "localPref beyond 32 bits",
			obj:     raw("v1beta1", "BGPAdvertisement", map[string]any{"localPref": int64(4294967296)}),
			wantErr: "spec.localPref",
		},
	})
}

func TestBGPPeerSchema(t *testing.T) {
	runCreate(t, []createCase{
		{
			name: "minimal peer gets port 179",
			obj:  peer(nil),
			check: func(t *testing.T, got client.Object) {
				if p := got.(*v1beta2.BGPPeer).Spec.Port; p != 179 {
					t.Errorf("peerPort = %d, want 179", p)
				}
			},
		},
		{
			name: "largest 4-byte ASNs",
			obj:  peer(func(s *v1beta2.BGPPeerSpec) { s.MyASN, s.ASN, s.LocalASN = 4294967295, 4294967294, 4294967293 }),
			check: func(t *testing.T, got client.Object) {
				if s := got.(*v1beta2.BGPPeer).Spec; s.MyASN != 4294967295 || s.ASN != 4294967294 || s.LocalASN != 4294967293 {
					t.Errorf("ASNs %d/%d/%d came back changed", s.MyASN, s.ASN, s.LocalASN)
				}
			},
		},
		{
			name: "dynamic ASN over an interface",
			obj: peer(func(s *v1beta2.BGPPeerSpec) {
				s.ASN, s.Address, s.DynamicASN, s.Interface = 0, "", v1beta2.InternalASNMode, "eth1"
			}),
		},
		{
			name: "every v1beta2 field",
			obj: peer(func(s *v1beta2.BGPPeerSpec) {
				s.SrcAddress, s.Port, s.RouterID, s.BFDProfile, s.VRFName = "198.51.100.2", 16384, "192.0.2.1", "fast", "red"
				s.HoldTime, s.KeepaliveTime, s.ConnectTime = dur(90*time.Second), dur(30*time.Second), dur(65535*time.Second)
				s.NodeSelectors, s.PasswordSecret = []metav1.LabelSelector{sel}, secretR
				s.EnableGracefulRestart, s.EBGPMultiHop, s.DisableMP, s.DualStackAddressFamily = true, true, true, true
			}),
		},
		{name: "password alone", obj: peer(func(s *v1beta2.BGPPeerSpec) { s.Password = "pw" })},
		{name: "connectTime 1s", obj: peer(func(s *v1beta2.BGPPeerSpec) { s.ConnectTime = dur(time.Second) })},
		{name: "spec missing", obj: raw("v1beta2", "BGPPeer", nil), wantErr: "spec: Required value"},
		{name: "myASN 0", obj: peer(func(s *v1beta2.BGPPeerSpec) { s.MyASN = 0 }), wantErr: "spec.myASN"},
		{name: "peerASN beyond 32 bits", obj: rawPeer(map[string]any{"peerASN": int64(4294967296)}), wantErr: "spec.peerASN"},
		{name: "localASN 0", obj: rawPeer(map[string]any{"localASN": int64(0)}), wantErr: "spec.localASN"},
		{
			name:    "neither peerASN nor dynamicASN",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.ASN = 0 }),
			wantErr: "exactly one of peerASN and dynamicASN",
		},
		{
			name:    "both peerASN and dynamicASN",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.DynamicASN = v1beta2.ExternalASNMode }),
			wantErr: "exactly one of peerASN and dynamicASN",
		},
		{
			name:    "unknown dynamicASN",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.ASN, s.DynamicASN = 0, "sideways" }),
			wantErr: "spec.dynamicASN: Unsupported value",
		},
		{
			name:    "neither peerAddress nor interface",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.Address = "" }),
			wantErr: "exactly one of peerAddress and interface",
		},
		{
			name:    "both peerAddress and interface",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.Interface = "eth1" }),
			wantErr: "exactly one of peerAddress and interface",
		},
		{name: "peerPort 0", obj: rawPeer(map[string]any{"peerPort": int64(0)}), wantErr: "spec.peerPort"},
		{name: "peerPort 16385", obj: peer(func(s *v1beta2.BGPPeerSpec) { s.Port = 16385 }), wantErr: "spec.peerPort"},
		{
			name:    "password and passwordSecret",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.Password, s.PasswordSecret = "pw", secretR }),
			wantErr: "password and passwordSecret are mutually exclusive",
		},
		{
			name:    "ebgpMultiHop on iBGP",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.ASN, s.EBGPMultiHop = s.MyASN, true }),
			wantErr: "ebgpMultiHop cannot be set for an iBGP peer",
		},
		{
			name:    "connectTime 0s",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.ConnectTime = dur(0) }),
			wantErr: "connectTime must be between 1s and 65535s",
		},
		{
			name:    "connectTime 65536s",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.ConnectTime = dur(65536 * time.Second) }),
			wantErr: "connectTime must be between 1s and 65535s",
		},
		{
			name:    "connectTime 1500ms",
			obj:     peer(func(s *v1beta2.BGPPeerSpec) { s.ConnectTime = dur(1500 * time.Millisecond) }),
			wantErr: "connectTime must be a whole number of seconds",
		},
	})
}

func TestBFDProfileSchema(t *testing.T) {
	u := func(v uint32) *uint32 { return &v }
	runCreate(t, []createCase{
		{name: "empty", obj: bfd(v1beta1.BFDProfileSpec{})},
		{name: "lower bounds", obj: bfd(v1beta1.BFDProfileSpec{
			ReceiveInterval: u(10), TransmitInterval: u(10), DetectMultiplier: u(2), EchoInterval: u(10),
			MinimumTTL: u(1), EchoMode: ptr(false), PassiveMode: ptr(false),
		})},
		{name: "upper bounds", obj: bfd(v1beta1.BFDProfileSpec{
			ReceiveInterval: u(60000), TransmitInterval: u(60000), DetectMultiplier: u(255), EchoInterval: u(60000),
			MinimumTTL: u(254), EchoMode: ptr(true), PassiveMode: ptr(true),
		})},
		{name: "receiveInterval 9", obj: bfd(v1beta1.BFDProfileSpec{ReceiveInterval: u(9)}), wantErr: "spec.receiveInterval"},
		{name: "receiveInterval 60001", obj: bfd(v1beta1.BFDProfileSpec{ReceiveInterval: u(60001)}), wantErr: "spec.receiveInterval"},
		{name: "transmitInterval 9", obj: bfd(v1beta1.BFDProfileSpec{TransmitInterval: u(9)}), wantErr: "spec.transmitInterval"},
		{name: "transmitInterval 60001", obj: bfd(v1beta1.BFDProfileSpec{TransmitInterval: u(60001)}), wantErr: "spec.transmitInterval"},
		{name: "detectMultiplier 1", obj: bfd(v1beta1.BFDProfileSpec{DetectMultiplier: u(1)}), wantErr: "spec.detectMultiplier"},
		{name: "detectMultiplier 256", obj: bfd(v1beta1.BFDProfileSpec{DetectMultiplier: u(256)}), wantErr: "spec.detectMultiplier"},
		{name: "echoInterval 9", obj: bfd(v1beta1.BFDProfileSpec{EchoInterval: u(9)}), wantErr: "spec.echoInterval"},
		{name: "echoInterval 60001", obj: bfd(v1beta1.BFDProfileSpec{EchoInterval: u(60001)}), wantErr: "spec.echoInterval"},
		{name: "minimumTtl 0", obj: bfd(v1beta1.BFDProfileSpec{MinimumTTL: u(0)}), wantErr: "spec.minimumTtl"},
		{name: "minimumTtl 255", obj: bfd(v1beta1.BFDProfileSpec{MinimumTTL: u(255)}), wantErr: "spec.minimumTtl"},
	})
}

func TestOtherKindsAccepted(t *testing.T) {
	runCreate(t, []createCase{
		{name: "community", obj: &v1beta1.Community{ObjectMeta: meta(), Spec: v1beta1.CommunitySpec{
			Communities: []v1beta1.CommunityAlias{{Name: "no-export", Value: "65535:65281"}},
		}}},
		{name: "service L2 status", obj: &v1beta1.ServiceL2Status{ObjectMeta: meta()}},
		{name: "service BGP status", obj: &v1beta1.ServiceBGPStatus{ObjectMeta: meta()}},
		{name: "configuration state", obj: &v1beta1.ConfigurationState{ObjectMeta: meta()}},
	})
}

func TestV1beta1BGPPeerSchema(t *testing.T) {
	runCreate(t, []createCase{
		{name: "valid v1beta1 peer", obj: oldPeer(func(s *v1beta1.BGPPeerSpec) {
			s.Port, s.HoldTime.Duration = 1179, 90*time.Second
			s.NodeSelectors = []v1beta1.NodeSelector{{MatchExpressions: []v1beta1.MatchExpression{
				{Key: "zone", Operator: "In", Values: []string{"z1"}},
			}}}
		})},
		{name: "peerPort 16385", obj: oldPeer(func(s *v1beta1.BGPPeerSpec) { s.Port = 16385 }), wantErr: "spec.peerPort"},
		{
			name:    "peerAddress missing",
			obj:     raw("v1beta1", "BGPPeer", map[string]any{"myASN": int64(1), "peerASN": int64(2)}),
			wantErr: "spec.peerAddress: Required value",
		},
		{
			name: "match expression without values",
			obj: oldPeer(func(s *v1beta1.BGPPeerSpec) {
				s.NodeSelectors = []v1beta1.NodeSelector{{MatchExpressions: []v1beta1.MatchExpression{
					{Key: "zone", Operator: "In", Values: []string{}},
				}}}
			}),
			wantErr: "spec.nodeSelectors[0].matchExpressions[0].values",
		},
	})
}

// The deprecated version is served, with the warning clients print.
func TestV1beta1BGPPeerWarning(t *testing.T) {
	ctx, e := setup(t)
	if err := e.c.Create(ctx, oldPeer(nil)); err != nil {
		t.Fatal(err)
	}
	if !e.warnings.contains("v1beta1 is deprecated, please use v1beta2") {
		t.Errorf("no deprecation warning; got %q", e.warnings.msgs)
	}
}

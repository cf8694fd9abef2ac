package snapshot

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/core/model"
)

func ptr[T any](v T) *T { return &v }

func om(name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "metallb-system", Labels: labels}
}

var (
	zoneSel = metav1.LabelSelector{
		MatchLabels: map[string]string{"zone": "z1"},
		MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"edge"}}},
	}
	zoneWant = model.Selector{
		MatchLabels:      map[string]string{"zone": "z1"},
		MatchExpressions: []model.Requirement{{Key: "tier", Operator: model.OpNotIn, Values: []string{"edge"}}},
	}
	rackSel = metav1.LabelSelector{
		MatchLabels: map[string]string{"row": "3"},
		MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "rack", Operator: metav1.LabelSelectorOpIn, Values: []string{"r1"}}},
	}
	rackWant = model.Selector{
		MatchLabels:      map[string]string{"row": "3"},
		MatchExpressions: []model.Requirement{{Key: "rack", Operator: model.OpIn, Values: []string{"r1"}}},
	}
	lbl = map[string]string{"team": "net"}
)

// fullObjects sets every field of every kind.
func fullObjects() Objects {
	return Objects{
		Pools: []v1beta1.IPAddressPool{{
			ObjectMeta: om("pool", lbl),
			Spec: v1beta1.IPAddressPoolSpec{
				Addresses:     []string{"203.0.113.0/24", "2001:db8::1-2001:db8::9"},
				AutoAssign:    ptr(false),
				AvoidBuggyIPs: true,
				ServiceAllocation: &v1beta1.ServiceAllocation{
					Priority: 2, Namespaces: []string{"web"},
					NamespaceSelectors: []metav1.LabelSelector{zoneSel},
					ServiceSelectors:   []metav1.LabelSelector{rackSel},
				},
			},
		}},
		L2Advertisements: []v1beta1.L2Advertisement{{
			ObjectMeta: om("l2", lbl),
			Spec: v1beta1.L2AdvertisementSpec{
				IPAddressPools:         []string{"pool"},
				IPAddressPoolSelectors: []metav1.LabelSelector{zoneSel},
				NodeSelectors:          []metav1.LabelSelector{rackSel},
				Interfaces:             []string{"eth0"},
				ServiceSelectors:       []metav1.LabelSelector{zoneSel},
				PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{{Weight: 50, Preference: rackSel}},
			},
		}},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{{
			ObjectMeta: om("bgp", lbl),
			Spec: v1beta1.BGPAdvertisementSpec{
				AggregationLength: ptr[int32](24), AggregationLengthV6: ptr[int32](64),
				LocalPref: 150, Communities: []string{"65000:1"},
				IPAddressPools:         []string{"pool"},
				IPAddressPoolSelectors: []metav1.LabelSelector{zoneSel},
				NodeSelectors:          []metav1.LabelSelector{rackSel},
				Peers:                  []string{"peer"},
				ServiceSelectors:       []metav1.LabelSelector{zoneSel},
			},
		}},
		BGPPeers: []v1beta2.BGPPeer{{
			ObjectMeta: om("peer", lbl),
			Spec: v1beta2.BGPPeerSpec{
				MyASN: 64500, ASN: 64501, LocalASN: 64502, DynamicASN: v1beta2.ExternalASNMode,
				Address: "198.51.100.1", Interface: "eth1", SrcAddress: "198.51.100.2", Port: 1179,
				HoldTime:      &metav1.Duration{Duration: 90 * time.Second},
				KeepaliveTime: &metav1.Duration{Duration: 30 * time.Second},
				ConnectTime:   &metav1.Duration{Duration: 5 * time.Second},
				RouterID:      "192.0.2.1", NodeSelectors: []metav1.LabelSelector{rackSel},
				Password: "pw", PasswordSecret: corev1.SecretReference{Name: "bgp-secret", Namespace: "ignored"},
				BFDProfile: "fast", EnableGracefulRestart: true, EBGPMultiHop: true,
				VRFName: "red", DisableMP: true, DualStackAddressFamily: true,
			},
		}},
		BFDProfiles: []v1beta1.BFDProfile{{
			ObjectMeta: om("fast", lbl),
			Spec: v1beta1.BFDProfileSpec{
				ReceiveInterval: ptr[uint32](100), TransmitInterval: ptr[uint32](200),
				DetectMultiplier: ptr[uint32](5), EchoInterval: ptr[uint32](60),
				EchoMode: ptr(true), PassiveMode: ptr(true), MinimumTTL: ptr[uint32](250),
			},
		}},
		Communities: []v1beta1.Community{{
			ObjectMeta: om("communities", lbl),
			Spec: v1beta1.CommunitySpec{Communities: []v1beta1.CommunityAlias{
				{Name: "no-export", Value: "65535:65281"},
			}},
		}},
		Secrets: []corev1.Secret{{
			ObjectMeta: om("bgp-secret", lbl),
			Type:       corev1.SecretTypeBasicAuth,
			Data:       map[string][]byte{"password": []byte("pw")},
		}},
		Namespaces: []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: lbl}}},
		Nodes:      []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: lbl}}},
	}
}

func fullWant() config.Snapshot {
	hold, ka, conn := 90*time.Second, 30*time.Second, 5*time.Second
	return config.Snapshot{
		Pools: []config.PoolSpec{{
			Meta:          config.Meta{Name: "pool", Labels: lbl},
			Addresses:     []string{"203.0.113.0/24", "2001:db8::1-2001:db8::9"},
			AutoAssign:    ptr(false),
			AvoidBuggyIPs: true,
			Allocation: &config.ServiceAllocationSpec{
				Priority: 2, Namespaces: []string{"web"},
				NamespaceSelectors: []model.Selector{zoneWant},
				ServiceSelectors:   []model.Selector{rackWant},
			},
		}},
		L2Advertisements: []config.L2AdvertisementSpec{{
			Meta:                   config.Meta{Name: "l2", Labels: lbl},
			IPAddressPools:         []string{"pool"},
			IPAddressPoolSelectors: []model.Selector{zoneWant},
			NodeSelectors:          []model.Selector{rackWant},
			Interfaces:             []string{"eth0"},
			ServiceSelectors:       []model.Selector{zoneWant},
			PreferredNodeSelectors: []config.PreferredNodeSelector{{Weight: 50, Preference: rackWant}},
		}},
		BGPAdvertisements: []config.BGPAdvertisementSpec{{
			Meta:              config.Meta{Name: "bgp", Labels: lbl},
			AggregationLength: ptr[int32](24), AggregationLengthV6: ptr[int32](64),
			LocalPref: 150, Communities: []string{"65000:1"},
			IPAddressPools:         []string{"pool"},
			IPAddressPoolSelectors: []model.Selector{zoneWant},
			NodeSelectors:          []model.Selector{rackWant},
			Peers:                  []string{"peer"},
			ServiceSelectors:       []model.Selector{zoneWant},
		}},
		BGPPeers: []config.BGPPeerSpec{{
			Meta:  config.Meta{Name: "peer", Labels: lbl},
			MyASN: 64500, PeerASN: 64501, LocalASN: 64502, DynamicASN: "external",
			PeerAddress: "198.51.100.1", Interface: "eth1", SourceAddress: "198.51.100.2", PeerPort: 1179,
			HoldTime: &hold, KeepaliveTime: &ka, ConnectTime: &conn,
			RouterID: "192.0.2.1", NodeSelectors: []model.Selector{rackWant},
			Password: "pw", PasswordSecret: "bgp-secret", BFDProfile: "fast",
			EnableGracefulRestart: true, EBGPMultiHop: true, VRF: "red",
			DisableMP: true, DualStackAddressFamily: true,
		}},
		BFDProfiles: []config.BFDProfileSpec{{
			Meta:            config.Meta{Name: "fast", Labels: lbl},
			ReceiveInterval: ptr[uint32](100), TransmitInterval: ptr[uint32](200),
			DetectMultiplier: ptr[uint32](5), EchoInterval: ptr[uint32](60),
			EchoMode: ptr(true), PassiveMode: ptr(true), MinimumTTL: ptr[uint32](250),
		}},
		Communities: []config.CommunitySpec{{
			Meta:        config.Meta{Name: "communities", Labels: lbl},
			Communities: []config.CommunityAlias{{Name: "no-export", Value: "65535:65281"}},
		}},
		Secrets: []config.SecretSpec{{
			Name: "bgp-secret", Type: "kubernetes.io/basic-auth",
			Data: map[string][]byte{"password": []byte("pw")},
		}},
		Namespaces: []config.Namespace{{Name: "web", Labels: lbl}},
		Nodes:      []config.Node{{Name: "node-1", Labels: lbl}},
	}
}

func TestBuildEveryField(t *testing.T) {
	got := Build(fullObjects())
	if diff := cmp.Diff(fullWant(), got); diff != "" {
		t.Errorf("Build (-want +got):\n%s", diff)
	}
	// Guard against a field added to config but forgotten here: with every
	// input field set, no output field may be left at its zero value.
	assertNoZeroFields(t, reflect.ValueOf(got), "Snapshot")
}

func assertNoZeroFields(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			t.Errorf("%s is nil", path)
			return
		}
		if v.Elem().Kind() == reflect.Struct { // a set *bool may well be false
			assertNoZeroFields(t, v.Elem(), path)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			assertNoZeroFields(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("%s is empty", path)
		}
		for i := range v.Len() {
			assertNoZeroFields(t, v.Index(i), path)
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is zero", path)
		}
	}
}

func TestBuildEmpty(t *testing.T) {
	if diff := cmp.Diff(config.Snapshot{}, Build(Objects{})); diff != "" {
		t.Errorf("Build of nothing (-want +got):\n%s", diff)
	}
}

func TestBuildDefaultsStayUnset(t *testing.T) {
	// Fields the API server would default are passed on as unset; the
	// compiler applies the defaults.
	got := Build(Objects{
		Pools:             []v1beta1.IPAddressPool{{ObjectMeta: om("p", nil)}},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{{ObjectMeta: om("a", nil)}},
		BGPPeers:          []v1beta2.BGPPeer{{ObjectMeta: om("peer", nil)}},
	})
	want := config.Snapshot{
		Pools:             []config.PoolSpec{{Meta: config.Meta{Name: "p"}}},
		BGPAdvertisements: []config.BGPAdvertisementSpec{{Meta: config.Meta{Name: "a"}}},
		BGPPeers:          []config.BGPPeerSpec{{Meta: config.Meta{Name: "peer"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Build (-want +got):\n%s", diff)
	}
}

func TestBuildSortsByName(t *testing.T) {
	pools := []v1beta1.IPAddressPool{{ObjectMeta: om("c", nil)}, {ObjectMeta: om("a", nil)}, {ObjectMeta: om("b", nil)}}
	peers := []v1beta2.BGPPeer{{ObjectMeta: om("z", nil)}, {ObjectMeta: om("m", nil)}}
	nodes := []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, {ObjectMeta: metav1.ObjectMeta{Name: "n1"}}}
	got := Build(Objects{Pools: pools, BGPPeers: peers, Nodes: nodes})

	var names []string
	for _, p := range got.Pools {
		names = append(names, p.Name)
	}
	for _, p := range got.BGPPeers {
		names = append(names, p.Name)
	}
	for _, n := range got.Nodes {
		names = append(names, n.Name)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "m", "z", "n1", "n2"}, names); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if pools[0].Name != "c" || peers[0].Name != "z" || nodes[0].Name != "n2" {
		t.Error("Build reordered its input")
	}
}

func TestBuildDoesNotAlias(t *testing.T) {
	in := fullObjects()
	got := Build(in)
	got.Pools[0].Labels["team"] = "x"
	got.Pools[0].Addresses[0] = "x"
	*got.Pools[0].AutoAssign = true
	got.Pools[0].Allocation.Namespaces[0] = "x"
	got.BGPPeers[0].NodeSelectors[0].MatchExpressions[0].Values[0] = "x"
	*got.BGPPeers[0].HoldTime = time.Hour
	*got.BFDProfiles[0].ReceiveInterval = 1
	got.Secrets[0].Data["password"][0] = 'x'
	got.Nodes[0].Labels["team"] = "x"
	if diff := cmp.Diff(fullObjects(), in); diff != "" {
		t.Errorf("changing the snapshot changed the objects (-want +got):\n%s", diff)
	}
}

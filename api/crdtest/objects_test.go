package crdtest

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func ptr[T any](v T) *T { return &v }

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// meta names objects by the server (generateName), so cases never clash.
func meta() metav1.ObjectMeta { return metav1.ObjectMeta{GenerateName: "t-", Namespace: ns} }

func pool(s v1beta1.IPAddressPoolSpec) *v1beta1.IPAddressPool {
	return &v1beta1.IPAddressPool{ObjectMeta: meta(), Spec: s}
}

func l2(s v1beta1.L2AdvertisementSpec) *v1beta1.L2Advertisement {
	return &v1beta1.L2Advertisement{ObjectMeta: meta(), Spec: s}
}

func bgpAdv(s v1beta1.BGPAdvertisementSpec) *v1beta1.BGPAdvertisement {
	return &v1beta1.BGPAdvertisement{ObjectMeta: meta(), Spec: s}
}

func bfd(s v1beta1.BFDProfileSpec) *v1beta1.BFDProfile {
	return &v1beta1.BFDProfile{ObjectMeta: meta(), Spec: s}
}

// peer returns a valid v1beta2 BGPPeer changed by edit.
func peer(edit func(*v1beta2.BGPPeerSpec)) *v1beta2.BGPPeer {
	p := &v1beta2.BGPPeer{ObjectMeta: meta(), Spec: v1beta2.BGPPeerSpec{
		MyASN: 64500, ASN: 64501, Address: "198.51.100.1",
	}}
	if edit != nil {
		edit(&p.Spec)
	}
	return p
}

// oldPeer returns a valid v1beta1 BGPPeer changed by edit.
func oldPeer(edit func(*v1beta1.BGPPeerSpec)) *v1beta1.BGPPeer {
	p := &v1beta1.BGPPeer{ObjectMeta: meta(), Spec: v1beta1.BGPPeerSpec{
		MyASN: 64500, ASN: 64501, Address: "198.51.100.1",
	}}
	if edit != nil {
		edit(&p.Spec)
	}
	return p
}

// raw builds an object from plain JSON-like values, for what a typed
// client cannot send (explicit zeros, missing required fields, values out
// of the Go type's range).
func raw(version, kind string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/" + version,
		"kind":       kind,
		"metadata":   map[string]any{"generateName": "t-", "namespace": ns},
	}}
	if spec != nil {
		u.Object["spec"] = spec
	}
	return u
}

// rawPeer is a valid v1beta2 BGPPeer in plain form, with extra fields set.
func rawPeer(extra map[string]any) *unstructured.Unstructured {
	spec := map[string]any{"myASN": int64(64500), "peerASN": int64(64501), "peerAddress": "198.51.100.1"}
	for k, v := range extra {
		spec[k] = v
	}
	return raw("v1beta2", "BGPPeer", spec)
}

var (
	sel     = metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	secretR = corev1.SecretReference{Name: "bgp-password"}
)

package webhook_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

func TestPools(t *testing.T) {
	e := newEnv(t, envOptions{before: func(ctx context.Context, c client.Client, ns string) {
		// Two pools that overlap, created while no webhook ran.
		for _, p := range []*v1beta1.IPAddressPool{pool(ns, "bad1", "192.0.2.0/25"), pool(ns, "bad2", "192.0.2.64/26")} {
			if err := c.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}})

	t.Run("valid pool allowed despite unrelated broken pools", func(t *testing.T) {
		allowed(t, e.c.Create(ctx(t), pool(e.ns, "good", "198.51.100.0/28", "198.51.100.100-198.51.100.110")))
	})
	t.Run("overlapping pool denied", func(t *testing.T) {
		err := e.c.Create(ctx(t), pool(e.ns, "overlap", "198.51.100.8/29"))
		denied(t, err, `ipaddresspoolvalidationwebhook.metallb.io`, `IPAddressPool "overlap": spec.addresses[0]:`,
			`CIDR "198.51.100.8/29" overlaps with CIDR "198.51.100.0/28" of IPAddressPool "good"`)
	})
	t.Run("invalid address denied", func(t *testing.T) {
		err := e.c.Create(ctx(t), pool(e.ns, "junk", "198.51.100.64/28", "not-an-ip"))
		denied(t, err, `IPAddressPool "junk": spec.addresses[1]:`, "not-an-ip")
	})
	t.Run("create outside the namespace denied", func(t *testing.T) {
		err := e.c.Create(ctx(t), pool("default", "elsewhere", "203.0.113.0/28"))
		denied(t, err, fmt.Sprintf("resource must be created in %s namespace", e.ns))
	})
	t.Run("update keeping a pre-existing error allowed", func(t *testing.T) {
		p := &v1beta1.IPAddressPool{}
		if err := e.c.Get(ctx(t), client.ObjectKey{Namespace: e.ns, Name: "bad1"}, p); err != nil {
			t.Fatal(err)
		}
		p.Labels = map[string]string{"edited": "yes"}
		allowed(t, e.c.Update(ctx(t), p))
	})
	t.Run("update adding an error denied", func(t *testing.T) {
		p := &v1beta1.IPAddressPool{}
		if err := e.c.Get(ctx(t), client.ObjectKey{Namespace: e.ns, Name: "good"}, p); err != nil {
			t.Fatal(err)
		}
		p.Spec.Addresses = append(p.Spec.Addresses, "192.0.2.16/29")
		denied(t, e.c.Update(ctx(t), p), `IPAddressPool "good": spec.addresses[2]:`, `IPAddressPool "bad1"`)
	})
	t.Run("pool that breaks an advertisement allowed with a warning", func(t *testing.T) {
		ad := &v1beta1.BGPAdvertisement{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "agg"},
			Spec:       v1beta1.BGPAdvertisementSpec{AggregationLength: ptr.To[int32](24), IPAddressPools: []string{"small"}},
		}
		allowed(t, e.c.Create(ctx(t), ad))
		e.warn.take()
		allowed(t, e.c.Create(ctx(t), pool(e.ns, "small", "203.0.113.16/28")))
		w := e.warn.take()
		if !slices.ContainsFunc(w, func(s string) bool {
			return strings.Contains(s, `this change makes BGPAdvertisement "agg" invalid: spec.aggregationLength:`)
		}) {
			t.Errorf("warnings %q, want one about BGPAdvertisement agg", w)
		}
	})
	t.Run("deletes never blocked", func(t *testing.T) {
		allowed(t, e.c.Delete(ctx(t), pool(e.ns, "good")))
	})
}

func peer(ns, name, addr string) *v1beta2.BGPPeer {
	return &v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64513, Address: addr},
	}
}

func TestBGPPeersAndBFDProfiles(t *testing.T) {
	e := newEnv(t, envOptions{})
	bfd := func(name string) *v1beta1.BFDProfile {
		return &v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	}
	allowed(t, e.c.Create(ctx(t), bfd("used")))
	allowed(t, e.c.Create(ctx(t), bfd("unused")))
	denied(t, e.c.Create(ctx(t), &v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "elsewhere"}}),
		"bfdprofilevalidationwebhook.metallb.io", fmt.Sprintf("resource must be created in %s namespace", e.ns))

	p1 := peer(e.ns, "peer1", "198.51.100.1")
	p1.Spec.BFDProfile = "used"
	allowed(t, e.c.Create(ctx(t), p1))

	t.Run("references to objects that do not exist yet are accepted", func(t *testing.T) {
		p := peer(e.ns, "later-bfd", "198.51.100.2")
		p.Spec.BFDProfile = "not-yet"
		allowed(t, e.c.Create(ctx(t), p))
		p = peer(e.ns, "later-secret", "198.51.100.3")
		p.Spec.PasswordSecret = corev1.SecretReference{Name: "not-yet", Namespace: e.ns}
		allowed(t, e.c.Create(ctx(t), p))
	})
	t.Run("invalid peers denied", func(t *testing.T) {
		p := peer(e.ns, "short-hold", "198.51.100.4")
		p.Spec.HoldTime = &metav1.Duration{Duration: time.Second}
		denied(t, e.c.Create(ctx(t), p), "bgppeersvalidationwebhook.metallb.io", `BGPPeer "short-hold": spec.holdTime:`)

		p = peer(e.ns, "slow-keepalive", "198.51.100.5")
		p.Spec.HoldTime = &metav1.Duration{Duration: 9 * time.Second}
		p.Spec.KeepaliveTime = &metav1.Duration{Duration: 10 * time.Second}
		denied(t, e.c.Create(ctx(t), p), `BGPPeer "slow-keepalive": spec.keepaliveTime:`, "must not exceed the hold time")

		p = peer(e.ns, "same-session", "198.51.100.1")
		denied(t, e.c.Create(ctx(t), p), `BGPPeer "same-session"`, `BGPPeer "peer1"`)
	})
	t.Run("disableMP warns", func(t *testing.T) {
		p := peer(e.ns, "mp", "198.51.100.6")
		p.Spec.DisableMP = true
		e.warn.take()
		allowed(t, e.c.Create(ctx(t), p))
		if w := e.warn.take(); !slices.Contains(w, "disable mp is deprecated and has no effect since it's the default behavior now") {
			t.Errorf("warnings %q, want the disableMP one", w)
		}
	})
	t.Run("BFDProfile in use cannot be deleted", func(t *testing.T) {
		denied(t, e.c.Delete(ctx(t), bfd("used")), "failed to delete BFDProfile used, used by BGPPeer peer1")
		allowed(t, e.c.Delete(ctx(t), bfd("unused")))
		// Once the peer stops using it, it can go.
		allowed(t, e.c.Delete(ctx(t), peer(e.ns, "peer1", "")))
		allowed(t, e.c.Delete(ctx(t), bfd("used")))
	})
}

func TestAdvertisementsAndCommunities(t *testing.T) {
	e := newEnv(t, envOptions{})
	comm := func(name string, aliases ...string) *v1beta1.Community {
		c := &v1beta1.Community{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
		for i := 0; i+1 < len(aliases); i += 2 {
			c.Spec.Communities = append(c.Spec.Communities, v1beta1.CommunityAlias{Name: aliases[i], Value: aliases[i+1]})
		}
		return c
	}
	bgpAd := func(name string, communities ...string) *v1beta1.BGPAdvertisement {
		return &v1beta1.BGPAdvertisement{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name},
			Spec:       v1beta1.BGPAdvertisementSpec{Communities: communities},
		}
	}
	allowed(t, e.c.Create(ctx(t), comm("c1", "gold", "65000:100")))
	denied(t, e.c.Create(ctx(t), comm("c2", "gold", "65000:200")), "communityvalidationwebhook.metallb.io", `Community "c2"`, "gold")
	denied(t, e.c.Create(ctx(t), comm("c3", "silver", "65000:99999")), `Community "c3": spec.communities[0].value:`)

	allowed(t, e.c.Create(ctx(t), bgpAd("alias-missing", "no-such-alias", "65000:1")))
	denied(t, e.c.Create(ctx(t), bgpAd("bad-community", "65536:1")),
		"bgpadvertisementvalidationwebhook.metallb.io", `BGPAdvertisement "bad-community": spec.communities[0]:`)

	l2 := &v1beta1.L2Advertisement{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "dup"},
		Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"a", "a"}},
	}
	denied(t, e.c.Create(ctx(t), l2), "l2advertisementvalidationwebhook.metallb.io", `L2Advertisement "dup": spec.ipAddressPools`)
	l2.Spec.IPAddressPools = []string{"a"}
	allowed(t, e.c.Create(ctx(t), l2))
}

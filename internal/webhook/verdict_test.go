package webhook

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrolb/ferrolb/internal/core/config"
)

func TestVerdict(t *testing.T) {
	overlapNew := config.Error{Kind: config.KindPool, Name: "new", Field: "spec.addresses[0]", Message: "overlaps with p1"}
	overlapOld := config.Error{Kind: config.KindPool, Name: "p1", Field: "spec.addresses[0]", Message: "overlaps with new"}
	brokenA := config.Error{Kind: config.KindPool, Name: "a", Field: "spec.addresses[0]", Message: "overlaps with b"}
	brokenB := config.Error{Kind: config.KindPool, Name: "b", Field: "spec.addresses[0]", Message: "overlaps with a"}
	adBroken := config.Error{Kind: config.KindBGPAdvertisement, Name: "ad", Field: "spec.aggregationLength", Message: "too short"}
	transient := config.Error{Kind: config.KindBGPPeer, Name: "new", Field: "spec.bfdProfile", Message: "not found", Transient: true}

	tests := []struct {
		name           string
		kind           config.Kind
		obj            string
		before, after  config.Errors
		wantDeny, warn config.Errors
	}{
		{name: "valid", kind: config.KindPool, obj: "new"},
		{
			name: "conflict reported on both: deny on the incoming object only",
			kind: config.KindPool, obj: "new",
			after:    config.Errors{overlapNew, overlapOld},
			wantDeny: config.Errors{overlapNew},
			// The partner's error is the mirror of the denied one; it is
			// still reported (as a warning) since the change introduced it.
			warn: config.Errors{overlapOld},
		},
		{
			name: "already broken unrelated objects do not block",
			kind: config.KindPool, obj: "new",
			before: config.Errors{brokenA, brokenB},
			after:  config.Errors{brokenA, brokenB},
		},
		{
			name: "an error the object already had is not the change's fault",
			kind: config.KindPool, obj: "a",
			before: config.Errors{brokenA, brokenB},
			after:  config.Errors{brokenA, brokenB},
		},
		{
			name: "a new error on an object that had another one",
			kind: config.KindPool, obj: "a",
			before:   config.Errors{brokenA, brokenB},
			after:    config.Errors{brokenA, {Kind: config.KindPool, Name: "a", Field: "spec.addresses[1]", Message: "bad"}, brokenB},
			wantDeny: config.Errors{{Kind: config.KindPool, Name: "a", Field: "spec.addresses[1]", Message: "bad"}},
		},
		{
			name: "errors caused on other objects are warnings",
			kind: config.KindPool, obj: "new",
			after: config.Errors{adBroken},
			warn:  config.Errors{adBroken},
		},
		{
			name: "transient errors never deny",
			kind: config.KindBGPPeer, obj: "new",
			after: config.Errors{transient},
		},
		{
			name: "same name, other kind is another object",
			kind: config.KindBGPPeer, obj: "new",
			after: config.Errors{overlapNew},
			warn:  config.Errors{overlapNew},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deny, warn := verdict(tt.kind, tt.obj, tt.before, tt.after)
			if diff := cmp.Diff(tt.wantDeny, deny); diff != "" {
				t.Errorf("deny (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warn, warn); diff != "" {
				t.Errorf("warn (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBlankTransient(t *testing.T) {
	s := config.Snapshot{
		BGPPeers: []config.BGPPeerSpec{
			{Meta: config.Meta{Name: "p1"}, BFDProfile: "fast", PasswordSecret: "sec"},
			{Meta: config.Meta{Name: "p2"}, Password: "pw", PasswordSecret: "sec"},
		},
		BGPAdvertisements: []config.BGPAdvertisementSpec{
			{Meta: config.Meta{Name: "a"}, Communities: []string{"65000:1", "alias", "large:1:2:3"}},
		},
	}
	orig := s.BGPAdvertisements[0].Communities
	blankTransient(&s)
	want := config.Snapshot{
		BGPPeers: []config.BGPPeerSpec{
			{Meta: config.Meta{Name: "p1"}},
			// password + passwordSecret stays, to be reported as exclusive.
			{Meta: config.Meta{Name: "p2"}, Password: "pw", PasswordSecret: "sec"},
		},
		BGPAdvertisements: []config.BGPAdvertisementSpec{
			{Meta: config.Meta{Name: "a"}, Communities: []string{"65000:1", "large:1:2:3"}},
		},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(orig) != 3 || orig[1] != "alias" {
		t.Errorf("the input's community slice was modified: %v", orig)
	}
}

func TestMessages(t *testing.T) {
	errs := config.Errors{
		{Kind: config.KindPool, Name: "p", Field: "spec.addresses[0]", Message: "invalid CIDR"},
		{Kind: config.KindPool, Name: "p", Message: "whole object"},
	}
	if got, want := denyMessage(errs), `IPAddressPool "p": spec.addresses[0]: invalid CIDR; IPAddressPool "p": whole object`; got != want {
		t.Errorf("denyMessage = %q, want %q", got, want)
	}
	var many config.Errors
	for range 15 {
		many = append(many, errs[0])
	}
	w := warnings(many)
	if len(w) != maxWarnings+1 || !strings.Contains(w[maxWarnings], "5 more") {
		t.Errorf("warnings: %d lines, last %q; want %d lines ending with a count of the rest", len(w), w[len(w)-1], maxWarnings+1)
	}
	if !strings.HasPrefix(w[0], `this change makes IPAddressPool "p" invalid: spec.addresses[0]: `) {
		t.Errorf("warning %q", w[0])
	}
}

func TestConfiguration(t *testing.T) {
	vwc := Configuration(ConfigurationName, "Ignore", ServiceClientConfig("metallb-system", ServiceName))
	if len(vwc.Webhooks) != 6 {
		t.Fatalf("%d webhooks, want 6", len(vwc.Webhooks))
	}
	paths := map[string]bool{}
	for i, w := range vwc.Webhooks {
		h := Hooks[i]
		if w.Name != h.Name || *w.ClientConfig.Service.Path != h.Path || w.ClientConfig.Service.Name != ServiceName {
			t.Errorf("webhook %d: %s at %s (service %s), want %s at %s", i, w.Name, *w.ClientConfig.Service.Path, w.ClientConfig.Service.Name, h.Name, h.Path)
		}
		if *w.FailurePolicy != "Ignore" || *w.SideEffects != "None" {
			t.Errorf("%s: failurePolicy %s sideEffects %s", w.Name, *w.FailurePolicy, *w.SideEffects)
		}
		wantOps := "CREATE,UPDATE"
		if h.Kind == "BFDProfile" {
			wantOps = "CREATE,DELETE"
		}
		var ops []string
		for _, o := range w.Rules[0].Operations {
			ops = append(ops, string(o))
		}
		if got := strings.Join(ops, ","); got != wantOps {
			t.Errorf("%s: operations %s, want %s", w.Name, got, wantOps)
		}
		paths[h.Path] = true
	}
	for _, p := range []string{PathIPAddressPool, PathBGPPeer, PathBGPAdvertisement, PathL2Advertisement, PathCommunity, PathBFDProfile} {
		if !paths[p] {
			t.Errorf("no webhook at %s", p)
		}
	}
}

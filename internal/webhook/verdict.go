package webhook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/config"
)

// maxWarnings bounds the warnings of one response (the API server shows
// them all to the user).
const maxWarnings = 10

// blankTransient removes the references admission must not judge because
// the referenced object may simply not exist yet: a BGPPeer's bfdProfile
// and passwordSecret, and a BGPAdvertisement's community aliases (entries
// without ':'). The controller reports such references later, in
// ConfigurationState. A passwordSecret set together with password is kept,
// so the two are still reported as mutually exclusive.
func blankTransient(s *config.Snapshot) {
	for i := range s.BGPPeers {
		p := &s.BGPPeers[i]
		p.BFDProfile = ""
		if p.Password == "" {
			p.PasswordSecret = ""
		}
	}
	for i := range s.BGPAdvertisements {
		a := &s.BGPAdvertisements[i]
		a.Communities = slices.DeleteFunc(slices.Clone(a.Communities), func(c string) bool { return !strings.Contains(c, ":") })
	}
}

// verdict compares the errors of the configuration before and after a
// change to object (kind, name). deny holds the errors of that object the
// change introduces: present after, not before (an error the object
// already had is not the change's fault), and not transient. warn holds
// the errors the change introduces on other objects (an existing
// advertisement that a new pool makes invalid, say): the change is allowed
// but the user is told. Errors of unrelated objects that were already
// broken are ignored.
func verdict(kind config.Kind, name string, before, after config.Errors) (deny, warn config.Errors) {
	had := make(map[config.Error]bool, len(before))
	for _, e := range before {
		had[e] = true
	}
	for _, e := range after {
		if e.Transient || had[e] {
			continue
		}
		if e.Kind == kind && e.Name == name {
			deny = append(deny, e)
		} else {
			warn = append(warn, e)
		}
	}
	return deny, warn
}

// denyMessage renders the errors of the rejected object, one per clause.
func denyMessage(errs config.Errors) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// warnings renders the errors the change causes on other objects.
func warnings(errs config.Errors) []string {
	var out []string
	for i, e := range errs {
		if i == maxWarnings {
			out = append(out, fmt.Sprintf("... and %d more errors on other objects", len(errs)-maxWarnings))
			break
		}
		field := ""
		if e.Field != "" {
			field = e.Field + ": "
		}
		out = append(out, fmt.Sprintf("this change makes %s %q invalid: %s%s", e.Kind, e.Name, field, e.Message))
	}
	return out
}

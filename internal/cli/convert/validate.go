package convert

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/k8s/snapshot"
)

// validate compiles the generated objects as the controller and the
// speakers would and reports the compiler's errors against the legacy
// fields.
func (b *builder) validate() error {
	snap := snapshot.Build(snapshot.Objects{
		Pools:             b.pools,
		L2Advertisements:  b.l2Ads,
		BGPAdvertisements: b.bgpAds,
		BGPPeers:          b.peers,
		BFDProfiles:       b.bfds,
		Communities:       b.comm,
	})
	_, errs := config.Compile(snap)
	if len(errs) == 0 {
		return nil
	}
	p := &problems{}
	seen := map[string]bool{}
	for _, e := range errs {
		msg := b.describe(e)
		if !seen[msg] {
			seen[msg] = true
			p.list = append(p.list, msg)
		}
	}
	return p.err()
}

// describe renders a compiler error as "<legacy field> (<Kind> "<name>"):
// <message>".
func (b *builder) describe(e config.Error) string {
	o, ok := b.origin[objectKey{string(e.Kind), e.Name}]
	if !ok {
		return e.Error()
	}
	path := o.path
	if f := legacyField(e.Field, o.aliases); f != "" {
		if e.Kind == config.KindCommunity && strings.HasPrefix(f, "bgp-communities") {
			path = f
		} else {
			path = join(path, f)
		}
	}
	return fmt.Sprintf("%s (%s %q): %s", path, e.Kind, e.Name, e.Message)
}

// fieldNames maps the resources' JSON field names to the legacy keys.
var fieldNames = map[string]string{
	"myASN":               "my-asn",
	"peerASN":             "peer-asn",
	"peerAddress":         "peer-address",
	"sourceAddress":       "source-address",
	"peerPort":            "peer-port",
	"holdTime":            "hold-time",
	"keepaliveTime":       "keepalive-time",
	"routerID":            "router-id",
	"nodeSelectors":       "node-selectors",
	"matchLabels":         "match-labels",
	"matchExpressions":    "match-expressions",
	"bfdProfile":          "bfd-profile",
	"ebgpMultiHop":        "ebgp-multihop",
	"autoAssign":          "auto-assign",
	"avoidBuggyIPs":       "avoid-buggy-ips",
	"aggregationLength":   "aggregation-length",
	"aggregationLengthV6": "aggregation-length-v6",
	"localPref":           "localpref",
	"receiveInterval":     "receive-interval",
	"transmitInterval":    "transmit-interval",
	"detectMultiplier":    "detect-multiplier",
	"echoInterval":        "echo-interval",
	"echoMode":            "echo-mode",
	"passiveMode":         "passive-mode",
	"minimumTtl":          "minimum-ttl",
}

var communityItem = regexp.MustCompile(`^spec\.communities\[(\d+)\]`)

// legacyField translates a compiler field path ("spec.nodeSelectors[0].
// matchLabels") to the legacy one ("node-selectors[0].match-labels").
// Fields with no legacy counterpart (the generated ipAddressPools list,
// metadata) give "" so the error points at the object.
func legacyField(field string, aliases []string) string {
	if aliases != nil {
		if m := communityItem.FindStringSubmatch(field); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < len(aliases) {
				return join("bgp-communities", aliases[i])
			}
		}
	}
	rest, ok := strings.CutPrefix(field, "spec.")
	if !ok {
		if field == "metadata.name" {
			return "name"
		}
		return ""
	}
	if strings.HasPrefix(rest, "ipAddressPools") {
		return ""
	}
	segs := strings.Split(rest, ".")
	for i, s := range segs {
		name, idx, _ := strings.Cut(s, "[")
		if n, ok := fieldNames[name]; ok {
			name = n
		}
		if idx != "" {
			name += "[" + idx
		}
		segs[i] = name
	}
	return strings.Join(segs, ".")
}

package convert

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// legacyConfig is the pre-v0.13 configuration. Every part remembers its
// field path in the input, for error messages.
type legacyConfig struct {
	Peers       []legacyPeer
	Communities map[string]string
	Pools       []legacyPool
	BFDProfiles []legacyBFD
}

type legacyPeer struct {
	path          string
	MyASN         uint32
	PeerASN       uint32
	Address       string
	SourceAddress string
	Port          uint16
	HoldTime      *time.Duration
	KeepaliveTime *time.Duration
	RouterID      string
	NodeSelectors []metav1.LabelSelector
	Password      string
	BFDProfile    string
	EBGPMultiHop  bool
}

// Pool protocols of the legacy format.
const (
	protocolBGP    = "bgp"
	protocolLayer2 = "layer2"
)

type legacyPool struct {
	path          string
	Name          string
	Protocol      string
	Addresses     []string
	AutoAssign    *bool
	AvoidBuggyIPs bool
	Ads           []legacyAd
}

type legacyAd struct {
	path        string
	AggLength   *int32
	AggLengthV6 *int32
	LocalPref   *uint32
	Communities []string
}

type legacyBFD struct {
	path             string
	Name             string
	ReceiveInterval  *uint32
	TransmitInterval *uint32
	DetectMultiplier *uint32
	EchoInterval     *uint32
	EchoMode         *bool
	PassiveMode      *bool
	MinimumTTL       *uint32
}

// maxPeerPort is the largest peerPort the BGPPeer CRD accepts.
const maxPeerPort = 16384

// decodeLegacy reads the decoded YAML of a legacy configuration.
func decodeLegacy(doc any, p *problems) legacyConfig {
	var cfg legacyConfig
	root, ok := asObject(doc, "", p)
	if !ok {
		return cfg
	}
	for i, v := range root.list("peers") {
		if o, ok := asObject(v, index("peers", i), p); ok {
			cfg.Peers = append(cfg.Peers, decodePeer(o))
		}
	}
	cfg.Communities = root.strMap("bgp-communities")
	for i, v := range root.list("address-pools") {
		if o, ok := asObject(v, index("address-pools", i), p); ok {
			cfg.Pools = append(cfg.Pools, decodePool(o))
		}
	}
	for i, v := range root.list("bfd-profiles") {
		if o, ok := asObject(v, index("bfd-profiles", i), p); ok {
			cfg.BFDProfiles = append(cfg.BFDProfiles, decodeBFD(o))
		}
	}
	root.done()
	return cfg
}

func decodePeer(o *object) legacyPeer {
	pr := legacyPeer{path: o.path}
	pr.MyASN, _ = o.uint32("my-asn")
	pr.PeerASN, _ = o.uint32("peer-asn")
	pr.Address = o.str("peer-address")
	pr.SourceAddress = o.str("source-address")
	if port, ok := o.integer("peer-port", 0, maxPeerPort); ok {
		pr.Port = uint16(port)
	}
	pr.HoldTime = duration(o, "hold-time")
	pr.KeepaliveTime = duration(o, "keepalive-time")
	pr.RouterID = o.str("router-id")
	for i, v := range o.list("node-selectors") {
		if so, ok := asObject(v, index(o.field("node-selectors"), i), o.p); ok {
			pr.NodeSelectors = append(pr.NodeSelectors, decodeSelector(so))
		}
	}
	pr.Password = o.str("password")
	pr.BFDProfile = o.str("bfd-profile")
	if b := o.boolean("ebgp-multihop"); b != nil {
		pr.EBGPMultiHop = *b
	}
	o.done()
	return pr
}

// duration reads a Go duration ("90s", "1m30s"), rounded to whole seconds
// as BGP timers are.
func duration(o *object, key string) *time.Duration {
	s := o.str(key)
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		o.p.add(o.field(key), "invalid duration %q (write it like 90s or 1m30s)", s)
		return nil
	}
	d = d.Round(time.Second)
	return &d
}

func decodeSelector(o *object) metav1.LabelSelector {
	var s metav1.LabelSelector
	s.MatchLabels = o.strMap("match-labels")
	for i, v := range o.list("match-expressions") {
		eo, ok := asObject(v, index(o.field("match-expressions"), i), o.p)
		if !ok {
			continue
		}
		req := metav1.LabelSelectorRequirement{
			Key:      eo.requiredStr("key"),
			Operator: metav1.LabelSelectorOperator(eo.requiredStr("operator")),
			Values:   eo.strs("values"),
		}
		eo.done()
		s.MatchExpressions = append(s.MatchExpressions, req)
	}
	o.done()
	return s
}

func decodePool(o *object) legacyPool {
	pl := legacyPool{path: o.path}
	pl.Name = o.requiredStr("name")
	pl.Protocol = o.str("protocol")
	switch pl.Protocol {
	case protocolBGP, protocolLayer2:
	case "":
		o.p.add(o.field("protocol"), "required (bgp or layer2)")
	default:
		o.p.add(o.field("protocol"), "unknown protocol %q (want bgp or layer2)", pl.Protocol)
	}
	pl.Addresses = o.strs("addresses")
	pl.AutoAssign = o.boolean("auto-assign")
	if b := o.boolean("avoid-buggy-ips"); b != nil {
		pl.AvoidBuggyIPs = *b
	}
	ads := o.list("bgp-advertisements")
	if len(ads) > 0 && pl.Protocol == protocolLayer2 {
		o.p.add(o.field("bgp-advertisements"), "only allowed in a pool whose protocol is bgp")
	}
	for i, v := range ads {
		if ao, ok := asObject(v, index(o.field("bgp-advertisements"), i), o.p); ok {
			pl.Ads = append(pl.Ads, decodeAd(ao))
		}
	}
	o.done()
	return pl
}

func decodeAd(o *object) legacyAd {
	ad := legacyAd{path: o.path}
	ad.AggLength = o.int32Ptr("aggregation-length")
	ad.AggLengthV6 = o.int32Ptr("aggregation-length-v6")
	ad.LocalPref = o.uint32Ptr("localpref")
	ad.Communities = o.strs("communities")
	o.done()
	return ad
}

func decodeBFD(o *object) legacyBFD {
	b := legacyBFD{path: o.path}
	b.Name = o.requiredStr("name")
	b.ReceiveInterval = o.uint32Ptr("receive-interval")
	b.TransmitInterval = o.uint32Ptr("transmit-interval")
	b.DetectMultiplier = o.uint32Ptr("detect-multiplier")
	b.EchoInterval = o.uint32Ptr("echo-interval")
	b.EchoMode = o.boolean("echo-mode")
	b.PassiveMode = o.boolean("passive-mode")
	b.MinimumTTL = o.uint32Ptr("minimum-ttl")
	o.done()
	return b
}

package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// BGP peer defaults.
const (
	DefaultPeerPort = 179
	// DefaultHoldTime applies when neither holdTime nor keepaliveTime is
	// set (MetalLB's native speaker default); the keepalive is a third.
	DefaultHoldTime      = 90 * time.Second
	DefaultKeepaliveTime = DefaultHoldTime / 3
	// SecretTypeBasicAuth is the only Secret type passwordSecret accepts;
	// the password is under the key "password".
	SecretTypeBasicAuth = "kubernetes.io/basic-auth"
)

// BGPPeer is a validated BGPPeer with defaults applied and references
// resolved.
type BGPPeer struct {
	Name  string
	MyASN uint32
	// PeerASN is 0 when DynamicASN ("internal" or "external") is set.
	PeerASN    uint32
	DynamicASN string
	// LocalASN is 0 when unset.
	LocalASN uint32
	// Exactly one of Address and Interface (unnumbered BGP) is set.
	Address   netip.Addr
	Interface string
	Port      uint16
	// SourceAddress and RouterID are invalid (zero) when unset; a router
	// ID is always IPv4.
	SourceAddress netip.Addr
	RouterID      netip.Addr
	// HoldTime is whole seconds, 0 (no keepalives) or at least 3 s;
	// KeepaliveTime never exceeds it. See derivation in peerTimers.
	HoldTime      time.Duration
	KeepaliveTime time.Duration
	// ConnectTime is whole seconds; 0 means the backend's default.
	ConnectTime   time.Duration
	NodeSelectors []model.Selector
	// Password is the TCP MD5 password, from spec.password or resolved
	// from spec.passwordSecret; empty for none.
	Password string
	// BFDProfile is nil when the session runs without BFD.
	BFDProfile             *BFDProfile
	EnableGracefulRestart  bool
	EBGPMultiHop           bool
	VRF                    string
	DualStackAddressFamily bool
}

// SelectsNode reports whether a node with these labels opens this session.
func (p *BGPPeer) SelectsNode(labels map[string]string) bool {
	return matchesOrAll(p.NodeSelectors, labels)
}

// ID identifies the session on a node: the peer address, or the interface
// for unnumbered BGP.
func (p *BGPPeer) ID() string {
	if p.Interface != "" {
		return p.Interface
	}
	return p.Address.String()
}

func (c *compiler) bgpPeers(cfg *Config) []*BGPPeer {
	specs := byName(&c.errs, KindBGPPeer, c.s.BGPPeers, func(p BGPPeerSpec) string { return p.Name })
	secrets := map[string]SecretSpec{}
	for _, s := range c.s.Secrets {
		if _, dup := secrets[s.Name]; !dup {
			secrets[s.Name] = s
		}
	}
	peers := make([]*BGPPeer, 0, len(specs))
	for _, s := range specs {
		peers = append(peers, c.bgpPeer(cfg, s, secrets))
	}
	c.checkPeerConflicts(peers)
	c.checkBFDEcho(cfg, peers)
	var out []*BGPPeer
	for _, p := range peers {
		if !c.errs.faulty(KindBGPPeer, p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// bgpPeer checks the rules of one BGPPeer on its own and resolves its
// Secret and BFD profile.
func (c *compiler) bgpPeer(cfg *Config, s BGPPeerSpec, secrets map[string]SecretSpec) *BGPPeer {
	k, n := KindBGPPeer, s.Name
	p := &BGPPeer{
		Name:                   n,
		MyASN:                  s.MyASN,
		PeerASN:                s.PeerASN,
		DynamicASN:             s.DynamicASN,
		LocalASN:               s.LocalASN,
		Interface:              s.Interface,
		Port:                   s.PeerPort,
		NodeSelectors:          s.NodeSelectors,
		Password:               s.Password,
		EnableGracefulRestart:  s.EnableGracefulRestart,
		EBGPMultiHop:           s.EBGPMultiHop,
		VRF:                    s.VRF,
		DualStackAddressFamily: s.DualStackAddressFamily,
	}
	if p.Port == 0 {
		p.Port = DefaultPeerPort
	}

	// ASNs.
	if s.MyASN == 0 {
		c.errs.add(k, n, "spec.myASN", "missing local ASN (myASN)")
	}
	switch s.DynamicASN {
	case "", "internal", "external":
	default:
		c.errs.add(k, n, "spec.dynamicASN", "invalid dynamicASN %q: must be \"internal\" or \"external\"", s.DynamicASN)
	}
	switch {
	case s.PeerASN == 0 && s.DynamicASN == "":
		c.errs.add(k, n, "spec.peerASN", "missing peer ASN: set peerASN or dynamicASN")
	case s.PeerASN != 0 && s.DynamicASN != "":
		c.errs.add(k, n, "spec.dynamicASN", "peerASN and dynamicASN are mutually exclusive")
	}
	if s.LocalASN != 0 && s.LocalASN == s.MyASN {
		c.errs.add(k, n, "spec.localASN", "localASN %d must differ from myASN", s.LocalASN)
	}
	if s.EBGPMultiHop && ((s.PeerASN != 0 && s.PeerASN == s.MyASN) || s.DynamicASN == "internal") {
		c.errs.add(k, n, "spec.ebgpMultiHop", "ebgpMultiHop applies to eBGP sessions only, and this session is iBGP (peer ASN equals myASN)")
	}

	// Where to connect.
	switch {
	case s.PeerAddress == "" && s.Interface == "":
		c.errs.add(k, n, "spec.peerAddress", "missing peer address: set peerAddress or interface")
	case s.PeerAddress != "" && s.Interface != "":
		c.errs.add(k, n, "spec.interface", "peerAddress and interface are mutually exclusive")
	case s.PeerAddress != "":
		a, err := netip.ParseAddr(s.PeerAddress)
		if err != nil {
			c.errs.add(k, n, "spec.peerAddress", "invalid peer address %q", s.PeerAddress)
		}
		p.Address = a.Unmap()
	default:
		if err := checkNetdevName(s.Interface); err != nil {
			c.errs.add(k, n, "spec.interface", "%v", err)
		}
	}
	if s.SourceAddress != "" {
		a, err := netip.ParseAddr(s.SourceAddress)
		if err != nil || a.Zone() != "" {
			c.errs.add(k, n, "spec.sourceAddress", "invalid source address %q", s.SourceAddress)
		}
		p.SourceAddress = a.Unmap()
	}
	if s.RouterID != "" {
		a, err := netip.ParseAddr(s.RouterID)
		switch {
		case err != nil:
			c.errs.add(k, n, "spec.routerID", "invalid router ID %q: not an IP address", s.RouterID)
		case !a.Unmap().Is4():
			c.errs.add(k, n, "spec.routerID", "invalid router ID %q: a BGP router ID is a 32-bit value written as an IPv4 address", s.RouterID)
		}
		p.RouterID = a.Unmap()
	}
	if s.VRF != "" {
		if err := checkNetdevName(s.VRF); err != nil {
			c.errs.add(k, n, "spec.vrf", "invalid VRF: %v", err)
		}
	}

	c.peerTimers(p, s)
	checkSelectors(&c.errs, k, n, "spec.nodeSelectors", s.NodeSelectors, false)

	// Password.
	if s.Password != "" && s.PasswordSecret != "" {
		c.errs.add(k, n, "spec.password", "password and passwordSecret are mutually exclusive")
	} else if s.PasswordSecret != "" {
		sec, ok := secrets[s.PasswordSecret]
		switch {
		case !ok:
			c.errs.addTransient(k, n, "spec.passwordSecret", "Secret %q not found", s.PasswordSecret)
		case sec.Type != SecretTypeBasicAuth:
			c.errs.add(k, n, "spec.passwordSecret", "Secret %q has type %q, want %q", s.PasswordSecret, sec.Type, SecretTypeBasicAuth)
		default:
			pw, ok := sec.Data["password"]
			if !ok {
				c.errs.add(k, n, "spec.passwordSecret", "Secret %q has no \"password\" key", s.PasswordSecret)
			}
			p.Password = string(pw)
		}
	}

	if s.BFDProfile != "" {
		b, ok := cfg.BFDProfiles[s.BFDProfile]
		if !ok {
			c.errs.addTransient(k, n, "spec.bfdProfile", "BFDProfile %q not found (or invalid)", s.BFDProfile)
		}
		p.BFDProfile = b
	}
	return p
}

// peerTimers validates and derives the hold and keepalive times (COMPAT
// §9): only holdTime → keepalive = hold/3; only keepaliveTime → hold =
// 3×keepalive; neither → 90 s / 30 s. The hold time is rounded to whole
// seconds (it travels in seconds in the OPEN message) and must then be 0
// or at least 3 s; the keepalive must not exceed it.
func (c *compiler) peerTimers(p *BGPPeer, s BGPPeerSpec) {
	k, n := KindBGPPeer, s.Name
	hold, ka := s.HoldTime, s.KeepaliveTime
	if hold != nil && *hold < 0 {
		c.errs.add(k, n, "spec.holdTime", "hold time %s must not be negative", *hold)
		return
	}
	if ka != nil && *ka < 0 {
		c.errs.add(k, n, "spec.keepaliveTime", "keepalive time %s must not be negative", *ka)
		return
	}
	holdField := "spec.holdTime"
	switch {
	case hold == nil && ka == nil:
		p.HoldTime, p.KeepaliveTime = DefaultHoldTime, DefaultKeepaliveTime
	case ka == nil:
		p.HoldTime = hold.Round(time.Second)
		p.KeepaliveTime = p.HoldTime / 3
	case hold == nil:
		p.HoldTime = (3 * *ka).Round(time.Second)
		p.KeepaliveTime = *ka
		holdField = "spec.keepaliveTime"
	default:
		p.HoldTime = hold.Round(time.Second)
		p.KeepaliveTime = *ka
	}
	if p.HoldTime != 0 && p.HoldTime < 3*time.Second {
		switch {
		case holdField == "spec.holdTime" && *hold != p.HoldTime:
			c.errs.add(k, n, holdField, "hold time %s (rounded to %s) must be 0 or at least 3s", *hold, p.HoldTime)
		case holdField == "spec.holdTime":
			c.errs.add(k, n, holdField, "hold time %s must be 0 or at least 3s", *hold)
		default:
			c.errs.add(k, n, holdField, "keepalive time %s gives a hold time of %s, which must be 0 or at least 3s", *ka, p.HoldTime)
		}
	} else if p.KeepaliveTime > p.HoldTime {
		c.errs.add(k, n, "spec.keepaliveTime", "keepalive time %s must not exceed the hold time %s", p.KeepaliveTime, p.HoldTime)
	}
	if ct := s.ConnectTime; ct != nil {
		if *ct%time.Second != 0 || *ct < time.Second || *ct > 65535*time.Second {
			c.errs.add(k, n, "spec.connectTime", "connect time %s must be whole seconds between 1s and 65535s", *ct)
		}
		p.ConnectTime = *ct
	}
}

// checkNetdevName applies Linux's rules for interface (and VRF device)
// names: 1 to 15 bytes, not "." or "..", no '/', ':' or white space.
func checkNetdevName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty interface name")
	case len(s) > 15:
		return fmt.Errorf("interface name %q is longer than 15 bytes", s)
	case s == "." || s == "..":
		return fmt.Errorf("invalid interface name %q", s)
	case strings.ContainsAny(s, "/:") || strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return fmt.Errorf("interface name %q contains '/', ':' or white space", s)
	}
	return nil
}

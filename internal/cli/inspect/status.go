package inspect

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/cli/sessions"
)

// defaultPeerPort is the BGPPeer CRD's default peerPort.
const defaultPeerPort = 179

// StatusReport is what `kubectl metallb status` prints.
type StatusReport struct {
	Namespace string `json:"namespace"`
	// Components: the controller first, then the speakers by node.
	Components []Component     `json:"components"`
	Pools      []PoolUsage     `json:"pools"`
	Peers      []PeerConfig    `json:"peers"`
	Sessions   []NodeSessions  `json:"sessions"`
	Errors     []ConfigProblem `json:"configErrors,omitempty"`
}

// PoolUsage is one IPAddressPool and its status counts.
type PoolUsage struct {
	Name       string   `json:"name"`
	Addresses  []string `json:"addresses"`
	AutoAssign bool     `json:"autoAssign"`
	// StatusKnown is false while the controller has not written the
	// pool's status (all counts zero).
	StatusKnown   bool  `json:"statusKnown"`
	AssignedIPv4  int64 `json:"assignedIPv4"`
	AvailableIPv4 int64 `json:"availableIPv4"`
	AssignedIPv6  int64 `json:"assignedIPv6"`
	AvailableIPv6 int64 `json:"availableIPv6"`
	// AvailableIPv6Exact is the exact count in decimal when the
	// controller wrote it (it exceeds int64 for a /64).
	AvailableIPv6Exact string `json:"availableIPv6Exact,omitempty"`
}

// PeerConfig is one BGPPeer object.
type PeerConfig struct {
	Name string `json:"name"`
	// Address is "address:port", or the interface for unnumbered peers.
	Address    string `json:"address"`
	MyASN      uint32 `json:"myASN"`
	PeerASN    string `json:"peerASN"`
	BFDProfile string `json:"bfdProfile,omitempty"`
	// NodeSelectors is "all" or the number of selectors.
	Nodes string `json:"nodes"`
}

// NodeSessions is one speaker's BGP sessions.
type NodeSessions struct {
	Node string `json:"node"`
	// Reported is false when the speaker publishes no session summary.
	Reported bool `json:"reported"`
	// Reason of the bgpSessionsReady condition.
	Reason   string             `json:"reason,omitempty"`
	Sessions []sessions.Session `json:"sessions,omitempty"`
}

// ConfigProblem is one configuration error found by compiling the pools
// and advertisements from the API (what the controller would reject).
type ConfigProblem struct {
	Object  string `json:"object"`
	Message string `json:"message"`
}

// Status gathers the state of the whole installation.
func Status(ctx context.Context, c client.Reader, o Options) (*StatusReport, error) {
	ns := o.namespace()
	r := &StatusReport{Namespace: ns, Pools: []PoolUsage{}, Peers: []PeerConfig{}, Sessions: []NodeSessions{}}
	var err error
	if r.Components, err = components(ctx, c, ns); err != nil {
		return nil, err
	}
	comp, err := compileConfig(ctx, c, ns)
	if err != nil {
		return nil, err
	}
	for _, e := range comp.errs {
		r.Errors = append(r.Errors, ConfigProblem{Object: fmt.Sprintf("%s/%s", e.Kind, e.Name), Message: strings.TrimPrefix(e.Error(), fmt.Sprintf("%s %q: ", e.Kind, e.Name))})
	}
	for _, p := range comp.pools {
		st := p.Status
		r.Pools = append(r.Pools, PoolUsage{
			Name: p.Name, Addresses: p.Spec.Addresses,
			AutoAssign:    p.Spec.AutoAssign == nil || *p.Spec.AutoAssign,
			StatusKnown:   st.AssignedIPv4 != 0 || st.AvailableIPv4 != 0 || st.AssignedIPv6 != 0 || st.AvailableIPv6 != 0,
			AssignedIPv4:  st.AssignedIPv4,
			AvailableIPv4: st.AvailableIPv4,
			AssignedIPv6:  st.AssignedIPv6,
			AvailableIPv6: st.AvailableIPv6,

			AvailableIPv6Exact: st.AvailableIPv6Exact,
		})
	}
	slices.SortFunc(r.Pools, func(a, b PoolUsage) int { return strings.Compare(a.Name, b.Name) })

	var peers v1beta2.BGPPeerList
	if err := c.List(ctx, &peers, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing BGPPeers in %s: %w", ns, err)
	}
	for _, p := range peers.Items {
		s := p.Spec
		pc := PeerConfig{Name: p.Name, MyASN: s.MyASN, BFDProfile: s.BFDProfile, Nodes: "all"}
		switch {
		case s.Address != "":
			pc.Address = net.JoinHostPort(s.Address, strconv.Itoa(int(cmp.Or(s.Port, defaultPeerPort))))
		case s.Interface != "":
			pc.Address = "interface " + s.Interface
		}
		pc.PeerASN = strconv.FormatUint(uint64(s.ASN), 10)
		if s.DynamicASN != "" {
			pc.PeerASN = string(s.DynamicASN)
		}
		if n := len(s.NodeSelectors); n > 0 {
			pc.Nodes = fmt.Sprintf("%d selector(s)", n)
		}
		r.Peers = append(r.Peers, pc)
	}
	slices.SortFunc(r.Peers, func(a, b PeerConfig) int { return strings.Compare(a.Name, b.Name) })

	for i := range r.Components {
		comp := &r.Components[i]
		if comp.Kind != componentSpeaker {
			continue
		}
		ss, ok := comp.nodeSessions()
		n := NodeSessions{Node: comp.Node, Reported: ok, Sessions: ss}
		if comp.sessions != nil {
			n.Reason = comp.sessions.Reason
		}
		r.Sessions = append(r.Sessions, n)
	}
	return r, nil
}

// count renders a pool count; the controller saturates IPv6 counts at the
// largest int64.
func count(n int64) string {
	if n == math.MaxInt64 {
		return ">=2^63"
	}
	return strconv.FormatInt(n, 10)
}

func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return duration.HumanDuration(d)
}

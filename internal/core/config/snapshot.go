package config

import (
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Snapshot is everything the compiler reads: the metallb.io objects of the
// project's namespace, as plain values, plus the cluster's namespaces and
// nodes (for selectors that are resolved to names). Adapters fill it from
// the Kubernetes cache; tests write it by hand.
type Snapshot struct {
	Pools             []PoolSpec
	L2Advertisements  []L2AdvertisementSpec
	BGPAdvertisements []BGPAdvertisementSpec
	BGPPeers          []BGPPeerSpec
	BFDProfiles       []BFDProfileSpec
	Communities       []CommunitySpec
	// Secrets holds basic-auth secrets by name (for passwordSecret).
	Secrets    []SecretSpec
	Namespaces []Namespace
	Nodes      []Node
}

// Meta identifies an object and carries its labels.
type Meta struct {
	Name   string
	Labels map[string]string
}

// PoolSpec mirrors IPAddressPool.spec.
type PoolSpec struct {
	Meta
	Addresses     []string
	AutoAssign    *bool // nil = true
	AvoidBuggyIPs bool
	Allocation    *ServiceAllocationSpec
}

// ServiceAllocationSpec mirrors IPAddressPool.spec.serviceAllocation.
type ServiceAllocationSpec struct {
	Priority           int
	Namespaces         []string
	NamespaceSelectors []model.Selector
	ServiceSelectors   []model.Selector
}

// PreferredNodeSelector mirrors L2Advertisement.spec.preferredNodeSelectors[].
type PreferredNodeSelector struct {
	Weight     int32
	Preference model.Selector
}

// L2AdvertisementSpec mirrors L2Advertisement.spec.
type L2AdvertisementSpec struct {
	Meta
	IPAddressPools         []string
	IPAddressPoolSelectors []model.Selector
	NodeSelectors          []model.Selector
	Interfaces             []string
	ServiceSelectors       []model.Selector
	PreferredNodeSelectors []PreferredNodeSelector
}

// BGPAdvertisementSpec mirrors BGPAdvertisement.spec.
type BGPAdvertisementSpec struct {
	Meta
	AggregationLength      *int32 // nil = 32
	AggregationLengthV6    *int32 // nil = 128
	LocalPref              uint32
	Communities            []string
	IPAddressPools         []string
	IPAddressPoolSelectors []model.Selector
	NodeSelectors          []model.Selector
	Peers                  []string
	ServiceSelectors       []model.Selector
}

// BGPPeerSpec mirrors BGPPeer v1beta2 .spec (v1beta1 objects are converted
// to it first).
type BGPPeerSpec struct {
	Meta
	MyASN                  uint32
	PeerASN                uint32
	LocalASN               uint32
	DynamicASN             string // "", "internal", "external"
	PeerAddress            string
	Interface              string
	SourceAddress          string
	PeerPort               uint16 // 0 = 179
	HoldTime               *time.Duration
	KeepaliveTime          *time.Duration
	ConnectTime            *time.Duration
	RouterID               string
	NodeSelectors          []model.Selector
	Password               string
	PasswordSecret         string // name of a Secret in the project's namespace
	BFDProfile             string
	EnableGracefulRestart  bool
	EBGPMultiHop           bool
	VRF                    string
	DisableMP              bool
	DualStackAddressFamily bool
}

// BFDProfileSpec mirrors BFDProfile.spec.
type BFDProfileSpec struct {
	Meta
	ReceiveInterval  *uint32
	TransmitInterval *uint32
	DetectMultiplier *uint32
	EchoInterval     *uint32
	EchoMode         *bool
	PassiveMode      *bool
	MinimumTTL       *uint32
}

// CommunitySpec mirrors Community.spec.
type CommunitySpec struct {
	Meta
	Communities []CommunityAlias
}

// CommunityAlias is one named community value.
type CommunityAlias struct {
	Name  string
	Value string
}

// SecretSpec is a Secret as far as BGP passwords care.
type SecretSpec struct {
	Name string
	Type string
	Data map[string][]byte
}

// Namespace is a cluster namespace with its labels.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Node is a cluster node with its labels.
type Node struct {
	Name   string
	Labels map[string]string
}

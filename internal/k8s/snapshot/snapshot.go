package snapshot

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/core/config"
)

// Objects is the input of Build: the metallb.io objects of the project's
// namespace and the cluster objects the configuration refers to. Callers
// filter by namespace; Build takes every object it is given. BGPPeers are
// v1beta2 objects (the API server converts stored v1beta1 ones).
type Objects struct {
	Pools             []v1beta1.IPAddressPool
	L2Advertisements  []v1beta1.L2Advertisement
	BGPAdvertisements []v1beta1.BGPAdvertisement
	BGPPeers          []v1beta2.BGPPeer
	BFDProfiles       []v1beta1.BFDProfile
	Communities       []v1beta1.Community
	Secrets           []corev1.Secret
	Namespaces        []corev1.Namespace
	Nodes             []corev1.Node
}

// Build converts the objects into the compiler's input. Each list of the
// result is sorted by name. The inputs are not modified.
func Build(in Objects) config.Snapshot {
	return config.Snapshot{
		Pools:             convertSorted(in.Pools, pool, poolName),
		L2Advertisements:  convertSorted(in.L2Advertisements, l2Advertisement, l2Name),
		BGPAdvertisements: convertSorted(in.BGPAdvertisements, bgpAdvertisement, bgpAdvName),
		BGPPeers:          convertSorted(in.BGPPeers, bgpPeer, peerName),
		BFDProfiles:       convertSorted(in.BFDProfiles, bfdProfile, bfdName),
		Communities:       convertSorted(in.Communities, community, communityName),
		Secrets:           convertSorted(in.Secrets, secret, secretName),
		Namespaces:        convertSorted(in.Namespaces, namespace, namespaceName),
		Nodes:             convertSorted(in.Nodes, node, nodeName),
	}
}

// convertSorted converts every element and sorts the result by name
// (stable, so equal names keep their input order). An empty input gives
// nil.
func convertSorted[In, Out any](in []In, conv func(*In) Out, name func(*Out) string) []Out {
	if len(in) == 0 {
		return nil
	}
	out := make([]Out, len(in))
	for i := range in {
		out[i] = conv(&in[i])
	}
	slices.SortStableFunc(out, func(a, b Out) int { return cmp.Compare(name(&a), name(&b)) })
	return out
}

func poolName(s *config.PoolSpec) string               { return s.Name }
func l2Name(s *config.L2AdvertisementSpec) string      { return s.Name }
func bgpAdvName(s *config.BGPAdvertisementSpec) string { return s.Name }
func peerName(s *config.BGPPeerSpec) string            { return s.Name }
func bfdName(s *config.BFDProfileSpec) string          { return s.Name }
func communityName(s *config.CommunitySpec) string     { return s.Name }
func secretName(s *config.SecretSpec) string           { return s.Name }
func namespaceName(s *config.Namespace) string         { return s.Name }
func nodeName(s *config.Node) string                   { return s.Name }

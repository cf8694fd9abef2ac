package bgp

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// TestSmokeECMPThroughFRR: an auto-assigned address is advertised by every
// node to FRR (eBGP), which holds one next hop per node, with the
// advertisement's community, installs the multipath route in its kernel,
// and forwards a client's HTTP to kube-proxy on the nodes. Every node
// writes a ServiceBGPStatus naming the peer, and reports the session and
// the prefix in its metrics. Deleting the Service withdraws it all.
func TestSmokeECMPThroughFRR(t *testing.T) {
	e := newEnv(t)
	r := e.router("frr")
	e.apply(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: smoke}
spec:
  addresses: [203.0.113.64/29]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: smoke-frr}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
  holdTime: 9s
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: smoke}
spec:
  ipAddressPools: [smoke]
  communities: ["64512:100"]
`)
	svc := e.service("web", nil)
	e.backends(svc, allNodes...)
	ip := cluster.IngressIPs(svc)[0]
	prefix := hostPrefix(ip)

	rt := e.waitNextHops(r, prefix, allNodes, 60*time.Second)
	if !slices.Equal(rt.Communities, []string{"64512:100"}) || !slices.Equal(rt.ASPath, []uint32{nodeASN}) || rt.Origin != "IGP" {
		t.Errorf("route attributes: %s; want community 64512:100, AS path [%d], origin IGP", describeRoute(rt), nodeASN)
	}
	e.waitKernelRoute(r, prefix, allNodes, 10*time.Second)
	e.waitHTTPVia(r, ip, 20*time.Second)

	peers := map[string][]string{}
	for _, n := range allNodes {
		peers[n] = []string{"smoke-frr"}
	}
	e.waitStatuses(svc, peers, 15*time.Second)
	peer := r.Host.IPv4
	announced := fmt.Sprintf(`metallb_speaker_announced{ip=%q,node="node2",protocol="bgp",service="%s/web"}`, ip, e.ns)
	e.waitMetrics("node2", map[string]float64{
		peerSeries("metallb_bgp_session_up", peer):               1,
		peerSeries("metallb_bgp_announced_prefixes_total", peer): 1,
		peerSeries("metallb_bgp_pending_prefixes_total", peer):   0,
		announced: 1,
	}, 10*time.Second)

	e.deleteService(svc)
	e.waitNoRoute(r, prefix, 15*time.Second)
	e.waitStatuses(svc, nil, 15*time.Second)
	e.waitMetrics("node2", map[string]float64{
		peerSeries("metallb_bgp_session_up", peer):               1,
		peerSeries("metallb_bgp_announced_prefixes_total", peer): 0,
		announced: absent,
	}, 10*time.Second)
}

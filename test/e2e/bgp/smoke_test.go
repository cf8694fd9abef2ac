package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

const config = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp, namespace: metallb-system}
spec:
  addresses: [203.0.113.64/28]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: frr, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
  holdTime: 9s
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp, namespace: metallb-system}
spec:
  ipAddressPools: [bgp]
  communities: ["64512:100"]
`

func TestSmokeECMPThroughFRR(t *testing.T) {
	ctx := context.Background()
	l := lab.ForTest(t, lab.Options{Nodes: 3})
	r, err := l.AddRouter(ctx, lab.RouterOptions{Kind: lab.FRR, ASN: 64500, Outside: true,
		Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: 64512})})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Cluster.ApplyYAML(ctx, []byte(config)); err != nil {
		t.Fatal(err)
	}
	if err := l.StartSpeakers(ctx); err != nil {
		t.Fatal(err)
	}
	svc := cluster.LoadBalancer("default", "web")
	if err := l.Cluster.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := l.Backends(ctx, svc, "node1", "node2", "node3"); err != nil {
		t.Fatal(err)
	}
	var ip string
	eventually(t, 30*time.Second, "an IP", func() (bool, string) {
		var s corev1.Service
		_ = l.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(svc), &s)
		if ips := cluster.IngressIPs(&s); len(ips) == 1 {
			ip = ips[0]
		}
		return ip != "", ""
	})
	prefix := netip.PrefixFrom(netip.MustParseAddr(ip), 32)
	eventually(t, 60*time.Second, "the route with one next hop per node", func() (bool, string) {
		rt, ok, err := r.Route(ctx, prefix)
		if err != nil || !ok {
			return false, fmt.Sprintf("ok %v err %v", ok, err)
		}
		return len(rt.NextHops) == 3 && strings.Contains(strings.Join(rt.Communities, ","), "64512:100"),
			fmt.Sprintf("%+v", rt)
	})
	eventually(t, 20*time.Second, "HTTP from the client behind the router", func() (bool, string) {
		body, err := l.CurlFrom(ctx, r.Outside.Name, ip, 80)
		return err == nil && strings.HasPrefix(body, "node"), fmt.Sprintf("%q %v", body, err)
	})
}

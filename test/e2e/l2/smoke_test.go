package l2

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

const poolYAML = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lab, namespace: metallb-system}
spec:
  addresses: [203.0.113.10-203.0.113.40, "2001:db8:100::10-2001:db8:100::40"]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: all, namespace: metallb-system}
`

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
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

func TestSmokeAnnounceAndServe(t *testing.T) {
	ctx := context.Background()
	l := lab.ForTest(t, lab.Options{Nodes: 3})
	if err := l.Cluster.ApplyYAML(ctx, []byte(poolYAML)); err != nil {
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
		ips := cluster.IngressIPs(&s)
		if len(ips) == 1 {
			ip = ips[0]
		}
		return ip != "", fmt.Sprint(ips)
	})
	var owner string
	eventually(t, 30*time.Second, "the ServiceL2Status", func() (bool, string) {
		var list v1beta1.ServiceL2StatusList
		_ = l.Cluster.Client.List(ctx, &list, client.InNamespace(cluster.Namespace))
		if len(list.Items) == 1 && list.Items[0].Status.Node != "" {
			owner = list.Items[0].Status.Node
			return true, ""
		}
		return false, fmt.Sprintf("%d objects", len(list.Items))
	})
	wantMAC, err := l.NodeMAC(owner)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "exactly the owner's MAC to answer ARP", func() (bool, string) {
		mac, n, err := l.ARPing(ctx, ip)
		return err == nil && n == 1 && strings.EqualFold(mac, wantMAC), fmt.Sprintf("mac %s n %d err %v", mac, n, err)
	})
	eventually(t, 10*time.Second, "HTTP through kube-proxy", func() (bool, string) {
		body, err := l.Curl(ctx, ip)
		return err == nil && strings.HasPrefix(body, "node"), fmt.Sprintf("%q %v", body, err)
	})

	// Deleting the Service stops the answers.
	if err := l.Cluster.Client.Delete(ctx, svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "no ARP answer", func() (bool, string) {
		_, n, _ := l.ARPing(ctx, ip)
		return n == 0, fmt.Sprintf("%d answers", n)
	})
}

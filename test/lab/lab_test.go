package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
)

func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBinaries()
	os.Exit(code)
}

// eventually polls cond every 200 ms until it returns nil or timeout
// passes, then fails with cond's last error.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestLab brings a three-node lab up and checks, in order: the network,
// the client tools, kube-proxy with a ClusterIP Service, a LoadBalancer
// Service reached from the client, the speaker plumbing (with a stand-in
// binary), link control, and a teardown that leaves nothing behind.
func TestLab(t *testing.T) {
	l := ForTest(t, Options{Nodes: 3, Progress: logWriter{t}})
	t.Logf("bring-up took %v", l.BringUp)
	ctx := context.Background()

	t.Run("network", func(t *testing.T) {
		for _, from := range l.Nodes {
			for _, to := range l.Nodes {
				for _, ip := range []string{to.IPv4.String(), to.IPv6.String(), to.PodIPv4.String(), to.PodIPv6.String()} {
					if err := l.Ping(ctx, from.Name, ip); err != nil {
						t.Errorf("%s cannot ping %s's %s: %v", from.Name, to.Name, ip, err)
					}
				}
				body, err := l.CurlFrom(ctx, from.Name, to.PodIPv4.String(), BackendPort)
				if err != nil || body != to.Name {
					t.Errorf("%s: backend of %s answered %q, %v; want %q", from.Name, to.Name, body, err, to.Name)
				}
			}
			if err := l.Ping(ctx, "client", from.IPv6.String()); err != nil {
				t.Errorf("client cannot ping %s: %v", from.Name, err)
			}
		}
		if err := l.Ping(ctx, "client", l.Nodes[0].PodIPv4.String()); err == nil {
			t.Errorf("the client reaches a pod directly; it should know the LAN and the pools only")
		}
	})

	t.Run("client tools", func(t *testing.T) {
		n := l.Nodes[0]
		wantMAC, err := l.NodeMAC(n.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.MAC.String(); got != wantMAC || got != "02:fe:c6:33:64:0b" {
			t.Errorf("node1 MAC: NodeMAC %s, Host.MAC %s; want 02:fe:c6:33:64:0b", wantMAC, got)
		}
		mac, count, err := l.ARPing(ctx, n.IPv4.String())
		if err != nil || mac != wantMAC || count != 1 {
			t.Errorf("ARPing %s = %q, %d, %v; want %s, 1", n.IPv4, mac, count, err, wantMAC)
		}
		if mac, count, err := l.ARPing(ctx, "203.0.113.99"); err != nil || count != 0 {
			t.Errorf("ARPing an unused pool address = %q, %d, %v; want no answer", mac, count, err)
		}
		macs, err := l.NDisc(ctx, n.IPv6.String())
		if err != nil || len(macs) != 1 || macs[0] != wantMAC {
			t.Errorf("NDisc %s = %v, %v; want [%s]", n.IPv6, macs, err, wantMAC)
		}
		if macs, err := l.NDisc(ctx, "2001:db8:100::99"); err != nil || len(macs) != 0 {
			t.Errorf("NDisc an unused pool address = %v, %v; want no answer", macs, err)
		}
		// Two hosts answering for one address are both seen.
		dup := "203.0.113.98"
		for _, h := range []string{"node2", "node3"} {
			if err := l.AddLANAddress(ctx, h, mustAddr(dup)); err != nil {
				t.Fatal(err)
			}
			defer l.DelLANAddress(ctx, h, mustAddr(dup))
		}
		if _, count, err := l.ARPing(ctx, dup); err != nil || count != 2 {
			t.Errorf("ARPing an address held by two nodes: %d MACs, %v; want 2", count, err)
		}
	})

	t.Run("kube-proxy ClusterIP", func(t *testing.T) {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "inside"},
			Spec: corev1.ServiceSpec{
				IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
				Ports:          []corev1.ServicePort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}},
			},
		}
		if err := l.Cluster.Client.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
		if err := l.Backends(ctx, svc, "node1", "node2"); err != nil {
			t.Fatal(err)
		}
		if len(svc.Spec.ClusterIPs) != 2 {
			t.Fatalf("cluster IPs %v; want one per family", svc.Spec.ClusterIPs)
		}
		seen := map[string]bool{}
		eventually(t, 20*time.Second, "both backends answering on the IPv4 cluster IP from node3", func() error {
			body, err := l.CurlFrom(ctx, "node3", svc.Spec.ClusterIPs[0], 8080)
			if err != nil {
				return err
			}
			if body != "node1" && body != "node2" {
				t.Fatalf("cluster IP answered %q; want node1 or node2", body)
			}
			seen[body] = true
			if len(seen) < 2 {
				return fmt.Errorf("only %v answered so far", seen)
			}
			return nil
		})
		eventually(t, 10*time.Second, "IPv6 cluster IP from node3", func() error {
			body, err := l.CurlFrom(ctx, "node3", svc.Spec.ClusterIPs[1], 8080)
			if err == nil && body != "node1" && body != "node2" {
				t.Fatalf("IPv6 cluster IP answered %q; want node1 or node2", body)
			}
			return err
		})
	})

	t.Run("LoadBalancer through kube-proxy", func(t *testing.T) {
		pool := &v1beta1.IPAddressPool{
			ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: "lab"},
			Spec:       v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.10-203.0.113.19"}},
		}
		if err := l.Cluster.Client.Create(ctx, pool); err != nil {
			t.Fatal(err)
		}
		svc := cluster.LoadBalancer("default", "web")
		if err := l.Cluster.Client.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
		var ip string
		eventually(t, 20*time.Second, "the controller assigning an address", func() error {
			if err := l.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
				return err
			}
			if ips := cluster.IngressIPs(svc); len(ips) == 1 {
				ip = ips[0]
				return nil
			}
			return fmt.Errorf("ingress %v", svc.Status.LoadBalancer.Ingress)
		})
		if !PoolV4.Contains(mustAddr(ip)) {
			t.Fatalf("assigned %s, outside %v", ip, PoolV4)
		}
		// The backend sits on node2; node1 "announces": traffic crosses nodes.
		if err := l.Backends(ctx, svc, "node2"); err != nil {
			t.Fatal(err)
		}
		if _, count, err := l.ARPing(ctx, ip); err != nil || count != 0 {
			t.Fatalf("before the announcement %d hosts answer ARP for %s (%v); want none", count, ip, err)
		}
		if err := l.AddLANAddress(ctx, "node1", mustAddr(ip)); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := l.DelLANAddress(ctx, "node1", mustAddr(ip)); err != nil {
				t.Error(err)
			}
		}()
		if mac, count, err := l.ARPing(ctx, ip); err != nil || count != 1 || mac != l.Nodes[0].MAC.String() {
			t.Errorf("ARP for %s answered by %q (%d MACs, %v); want node1's %s", ip, mac, count, err, l.Nodes[0].MAC)
		}
		eventually(t, 20*time.Second, "the client reaching node2's backend through "+ip, func() error {
			body, err := l.Curl(ctx, ip)
			if err == nil && body != "node2" {
				t.Fatalf("%s answered %q; want node2", ip, body)
			}
			return err
		})
		if mac, err := l.ClientNeighbor(ctx, ip); err != nil || mac != l.Nodes[0].MAC.String() {
			t.Errorf("client's neighbor entry for %s = %q, %v; want node1's MAC", ip, mac, err)
		}
		if err := l.FlushClientNeighbors(ctx); err != nil {
			t.Error(err)
		}
		if mac, err := l.ClientNeighbor(ctx, ip); err != nil || mac != "" {
			t.Errorf("after a flush the client still has %q, %v for %s", mac, err, ip)
		}
	})

	t.Run("speaker plumbing", func(t *testing.T) {
		// A stand-in speaker: prints its arguments, environment and the
		// MAC of eth0 as seen in /sys, then waits.
		bin := filepath.Join(t.TempDir(), "fake-speaker")
		script := "#!/bin/sh\necho \"args: $*\"\nenv | grep -E '^(METALLB_|KUBECONFIG=)' | sort\n" +
			"echo \"eth0: $(cat /sys/class/net/eth0/address)\"\nsecret=$(cat \"$METALLB_ML_SECRET_KEY_PATH/secretkey\")\n" +
			"echo \"secret bytes: ${#secret}\"\nexec sleep 600\n"
		if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := l.runSpeakers(ctx, bin, []string{"--log-level", "debug"}); err != nil {
			t.Fatal(err)
		}
		for _, n := range l.Nodes {
			p, err := l.Speaker(n.Name)
			if err != nil {
				t.Fatal(err)
			}
			out := waitLog(t, p, "secret bytes:")
			for _, want := range []string{
				"args: --node-name " + n.Name + " --kubeconfig " + n.Kubeconfig + " --log-level debug",
				"METALLB_NODE_NAME=" + n.Name,
				"METALLB_POD_NAME=speaker-" + n.Name,
				"METALLB_NAMESPACE=metallb-system",
				"METALLB_ML_BIND_ADDR=" + n.IPv4.String(),
				"METALLB_ML_LABELS=app=metallb,component=speaker",
				"eth0: " + n.MAC.String(),
				"secret bytes: 128",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("%s's speaker output lacks %q:\n%s", n.Name, want, out)
				}
			}
			var pod corev1.Pod
			if err := l.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: "speaker-" + n.Name}, &pod); err != nil {
				t.Fatal(err)
			}
			if pod.Status.PodIP != n.IPv4.String() || pod.Spec.NodeName != n.Name || pod.Labels["component"] != "speaker" ||
				pod.Status.Phase != corev1.PodRunning {
				t.Errorf("speaker pod on %s: ip %s node %s labels %v phase %s", n.Name, pod.Status.PodIP, pod.Spec.NodeName, pod.Labels, pod.Status.Phase)
			}
		}
		var secret corev1.Secret
		if err := l.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: MemberlistSecret}, &secret); err != nil || len(secret.Data["secretkey"]) != 128 {
			t.Errorf("memberlist secret: %d bytes, %v", len(secret.Data["secretkey"]), err)
		}

		old, _ := l.Speaker("node2")
		kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := l.KillSpeaker(kctx, "node2", syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if !old.Exited() {
			t.Fatal("node2's speaker still runs after KillSpeaker(SIGKILL)")
		}
		if err := l.RestartSpeaker(kctx, "node2"); err != nil {
			t.Fatal(err)
		}
		cur, _ := l.Speaker("node2")
		if cur == old || cur.Exited() {
			t.Fatalf("RestartSpeaker: same process or not running (exited %v)", cur.Exited())
		}
		waitLog(t, cur, "secret bytes:")
		if err := l.RestartSpeaker(kctx, "node2"); err != nil { // a running one is stopped first
			t.Fatal(err)
		}
		if !cur.Exited() {
			t.Error("RestartSpeaker left the previous speaker running")
		}
	})

	t.Run("link down and up", func(t *testing.T) {
		if err := l.LinkDown(ctx, "node2"); err != nil {
			t.Fatal(err)
		}
		if err := l.Ping(ctx, "client", "198.51.100.12"); err == nil {
			t.Error("client still reaches node2 with its link down")
		}
		if err := l.Ping(ctx, "node1", "198.51.100.13"); err != nil {
			t.Errorf("node1 lost node3 when node2's link went down: %v", err)
		}
		if err := l.LinkUp(ctx, "node2"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "client reaching node2 after LinkUp", func() error {
			return l.Ping(ctx, "client", "198.51.100.12")
		})
	})

	t.Run("teardown", func(t *testing.T) {
		pids, nss, dir := l.PIDs(), l.Namespaces(), l.Dir
		if len(pids) < 7 || len(nss) != 8 { // 3 kube-proxies, 3+ speakers, controller; lan, client, 3 nodes, 3 pods
			t.Fatalf("tracking %d processes and namespaces %v; want at least 7 and 8", len(pids), nss)
		}
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		left, err := namespaces(l.Prefix)
		if err != nil || len(left) > 0 {
			t.Errorf("namespaces left: %v (%v)", left, err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d still exists (kill 0: %v)", pid, err)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("directory %s still exists (%v)", dir, err)
		}
	})
}

func waitLog(t *testing.T, p *Proc, want string) string {
	t.Helper()
	var out string
	eventually(t, 5*time.Second, p.Name+" writing "+want, func() error {
		b, err := os.ReadFile(p.Log)
		if out = string(b); err == nil && !strings.Contains(out, want) {
			err = fmt.Errorf("not yet:\n%s", out)
		}
		return err
	})
	return out
}

// TestCleanupStale checks that leftovers of a dead run are removed and
// those of a live run are kept.
func TestCleanupStale(t *testing.T) {
	ctx := context.Background()
	dead := exitedPID(t)
	deadNS := fmt.Sprintf("flab-%d-0abc-lan", dead)
	liveNS := newPrefix() + "-lan"
	for _, ns := range []string{deadNS, liveNS} {
		if _, err := run(ctx, "", "ip", "netns", "add", ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = deleteNamespace(ctx, ns) })
	}
	deadDir := filepath.Join(os.TempDir(), fmt.Sprintf("flab-%d-0abc", dead))
	if err := os.Mkdir(deadDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(deadDir) })

	removed, err := CleanupStale()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(removed, deadNS) || !slices.Contains(removed, deadDir) || slices.Contains(removed, liveNS) {
		t.Errorf("CleanupStale removed %v; want %s and %s, not %s", removed, deadNS, deadDir, liveNS)
	}
	if left, _ := namespaces(liveNS); len(left) != 1 {
		t.Errorf("the live run's namespace is gone")
	}
	got, err := Cleanup(liveNS)
	if err != nil || len(got) != 1 || got[0] != liveNS {
		t.Errorf("Cleanup(%s) = %v, %v", liveNS, got, err)
	}
	if left, _ := namespaces(liveNS); len(left) != 0 {
		t.Errorf("Cleanup left %v", left)
	}
}

// exitedPID returns the PID of a process that has ended.
func exitedPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	return p.Pid
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestStartFailureLeavesNothing makes the bring-up time out (the API
// server needs seconds) and checks that the failed Start removed its
// namespaces and kept only its log directory.
func TestStartFailureLeavesNothing(t *testing.T) {
	mine := fmt.Sprintf("flab-%d-", os.Getpid())
	before, err := namespaces(mine)
	if err != nil || len(before) > 0 {
		t.Fatalf("namespaces of this process before the test: %v, %v", before, err)
	}
	l, err := Start(context.Background(), Options{Nodes: 2, NoController: true, Timeout: 500 * time.Millisecond})
	if err == nil {
		l.Close()
		t.Fatal("Start succeeded within 500 ms; want a timeout")
	}
	t.Logf("Start failed as wanted: %.200s", err)
	if left, _ := namespaces(mine); len(left) > 0 {
		t.Errorf("namespaces left after a failed Start: %v", left)
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), mine+"*"))
	if len(dirs) != 1 || !strings.Contains(err.Error(), dirs[0]) {
		t.Errorf("kept directories %v; want exactly the one the error names", dirs)
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

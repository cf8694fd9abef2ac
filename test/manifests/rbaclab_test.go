package manifests

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// needLab skips the test (or fails it with FERROLB_REQUIRE_LAB=1) without
// root or the lab's tools.
func needLab(t *testing.T) {
	t.Helper()
	lab.Need(t, "the lab test", lab.AptInstall, "ip", "nft", "arping", "ndisc6", "ping", "curl")
}

// Ports of the controllers in the lab: each runs in a node's network
// namespace next to that node's speaker, which holds 9120 and
// 127.0.0.1:17472.
const (
	labControllerMetrics = 19120
	labControllerHealth  = 17473
)

// TestRBACLab runs two controllers and a speaker per node with the
// rendered RBAC of config/native and nothing else: each process gets a
// kubeconfig holding a token of its ServiceAccount (TokenRequest API) and
// the environment and arguments of its rendered Pod template. A
// LoadBalancer Service must get an address, answered for on the LAN with
// a ServiceL2Status; the controller must create the memberlist Secret,
// elect a leader, publish pool usage; both must record events and serve
// authenticated metrics; and no log may show a "forbidden" error.
func TestRBACLab(t *testing.T) {
	needLab(t)
	native := decode(t, kustomizeBuild(t, "config/native"))
	var dep appsv1.Deployment
	native.typed(t, "Deployment", "controller", &dep)
	var ds appsv1.DaemonSet
	native.typed(t, "DaemonSet", "speaker", &ds)
	var excl corev1.ConfigMap
	native.typed(t, "ConfigMap", "metallb-excludel2", &excl)
	ctlBin, err := cluster.Binary("./cmd/controller")
	if err != nil {
		t.Fatal(err)
	}
	spkBin, err := cluster.Binary("./cmd/speaker")
	if err != nil {
		t.Fatal(err)
	}

	l := lab.ForTest(t, lab.Options{Nodes: 2, NoController: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin := l.Cluster.Client
	cs, err := kubernetes.NewForConfig(l.Cluster.Config)
	if err != nil {
		t.Fatal(err)
	}

	// The rendered objects, applied by the admin: RBAC, ServiceAccounts,
	// CRDs (BGPPeer with its conversion webhook), the webhook
	// configuration and Secret, the ConfigMap, and the Deployment and
	// DaemonSet (objects only: nothing runs them here). Not the webhook
	// Service: without it the API server fails webhook calls at once,
	// which failurePolicy Ignore lets through (a Service without
	// endpoints would make every call wait for a timeout).
	for _, u := range native {
		if u.GetKind() == "Service" {
			continue
		}
		if err := admin.Patch(ctx, u, client.Apply, client.FieldOwner("ferrolb-rbac-lab"), client.ForceOwnership); err != nil {
			t.Fatalf("applying %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	if err := admin.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "controller"}, &dep); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	kubeconfigFor := func(sa string) string {
		tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("token of ServiceAccount %s: %v", sa, err)
		}
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["lab"] = &clientcmdapi.Cluster{
			Server:                   "https://127.0.0.1:" + strconv.Itoa(lab.APIPort), // the API bridge of each node namespace
			CertificateAuthorityData: l.Cluster.API.CAData(),
		}
		cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
		cfg.Contexts["lab"] = &clientcmdapi.Context{Cluster: "lab", AuthInfo: sa, Namespace: namespace}
		cfg.CurrentContext = "lab"
		path := filepath.Join(dir, sa+".kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, path); err != nil {
			t.Fatal(err)
		}
		tokens.add(sa, tr.Status.Token)
		return path
	}
	ctlKubeconfig := kubeconfigFor(dep.Spec.Template.Spec.ServiceAccountName)
	spkKubeconfig := kubeconfigFor(ds.Spec.Template.Spec.ServiceAccountName)

	var procs []*lab.Proc
	// Runs before the lab's teardown (cleanups run last-in first-out),
	// also when the test stopped early.
	t.Cleanup(func() { scanLogs(t, procs) })
	// Two controller replicas (leader election), on node1 and node2.
	for i, n := range l.Nodes {
		pod := fmt.Sprintf("controller-lab-%d", i)
		createPod(ctx, t, admin, pod, dep.Spec.Template, "", "")
		certDir := filepath.Join(dir, pod, "certs")
		if err := os.MkdirAll(certDir, 0o700); err != nil {
			t.Fatal(err)
		}
		go projectSecret(ctx, admin, "metallb-webhook-cert", certDir)
		c := dep.Spec.Template.Spec.Containers[0]
		env := podEnv(t, c, map[string]string{"metadata.name": pod, "metadata.namespace": namespace})
		args := append(slices.Clone(c.Args), "--kubeconfig", ctlKubeconfig,
			"--port="+strconv.Itoa(labControllerMetrics), "--health-probe-port="+strconv.Itoa(labControllerHealth),
			"--cert-dir="+certDir)
		p, err := l.StartProcess(n.Host, "controller", env, ctlBin, args...)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}

	// The controller creates the memberlist Secret, owned by its
	// Deployment; the speakers read it as their Pods' volume would show it.
	var secret corev1.Secret
	eventually(t, 30*time.Second, "the memberlist Secret", func() (bool, string) {
		err := admin.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "memberlist"}, &secret)
		return err == nil, fmt.Sprint(err)
	})
	if len(secret.Data["secretkey"]) == 0 {
		t.Fatalf("memberlist Secret has no secretkey: %v", secret.Data)
	}
	if o := secret.OwnerReferences; len(o) != 1 || o[0].Kind != "Deployment" || o[0].UID != dep.UID {
		t.Errorf("memberlist Secret owners %+v; want Deployment controller (%s)", o, dep.UID)
	}
	mlDir := filepath.Join(dir, "memberlist")
	excludeFile := filepath.Join(dir, "excludel2.yaml")
	if err := os.MkdirAll(mlDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mlDir, "secretkey"), secret.Data["secretkey"], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(excludeFile, []byte(excl.Data["excludel2.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}

	// A speaker per node, with its Pod object (as a kubelet would report
	// it: host network, so podIP = hostIP = the node's address).
	sc := ds.Spec.Template.Spec.Containers[0]
	if got := envValue(sc, "METALLB_ML_SECRET_KEY_PATH"); got == "" {
		t.Fatal("the speaker has no METALLB_ML_SECRET_KEY_PATH")
	}
	for _, n := range l.Nodes {
		pod := "speaker-" + n.Name
		createPod(ctx, t, admin, pod, ds.Spec.Template, n.Name, n.IPv4.String())
		env := podEnv(t, sc, map[string]string{
			"metadata.name": pod, "metadata.namespace": namespace, "spec.nodeName": n.Name,
			"status.podIP": n.IPv4.String(), "status.hostIP": n.IPv4.String(),
		})
		env = append(env, "METALLB_ML_SECRET_KEY_PATH="+mlDir) // the volume's content, elsewhere
		args := append(slices.Clone(sc.Args), "--kubeconfig", spkKubeconfig, "--l2-exclude-file", excludeFile)
		p, err := l.StartProcess(n.Host, "speaker", env, spkBin, args...)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}

	// One leader.
	eventually(t, 30*time.Second, "a leader", func() (bool, string) {
		var lease coordinationv1.Lease
		err := admin.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "metallb-controller"}, &lease)
		if err != nil {
			return false, err.Error()
		}
		h := ptr.Deref(lease.Spec.HolderIdentity, "")
		return h != "", "no holder yet"
	})

	// Configuration and a Service (the admin's writes; the webhooks are
	// unreachable here and fail open).
	const ip = "203.0.113.60"
	pool := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "rbac-lab"},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: []string{ip + "-203.0.113.63"}},
	}
	ad := &v1beta1.L2Advertisement{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "rbac-lab"},
		Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"rbac-lab"}},
	}
	svcNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rbac-lab"}}
	for _, o := range []client.Object{pool, ad, svcNS} {
		if err := admin.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	svc := cluster.LoadBalancer("rbac-lab", "web")
	if err := admin.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "an address for the Service", func() (bool, string) {
		if err := admin.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
			return false, err.Error()
		}
		got := cluster.IngressIPs(svc)
		return slices.Equal(got, []string{ip}), fmt.Sprint(got)
	})
	if err := l.Backends(ctx, svc, l.Nodes[0].Name, l.Nodes[1].Name); err != nil {
		t.Fatal(err)
	}

	// Announced: one node answers ARP, and says so in a ServiceL2Status.
	macs := map[string]string{}
	for _, n := range l.Nodes {
		mac, err := l.NodeMAC(n.Name)
		if err != nil {
			t.Fatal(err)
		}
		macs[mac] = n.Name
	}
	owner := ""
	eventually(t, 30*time.Second, "an ARP answer for "+ip, func() (bool, string) {
		mac, n, err := l.ARPing(ctx, ip)
		owner = macs[mac]
		return err == nil && n == 1 && owner != "", fmt.Sprintf("mac %q (%d answers), err %v", mac, n, err)
	})
	eventually(t, 20*time.Second, "a ServiceL2Status from "+owner, func() (bool, string) {
		var list v1beta1.ServiceL2StatusList
		if err := admin.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return false, err.Error()
		}
		for _, s := range list.Items {
			if s.Status.ServiceName == "web" && s.Status.ServiceNamespace == "rbac-lab" && s.Status.Node == owner {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d objects", len(list.Items))
	})
	// Pool usage in the pool's status (status subresource patch).
	eventually(t, 20*time.Second, "pool status", func() (bool, string) {
		var p v1beta1.IPAddressPool
		if err := admin.Get(ctx, client.ObjectKeyFromObject(pool), &p); err != nil {
			return false, err.Error()
		}
		return p.Status.AssignedIPv4 == 1 && p.Status.AvailableIPv4 == 3, fmt.Sprintf("%+v", p.Status)
	})
	// Events from both components, in the Service's namespace.
	eventually(t, 20*time.Second, "events", func() (bool, string) {
		var evs corev1.EventList
		if err := admin.List(ctx, &evs, client.InNamespace("rbac-lab")); err != nil {
			return false, err.Error()
		}
		reasons := map[string]bool{}
		for _, e := range evs.Items {
			reasons[e.Reason] = true
		}
		return reasons["IPAllocated"] && reasons["nodeAssigned"], fmt.Sprint(slices.Sorted(maps.Keys(reasons)))
	})

	// Health on the rendered probe paths; metrics behind TokenReview and
	// SubjectAccessReview (which the components' RBAC must allow).
	probe := ds.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet
	for _, n := range l.Nodes {
		checkHTTP(ctx, t, l, n.Name, fmt.Sprintf("http://%s:%d%s", probe.Host, probe.Port.IntValue(), probe.Path), "", 200)
		checkHTTP(ctx, t, l, n.Name, fmt.Sprintf("http://127.0.0.1:%d/readyz", labControllerHealth), "", 200)
	}
	speakerMetrics := "https://127.0.0.1:9120/metrics"
	body := checkHTTP(ctx, t, l, l.Nodes[1].Name, speakerMetrics, l.Cluster.Config.BearerToken, 200)
	if !strings.Contains(body, "metallb_k8s_client_config_loaded_bool 1") {
		t.Errorf("speaker metrics lack metallb_k8s_client_config_loaded_bool 1")
	}
	checkHTTP(ctx, t, l, l.Nodes[1].Name, speakerMetrics, tokens.get("speaker"), 403) // authenticated, not allowed
	checkHTTP(ctx, t, l, l.Nodes[1].Name, speakerMetrics, "", 401)
	leaderMetrics := 0
	for _, n := range l.Nodes {
		body := checkHTTP(ctx, t, l, n.Name, fmt.Sprintf("https://127.0.0.1:%d/metrics", labControllerMetrics), l.Cluster.Config.BearerToken, 200)
		if strings.Contains(body, `metallb_allocator_addresses_in_use_total{pool="rbac-lab"} 1`) {
			leaderMetrics++
		}
	}
	if leaderMetrics != 1 {
		t.Errorf("%d controllers report the pool's usage; want 1 (the leader)", leaderMetrics)
	}

	// Nothing was refused along the way (checked by scanLogs at the end).
	time.Sleep(2 * time.Second)
	for _, p := range procs {
		if p.Exited() {
			t.Errorf("%s exited", p.Name)
		}
	}
	t.Logf("%s answered for %s; %d processes ran with their ServiceAccounts' tokens", owner, ip, len(procs))
}

// scanLogs fails the test for every log line of procs that shows a
// refused request.
func scanLogs(t *testing.T, procs []*lab.Proc) {
	t.Helper()
	refused := regexp.MustCompile(`(?i)forbidden|unauthorized`)
	for _, p := range procs {
		b, err := os.ReadFile(p.Log)
		if err != nil {
			t.Errorf("%s: %v", p.Name, err)
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if refused.MatchString(line) {
				t.Errorf("%s: %s", p.Name, line)
			}
		}
	}
}

// tokens keeps the minted ServiceAccount tokens by name.
var tokens = tokenStore{m: map[string]string{}}

type tokenStore struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *tokenStore) add(name, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = token
}

func (s *tokenStore) get(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[name]
}

// podEnv resolves a container's environment as the kubelet would (fieldRef
// values from fields); any other kind of reference fails the test.
func podEnv(t *testing.T, c corev1.Container, fields map[string]string) []string {
	t.Helper()
	var env []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil:
			v, ok := fields[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				t.Fatalf("env %s: no value for field %s in the lab", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			env = append(env, e.Name+"="+v)
		default:
			t.Fatalf("env %s: unsupported reference %+v", e.Name, e.ValueFrom)
		}
	}
	return env
}

// createPod creates the Pod object a workload controller and kubelet
// would: the template's labels and spec, bound to node, Running and Ready
// with ip (when given).
func createPod(ctx context.Context, t *testing.T, c client.Client, name string, tmpl corev1.PodTemplateSpec, node, ip string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: tmpl.Labels},
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = node
	if err := c.Create(ctx, pod); err != nil {
		t.Fatalf("creating Pod %s: %v", name, err)
	}
	if ip == "" {
		return
	}
	now := metav1.Now()
	pod.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    ip,
		HostIPs:   []corev1.HostIP{{IP: ip}},
		PodIP:     ip,
		PodIPs:    []corev1.PodIP{{IP: ip}},
		StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		},
	}
	if err := c.Status().Update(ctx, pod); err != nil {
		t.Fatalf("status of Pod %s: %v", name, err)
	}
}

// projectSecret copies a Secret's keys into dir, as the kubelet keeps a
// secret volume up to date, until ctx ends.
func projectSecret(ctx context.Context, c client.Client, name, dir string) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	written := map[string]string{}
	for {
		var s corev1.Secret
		if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err == nil {
			for k, v := range s.Data {
				if written[k] == string(v) {
					continue
				}
				tmp := filepath.Join(dir, "."+k+".tmp")
				if os.WriteFile(tmp, v, 0o600) == nil && os.Rename(tmp, filepath.Join(dir, k)) == nil {
					written[k] = string(v)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkHTTP fetches url with curl from a host of the lab (bearer token if
// not empty, any certificate) and checks the status code; it returns the
// body.
func checkHTTP(ctx context.Context, t *testing.T, l *lab.Lab, host, url, token string, want int) string {
	t.Helper()
	args := []string{"-sk", "--max-time", "5", "-w", "\n%{http_code}"}
	if token != "" {
		args = append(args, "-H", "Authorization: Bearer "+token)
	}
	out, err := l.Exec(ctx, host, "curl", append(args, url)...)
	if err != nil {
		t.Errorf("curl %s from %s: %v: %s", url, host, err, out)
		return ""
	}
	i := strings.LastIndex(out, "\n")
	code, _ := strconv.Atoi(strings.TrimSpace(out[i+1:]))
	if code != want {
		t.Errorf("GET %s from %s: status %d; want %d (%.200s)", url, host, code, want, out[:i])
	}
	return out[:i]
}

// eventually polls cond every 200 ms until it holds, failing the test
// after timeout with cond's last explanation.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %s", what, timeout, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package kubeapi

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) { Main(m) }

func TestStartServeStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	parent := t.TempDir()

	begin := time.Now()
	s, err := Start(ctx, Options{TempDir: parent, Users: []User{{Name: "nobody", UID: "n1"}}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("API server ready at %s after %v", s.URL(), time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() { s.Stop() })
	cs := kubernetes.NewForConfigOrDie(s.RESTConfig())
	services := cs.CoreV1().Services(metav1.NamespaceDefault)

	t.Run("LoadBalancer Service without node ports", func(t *testing.T) {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "lb"},
			Spec: corev1.ServiceSpec{
				Type:                          corev1.ServiceTypeLoadBalancer,
				AllocateLoadBalancerNodePorts: ptr(false),
				Ports:                         []corev1.ServicePort{{Port: 80}},
			},
		}
		got, err := services.Create(ctx, svc, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if ip := netip.MustParseAddr(got.Spec.ClusterIP); !netip.MustParsePrefix("198.18.0.0/16").Contains(ip) {
			t.Errorf("cluster IP %s outside 198.18.0.0/16", ip)
		}
		if np := got.Spec.Ports[0].NodePort; np != 0 {
			t.Errorf("node port %d allocated despite allocateLoadBalancerNodePorts=false", np)
		}
		if ing := got.Status.LoadBalancer.Ingress; len(ing) != 0 {
			t.Errorf("ingress %v before any controller ran", ing)
		}
		// What a load-balancer controller does: write the status subresource.
		got.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}}
		if _, err := services.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update status: %v", err)
		}
		back, err := services.Get(ctx, "lb", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		// The server defaults ingress[].ipMode to VIP.
		want := []corev1.LoadBalancerIngress{{IP: "203.0.113.10", IPMode: ptr(corev1.LoadBalancerIPModeVIP)}}
		if diff := cmp.Diff(want, back.Status.LoadBalancer.Ingress); diff != "" {
			t.Errorf("ingress (-want +got):\n%s", diff)
		}
	})

	t.Run("dual-stack Service", func(t *testing.T) {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "dual"},
			Spec: corev1.ServiceSpec{
				IPFamilyPolicy: ptr(corev1.IPFamilyPolicyRequireDualStack),
				Ports:          []corev1.ServicePort{{Port: 443}},
			},
		}
		got, err := services.Create(ctx, svc, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if diff := cmp.Diff([]corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, got.Spec.IPFamilies); diff != "" {
			t.Fatalf("families (-want +got):\n%s", diff)
		}
		if len(got.Spec.ClusterIPs) != 2 {
			t.Fatalf("cluster IPs %v, want two", got.Spec.ClusterIPs)
		}
		if ip := netip.MustParseAddr(got.Spec.ClusterIPs[1]); !netip.MustParsePrefix("2001:db8:ffff::/108").Contains(ip) {
			t.Errorf("IPv6 cluster IP %s outside 2001:db8:ffff::/108", ip)
		}
	})

	t.Run("Pod without a default ServiceAccount", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.invalid/none"}}},
		}
		if _, err := cs.CoreV1().Pods(metav1.NamespaceDefault).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create: %v", err)
		}
	})

	t.Run("token user without RBAC is forbidden", func(t *testing.T) {
		cfg, err := s.UserConfig("nobody")
		if err != nil {
			t.Fatal(err)
		}
		_, err = kubernetes.NewForConfigOrDie(cfg).CoreV1().Services("").List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("list as nobody: got %v, want Forbidden", err)
		}
		if _, err := s.UserConfig("missing"); err == nil {
			t.Error("UserConfig(missing): no error")
		}
	})

	t.Run("kubeconfig", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := s.WriteKubeconfig(path); err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
			t.Errorf("get namespace through the kubeconfig (TLS verified): %v", err)
		}
	})

	t.Run("CRD and custom object", func(t *testing.T) {
		for range 2 { // the second pass takes the update path
			if err := InstallCRDs(ctx, s.RESTConfig(), "testdata"); err != nil {
				t.Fatalf("InstallCRDs: %v", err)
			}
		}
		widgets := dynamic.NewForConfigOrDie(s.RESTConfig()).
			Resource(schema.GroupVersionResource{Group: "kubeapi.example.com", Version: "v1", Resource: "widgets"}).
			Namespace(metav1.NamespaceDefault)
		widget := func(name string, size int64) *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "kubeapi.example.com/v1",
				"kind":       "Widget",
				"metadata":   map[string]any{"name": name},
				"spec":       map[string]any{"size": size},
			}}
		}
		if _, err := widgets.Create(ctx, widget("w", 3), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create widget: %v", err)
		}
		got, err := widgets.Get(ctx, "w", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get widget: %v", err)
		}
		if size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); size != 3 {
			t.Errorf("spec.size = %d, want 3", size)
		}
		// The schema is in force: size has minimum 1.
		if _, err := widgets.Create(ctx, widget("bad", 0), metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("create widget with size 0: got %v, want Invalid", err)
		}
	})

	pids := []int{s.etcd.pid(), s.apiserver.pid()}
	begin = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stopped after %v", time.Since(begin).Round(time.Millisecond))
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d after Stop: kill(0) = %v, want ESRCH", pid, err)
		}
	}
	assertCleanedUp(t, parent)
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStartFailureCleansUp(t *testing.T) {
	parent := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{TempDir: parent, APIServerFlags: []string{"--no-such-flag"}})
	if err == nil {
		s.Stop()
		t.Fatal("Start with an unknown kube-apiserver flag succeeded")
	}
	t.Logf("Start failed as expected: %v", err)
	// The error carries the end of the log, which names the bad flag.
	if !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("error does not show the cause:\n%v", err)
	}
	assertCleanedUp(t, parent)
}

func TestShared(t *testing.T) {
	first, second := Shared(t), Shared(t)
	if first.Host != second.Host {
		t.Errorf("two servers: %s and %s", first.Host, second.Host)
	}
	first.QPS = 1 // each call returns a config of its own
	if second.QPS == 1 {
		t.Error("Shared returned the same *rest.Config twice")
	}
	ns, err := kubernetes.NewForConfigOrDie(second).CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{})
	if err != nil || ns.Name != "default" {
		t.Errorf("get namespace default: %v", err)
	}
}

func TestReadCRDsRejects(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{name: "empty dir", want: "no CustomResourceDefinition"},
		{name: "only other files", files: map[string]string{"a.yml": crdYAML, "b.txt": crdYAML}, want: "no CustomResourceDefinition"},
		{name: "not a CRD", files: map[string]string{"a.yaml": crdYAML + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"}, want: `kind "ConfigMap"`},
		{name: "broken YAML", files: map[string]string{"a.yaml": "kind: [\n"}, want: "a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := readCRDs(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("readCRDs: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestReadCRDsTestdata(t *testing.T) {
	crds, err := readCRDs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range crds {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"widgets.kubeapi.example.com"}, names); diff != "" {
		t.Errorf("CRDs (-want +got):\n%s", diff)
	}
}

func TestBinDirMissingBinaries(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "etcd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(BinDirEnv, dir)
	_, err := findBinDir()
	if err == nil || !strings.Contains(err.Error(), "kube-apiserver missing") {
		t.Errorf("findBinDir: got %v, want kube-apiserver missing", err)
	}
}

const crdYAML = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
`

// assertCleanedUp checks that parent (the TempDir given to Start) is empty
// and that no process mentions it on its command line.
func assertCleanedUp(t *testing.T, parent string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s not cleaned up: %d entries left", parent, len(entries))
	}
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	if len(cmdlines) == 0 {
		t.Fatal("no /proc/*/cmdline to inspect")
	}
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(parent)) {
			t.Errorf("process still running: %s: %s", f, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

func ptr[T any](v T) *T { return &v }

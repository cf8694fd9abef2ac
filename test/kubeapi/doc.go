// Package kubeapi runs a real Kubernetes API server (etcd plus kube-apiserver)
// for tests, benchmarks and the demo.
//
// There is no kubelet, scheduler or controller-manager: the server stores and
// validates objects, allocates cluster IPs (dual-stack, IPv4 primary) and runs
// admission (webhooks included), and nothing else. The ServiceAccount admission
// plugin is disabled so Pods can be created without a "default" ServiceAccount.
//
// The binaries come from BinDir: the directory named by FERROLB_K8S_BIN_DIR, or
// the one hack/build-k8s.sh builds (and caches outside the clone).
//
// Tests in a package share one server per test binary:
//
//	func TestMain(m *testing.M) { kubeapi.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		cfg := kubeapi.Shared(t)
//		...
//	}
//
// A test that needs a server of its own calls Start and Stop. If the server
// cannot be started the test fails; it is never skipped.
package kubeapi

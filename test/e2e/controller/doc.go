// Package controller holds end-to-end tests of the controller binary: the
// real ./cmd/controller runs as a process against a local control plane
// (test/cluster: kube-apiserver and etcd, the metallb.io CRDs installed) and
// every assertion goes through the Kubernetes API or the binary's HTTP
// endpoints. They cover what in-process tests cannot: leader election
// between replicas and its handover on SIGKILL and SIGTERM, restarts that
// must never hand out an address twice, the authenticated HTTPS metrics
// endpoint and the health probes, the memberlist Secret, --lb-class with
// METALLB_NAMESPACE, and configuration errors surfacing as events and
// metrics. Allocation semantics themselves are tested in-process in
// internal/k8s/controller.
//
// One cluster serves the whole package (started in TestMain). It needs
// etcd and kube-apiserver: FERROLB_K8S_BIN_DIR, or hack/build-k8s.sh builds
// them on first use. The tests fail, never skip, when it cannot start.
package controller

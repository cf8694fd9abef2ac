// Package cluster runs a local control plane for end-to-end tests, the
// benchmarks and the demo: a real API server (test/kubeapi) with the
// metallb.io CRDs installed, the project's binaries started as processes
// against it, and small helpers to apply YAML and wait for Services.
package cluster

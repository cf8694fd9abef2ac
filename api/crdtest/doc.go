// Package crdtest holds only tests: it installs the generated metallb.io
// CRDs (config/crd/bases) into a real API server (package test/kubeapi)
// and checks that the schemas default, accept and reject objects the way
// the API promises, with no admission webhook running. It also checks the
// kustomize overlay that turns on BGPPeer webhook conversion.
package crdtest

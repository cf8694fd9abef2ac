// Package manifests tests the deployment artefacts: the kustomize layout
// under config/ (and its rendered copies in config/manifests), the Helm
// chart in charts/metallb and the Dockerfile.
//
// The tests render the manifests with the pinned kustomize and helm that
// hack/tools.sh installs, check their content (webhook names and paths,
// replicas, host network and capabilities, environment, ports, alerts),
// have the real API server accept every object with a server-side dry run
// (strict field validation), and, in the network-namespace lab, run the
// controller and the speakers with the rendered RBAC only: each binary
// gets a kubeconfig holding a token of its ServiceAccount, and a
// LoadBalancer Service must get an address that is then answered for on
// the LAN, with no "forbidden" error in any log.
package manifests

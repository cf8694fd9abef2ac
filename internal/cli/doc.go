// Package cli is the kubectl plugin `kubectl metallb` (binary
// kubectl-metallb): argument parsing, the Kubernetes client, and dispatch
// to the commands:
//
//	convert   legacy ConfigMap configuration -> metallb.io resources (package convert)
//	explain   why a Service has, or has not, an address and who announces it (package inspect)
//	status    pools and their usage, BGP peers and sessions, configuration state (package inspect)
//
// Exit codes: 0 success, 1 failure (invalid input, API error, object not
// found), 2 usage error.
package cli

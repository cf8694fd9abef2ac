// Package bgp holds the end-to-end tests of BGP mode in the lab
// (test/lab): real speakers in node namespaces peering with real routers
// (FRR, BIRD, gobgpd) in router namespaces, checked from the routers' RIBs
// and with HTTP from a client behind a router through kube-proxy.
package bgp

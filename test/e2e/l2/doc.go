// Package l2 holds the end-to-end tests of layer 2 mode in the lab
// (test/lab): real speakers in node network namespaces, kube-proxy, backend
// pods, and a client on the same LAN that checks ARP/NDP answers with
// arping/ndisc6 and reaches the backends with HTTP.
//
// Every test asserts what a user can observe: which MAC answers for an
// address (and that only one does), the HTTP answer through kube-proxy,
// the ServiceL2Status objects, the Service's events, and the speakers'
// metallb_speaker_announced metric. The scenarios:
//
//	smoke_test.go          announce, serve, nodeAssigned event, deletion
//	family_test.go         IPv6 (NDP) and dual stack
//	policy_test.go         externalTrafficPolicy Cluster and Local (the
//	                       announcement follows the endpoint)
//	advertisement_test.go  nodeSelectors, interfaces (announceFailed),
//	                       preferredNodeSelectors (summed weights)
//	shared_test.go         allow-shared-ip: one node, one MAC
//	nodes_test.go          exclude-from-external-load-balancers label and
//	                       NetworkUnavailable condition
//	failover_test.go       owner death (link down, SIGKILL) and recovery,
//	                       with the metric
//
// The tests share one three-node lab (main_test.go), started by the first
// test and reset by each test's cleanup; each test uses its own namespace
// and its own pool of addresses, so no address is reused and the client
// never answers from a stale neighbor entry. Every wait is bounded.
package l2

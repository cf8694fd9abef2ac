// Package bgp holds the end-to-end tests of BGP mode in the lab
// (test/lab): real speakers in node namespaces peering with real routers
// (FRR, BIRD, gobgpd) in router namespaces, checked from the routers' RIBs
// (and kernels) and with HTTP from a client behind a router through
// kube-proxy.
//
// Every test asserts what a user can observe: the routes a router holds
// (next hops, communities, LOCAL_PREF, AS path), its sessions and BFD
// sessions, the HTTP answer through the router and kube-proxy (with the
// Local traffic policy, the node that served), the ServiceBGPStatus
// objects, the BGPPeer events, and the speakers' metrics. The scenarios:
//
//	smoke_test.go       ECMP through FRR (RIB and kernel), community,
//	                    HTTP, ServiceBGPStatus, metrics, withdrawal
//	routers_test.go     ECMP, communities and large communities through
//	                    BIRD and gobgpd, from a 4-byte AS
//	attributes_test.go  iBGP in a 4-byte AS: LOCAL_PREF, Community aliases,
//	                    in-place updates (no session reset); aggregation
//	                    (two Services, one /28, gone with the last)
//	selectors_test.go   BGPPeer nodeSelectors (following node labels),
//	                    BGPAdvertisement nodeSelectors and peers
//	policy_test.go      externalTrafficPolicy Local: next hops follow the
//	                    endpoints, traffic spreads over them
//	family_test.go      IPv6 sessions and prefixes, dual-stack Services
//	multihop_test.go    a router behind a transit host: no session without
//	                    ebgpMultiHop, routes with it
//	failures_test.go    TCP MD5 (Secret), a wrong key and an unreachable
//	                    peer: their state in metrics, log and events, no
//	                    harm to the other sessions
//	bfd_test.go         BFD 100 ms x 3: a dead node's next hop goes
//	                    fast; echo mode: a router that stops looping
//	                    echo packets loses the next hops in well under
//	                    the Control detection time
//	restart_test.go     graceful restart keeps the routes across a speaker
//	                    restart (and, without it, they go)
//
// The tests share one three-node lab (main_test.go), started by the first
// test, with the routers added as tests first ask for them; each test's
// cleanup deletes what it made and waits until every router's RIB is
// empty again. Each test uses its own namespace, BGPPeer names and
// addresses. The speaker wants one myASN per node, so the peers of one
// test share it. Every wait is bounded; the bounds are generous because
// the machine is small and shared.
package bgp

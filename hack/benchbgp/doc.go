// Command benchbgp measures the BGP speaker against the targets of the BGP
// benchmark issue and prints a Markdown table (`make bench` runs it). It
// reports figures and asserts nothing. Two labs (test/lab), three nodes
// each, the controller running:
//
//  1. Latency (router lab): Services created one at a time, each with a
//     pinned IP and its endpoints (a ready backend on every node) written
//     a moment before it; time from creation to the first path, and to a
//     path from each of the 3 nodes, in FRR's RIB. FRR is asked through
//     bgpd's vtysh socket (`show bgp ipv4 unicast <prefix> json`, about
//     0.1 ms a query) every -poll. Target: median < 100 ms.
//  2. Node failure (router lab): two FRR routers peer with every node, frr
//     with BFD at 100 ms x 3 (BFDProfile on the BGPPeer, the same timers
//     in bfdd) and frrhold without BFD at a hold time of 3 s. Each trial
//     takes a node's LAN link down, then SIGKILLs its speaker, and times
//     until each router dropped that node's path of the probe route (and
//     frr's BFD session went down), then brings the node back (link up,
//     speaker restarted) and waits for every path and BFD session.
//     Target: < 500 ms with BFD.
//  3. Scale (scale lab, peering with FRR, BIRD and GoBGP): -services
//     Services, each with an EndpointSlice, created at once; time until
//     FRR holds a path from every node for every one (its per-neighbour
//     accepted prefix counts, read every 20 ms; every router's RIB is
//     checked in full at the end), versus a fresh API server alone
//     creating the same Services and writing their statuses (same
//     concurrency), with and without their EndpointSlices. -rounds (3)
//     rounds, each the baselines then a lab; the ratio reported is the
//     median of the rounds', and only the last round goes on to the full
//     RIB check and the memory. Target: within 2x.
//  4. Memory (scale lab, after the scale run and -settle, 40 s of steady
//     state): each speaker's VmRSS and VmHWM with those Services announced
//     to 3 peers. Target: < 60 MiB.
//
// Pools live in 198.19.0.0/16 (the API server's Service range is
// 198.18.0.0/16). Progress goes to stderr, the table to stdout. Every wait
// is bounded; the labs are torn down on return and on SIGINT/SIGTERM.
// Diagnostics printed with the scale run: the CPU each lab process used
// (children of this program, from /proc), the API server's write requests,
// and the speaker's largest memory mappings. -compare-without-speakers
// also times the scale workload on a lab without speakers;
// -compare-busy-loops N times the API-server-alone baseline again beside N
// busy loops (arithmetic only, no API request); -keep-dir keeps
// the labs' logs; -pprof-port saves the speakers' heap profiles after the
// scale run (and with -cpu-profile node1's CPU profile during it);
// -apiserver-profile saves the API server's CPU profile and goroutines
// (the baselines' too).
package main

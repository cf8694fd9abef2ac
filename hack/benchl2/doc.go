// Command benchl2 measures the layer 2 speaker against the targets of the
// speaker benchmark issue and prints a Markdown table (`make bench` runs it
// after hack/bench). It reports figures and asserts nothing:
//
//  1. Failover: a three-node lab (test/lab) with a few auto-assigned L2
//     Services, backends on every node. Each trial picks the Service owned
//     by the next node in turn (so the owner rotates), has the client send
//     a GET to its IP every 50 ms (fresh connection, 250 ms timeout), then
//     kills the owner hard (link down, then SIGKILL of its speaker) and
//     times link down -> first successful response to a request sent after
//     the link went down. A passive capture on the client also times the
//     first ARP packet for the IP from another node. The node then comes
//     back (link up, speaker restarted) and the trial waits until every IP
//     is answered by its original owner alone, several checks in a row,
//     counting checks where two MACs answered. Targets: median < 1 s,
//     worst < 2 s, no conflict.
//  2. Scale: -services L2 Services with one endpoint each (spread over the
//     nodes) created at once on a fresh three-node lab; time until a raw
//     ARP prober in the client namespace (asking for each assigned IP not
//     answered yet, every 250 ms) has heard an answer for every IP of the
//     pool, versus a fresh API server alone creating the same Services and
//     writing their statuses (same concurrency), with and without their
//     EndpointSlices. -rounds (3) rounds, each the baselines then a lab;
//     the ratio reported is the median of the rounds'. Target: within 2x.
//  3. Memory: each speaker's VmRSS and VmHWM with those Services announced,
//     read after -settle (40 s: steady state, with memberlist, heartbeats
//     and periodic checks run), and how much of it is anonymous versus
//     file-backed (the binary's own pages). Target: < 60 MiB.
//
// Diagnostics printed with the scale run: the CPU each lab process used
// during it (children of this program, from /proc), the speakers' layer2
// reconcile count (controller-runtime's metric, read from each speaker's
// metrics endpoint inside its node), and the API server's write requests.
// -compare-without-speakers also times the same workload on a lab without
// speakers; -compare-busy-loops N times the API-server-alone baseline again
// beside N busy loops (arithmetic only, no API request): how much mere
// competition for the CPUs slows the API server. -pprof-port with
// -cpu-profile saves the speakers' profiles, -apiserver-profile the API
// server's (CPU, and its goroutines halfway), the baselines' included.
//
// Progress goes to stderr, the table to stdout. Every wait is bounded; the
// labs are torn down on return and on SIGINT/SIGTERM.
package main

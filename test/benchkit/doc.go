// Package benchkit holds what the benchmark programs (hack/bench,
// hack/benchl2, hack/benchbgp) share, so that each program keeps only its
// own phases:
//
//   - a program's frame: the final Markdown table, number formats and
//     progress lines (table.go, format.go), signal handling and exit
//     (main.go), the flags the speaker benchmarks share (flags.go), the
//     lab's start and stop (lab.go);
//   - medians and percentiles (stats.go);
//   - the Service workload: LoadBalancer Services created concurrently,
//     with EndpointSlices and the status the controller would write
//     (workload.go), an informer counting the Services with an IP
//     (assigned.go), the API-server-alone baseline that times it on a
//     fresh API server (baseline.go), and the runs a scale run is
//     compared with (compare.go);
//   - what is read from the processes and the API server: memory from
//     /proc/<pid>/status (procstatus.go, lab.go for the speakers),
//     per-process CPU from /proc (cpu.go), the API server's write
//     requests from its metrics (apimetrics.go), the speakers' pprof
//     profiles (pprof.go);
//   - running code inside a network namespace of the lab (netns.go).
//
// It asserts nothing: the programs report figures.
package benchkit

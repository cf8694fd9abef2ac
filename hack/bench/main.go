// Command bench measures FerroLB against the targets of the benchmark
// issue and prints a Markdown table (`make bench`). It reports figures and
// asserts nothing:
//
//  1. Throughput: on a fresh API server, -concurrency goroutines (16)
//     create -services LoadBalancer Services (3,000) with the controller
//     running; the time runs until an informer has seen all of them with
//     an IP. Then, on another fresh API server, the API server's own
//     limit: a plain client creates the same Services the same way and
//     hands each one, as soon as it exists, to as many goroutines that
//     write the status the controller would (the controller's 16 workers,
//     minus the controller; -direct-events adds the IPAllocated event the
//     controller also records). Target: the controller within 1.5x.
//     -rounds repeats the pair and reports medians.
//  2. Memory: the controller's resident set (VmRSS, and the peak VmHWM)
//     with -memory-services Services (1,000) assigned and settled.
//     Target: under 60 MiB.
//  3. Allocator: the Go benchmarks of internal/core/ipam ("not available"
//     when they do not build or do not exist).
//
// Every measurement runs on its own fresh cluster, stopped afterwards (also
// on error or interrupt); every wait is bounded by -phase-timeout. Progress,
// with the API server's write counts and latencies per run, goes to stderr;
// the table goes to stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/test/benchkit"
)

// MetalLB's figures measured on this machine, for the table.
const (
	metalLBController = 38.6 // seconds to assign 3,000 Services
	metalLBDirect     = 12.4 // seconds for the direct client in the same run
	metalLBRSS        = 77   // MiB with 1,000 Services
)

type options struct {
	services, memoryServices, concurrency, rounds int
	phaseTimeout, settle                          time.Duration
	skipIPAM, keepLogs, directEvents              bool
	controllerArgs                                []string
}

// row is one line of the final table.
type row = benchkit.Row

func main() {
	var o options
	var pprof string
	flag.IntVar(&o.services, "services", 3000, "Services created in the throughput runs")
	flag.IntVar(&o.memoryServices, "memory-services", 1000, "Services assigned before reading the controller's memory")
	flag.IntVar(&o.concurrency, "concurrency", 16, "goroutines creating Services (same in both throughput runs)")
	flag.IntVar(&o.rounds, "rounds", 1, "throughput runs (controller, then direct) to take the median of")
	flag.DurationVar(&o.phaseTimeout, "phase-timeout", 5*time.Minute, "bound on each wait")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "wait after the last assignment before reading memory")
	flag.BoolVar(&o.skipIPAM, "skip-ipam", false, "do not run the allocator's Go benchmarks")
	flag.BoolVar(&o.directEvents, "direct-events", false, "the direct client also records the IPAllocated event the controller records")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep each cluster's directory (process logs) and print where")
	flag.StringVar(&pprof, "pprof", "", "serve the controller's pprof on this address (e.g. 127.0.0.1:6060)")
	flag.Parse()
	if o.services < 1 || o.memoryServices < 1 || o.concurrency < 1 || o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: -services, -memory-services, -concurrency and -rounds must be positive")
		os.Exit(2)
	}
	if pprof != "" {
		o.controllerArgs = append(o.controllerArgs, "--pprof-bind-address", pprof)
	}

	benchkit.Main("bench", func(ctx context.Context) ([]row, error) { return run(ctx, o) }, func() {
		if builtBinDir != "" {
			_ = os.RemoveAll(builtBinDir)
		}
	})
}

// run performs the measurements in turn; on error it returns the rows
// measured so far.
func run(ctx context.Context, o options) ([]row, error) {
	var rows []row

	// Each round pairs a controller run with a direct run, close in time;
	// the table shows medians, which a noisy shared machine needs.
	var ctl, direct, ratio []float64
	for r := 1; r <= o.rounds; r++ {
		progress("throughput round %d/%d, controller: %d Services, %d creators", r, o.rounds, o.services, o.concurrency)
		c, err := controllerRun(ctx, o)
		if err != nil {
			return rows, fmt.Errorf("throughput with the controller: %w", err)
		}
		progress("throughput round %d/%d, direct client: %d Services, %d creators", r, o.rounds, o.services, o.concurrency)
		d, err := directRun(ctx, o)
		if err != nil {
			return rows, fmt.Errorf("throughput with the direct client: %w", err)
		}
		ctl, direct, ratio = append(ctl, c.Seconds()), append(direct, d.Seconds()), append(ratio, c.Seconds()/d.Seconds())
	}
	n, writes := benchkit.Thousands(o.services), "status"
	if o.directEvents {
		writes = "status + event"
	}
	rows = append(rows,
		row{"create " + n + " Services, controller assigns", summary(ctl, "%.1f s"), "", fmt.Sprintf("%.1f s at 3,000", metalLBController)},
		row{"create " + n + " Services, client writes " + writes + " (API limit)", summary(direct, "%.1f s"), "", fmt.Sprintf("%.1f s at 3,000", metalLBDirect)},
		row{"controller / API limit", summary(ratio, "%.2fx"), "<= 1.5x", fmt.Sprintf("%.1fx", metalLBController/metalLBDirect)},
	)

	progress("memory: %d Services", o.memoryServices)
	mem, err := memoryRun(ctx, o)
	if err != nil {
		return rows, fmt.Errorf("memory: %w", err)
	}
	m := benchkit.Thousands(o.memoryServices)
	rows = append(rows,
		row{"controller RSS, idle (pool loaded, 1 Service)", benchkit.MiB(mem.idle), "", ""},
		row{"controller RSS, " + m + " Services settled", benchkit.MiB(mem.settled), "< 60 MiB", fmt.Sprintf("%d MiB at 1,000", metalLBRSS)},
		row{"controller peak RSS (VmHWM), " + m + " Services", benchkit.MiB(mem.peak), "", ""},
	)

	if !o.skipIPAM {
		progress("allocator: go test -bench ./internal/core/ipam")
		rows = append(rows, ipamRows(ctx, o.phaseTimeout)...)
	}
	return rows, nil
}

// progress writes a progress line to stderr.
var progress = benchkit.NewProgress(os.Stderr, "bench", "15:04:05")

// summary formats the median of xs, and every value when there are several.
func summary(xs []float64, format string) string {
	med := benchkit.Median(xs)
	if len(xs) == 1 {
		return fmt.Sprintf(format, med)
	}
	all := make([]string, len(xs))
	for i, x := range xs {
		all[i] = fmt.Sprintf(format, x)
	}
	return fmt.Sprintf(format+" (median; runs: %s)", med, strings.Join(all, ", "))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

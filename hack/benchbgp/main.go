package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/lab"
)

// MetalLB's figures from the issue, for the table.
const (
	metalLBScale       = "500 Services: 11.6 s, ~6x"
	metalLBFailover    = "2.5 s (native, no BFD, hold 3 s)"
	metalLBFailoverBFD = "no BFD in native mode; FRR bfdd default 300 ms x 3: ~900 ms"
	metalLBRSS         = ""
	latencyTarget      = "< 100 ms"
	scaleTarget        = "<= 2x"
	failoverTarget     = "< 500 ms"
	memoryTarget       = "< 60 MiB"
)

type options struct {
	benchkit.SpeakerFlags
	latencyServices, services, trials    int
	skipLatency, skipFailover, skipScale bool
	poll, gap, settle                    time.Duration
}

// row is one line of the final table.
type row = benchkit.Row

func main() {
	var o options
	o.SpeakerFlags.Register(flag.CommandLine)
	flag.IntVar(&o.latencyServices, "latency-services", 20, "Services created one at a time in the latency run")
	flag.IntVar(&o.services, "services", 1000, "Services created at once in the scale run")
	flag.IntVar(&o.trials, "trials", 6, "node failure trials (the victim rotates over the nodes)")
	flag.BoolVar(&o.skipLatency, "skip-latency", false, "do not run the one-at-a-time latency run")
	flag.BoolVar(&o.skipFailover, "skip-failover", false, "do not run the node failure trials")
	flag.BoolVar(&o.skipScale, "skip-scale", false, "do not run the scale and memory measurements (nor their baseline)")
	flag.DurationVar(&o.poll, "poll", 5*time.Millisecond, "interval between two queries of FRR's RIB (latency and failover runs)")
	flag.DurationVar(&o.gap, "gap", 300*time.Millisecond, "latency run: pause between a Service's endpoints and its creation, and after its route")
	flag.DurationVar(&o.settle, "settle", 40*time.Second, "wait after the last route arrived before reading memory (steady state: keepalives, heartbeats and periodic checks have run)")
	flag.Parse()
	if o.latencyServices < 1 || o.services < 1 || o.Concurrency < 1 || o.trials < 1 || o.poll <= 0 {
		fmt.Fprintln(os.Stderr, "benchbgp: -latency-services, -services, -concurrency, -trials and -poll must be positive")
		os.Exit(2)
	}
	if o.services > maxServices || o.latencyServices > maxLatencyServices {
		fmt.Fprintf(os.Stderr, "benchbgp: at most %d services and %d latency services\n", maxServices, maxLatencyServices)
		os.Exit(2)
	}
	benchkit.Main("benchbgp", func(ctx context.Context) ([]row, error) { return run(ctx, o) }, lab.RemoveBinaries)
}

// run performs the measurements in turn; on error it returns the rows
// measured so far.
func run(ctx context.Context, o options) ([]row, error) {
	var rows []row
	if !o.skipLatency || !o.skipFailover {
		r, err := routerLabRun(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			return rows, err
		}
	}
	if !o.skipScale {
		progress("scale: %d Services at once, 3 nodes, 3 routers (FRR, BIRD, GoBGP)", o.services)
		r, err := scaleRun(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("scale: %w", err)
		}
	}
	return rows, nil
}

// progress writes a progress line to stderr.
var progress = benchkit.NewProgress(os.Stderr, "benchbgp", "15:04:05.000")

func msec(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// each lists durations in milliseconds: "81, 95, 102".
func each(xs []time.Duration) string {
	parts := make([]string, len(xs))
	for i, d := range xs {
		parts[i] = fmt.Sprint(d.Round(time.Millisecond).Milliseconds())
	}
	return strings.Join(parts, ", ")
}

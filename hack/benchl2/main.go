package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/lab"
)

// MetalLB's figures from the issue, for the table.
const (
	metalLBFailover = "5-7 s median"
	metalLBScale    = "18-23 s vs 3.7 s"
	metalLBRSS      = "85 MiB"
)

type options struct {
	benchkit.SpeakerFlags
	trials, services        int
	skipFailover, skipScale bool
	settle                  time.Duration
	httpTimeout, httpEvery  time.Duration
}

// row is one line of the final table.
type row = benchkit.Row

func main() {
	var o options
	o.SpeakerFlags.Register(flag.CommandLine)
	flag.IntVar(&o.trials, "trials", 10, "failover trials")
	flag.IntVar(&o.services, "services", 1000, "L2 Services in the scale run")
	flag.BoolVar(&o.skipFailover, "skip-failover", false, "do not run the failover trials")
	flag.BoolVar(&o.skipScale, "skip-scale", false, "do not run the scale and memory measurements")
	flag.DurationVar(&o.settle, "settle", 40*time.Second, "wait after the last IP answered before reading memory (steady state: heartbeats, memberlist push-pull and periodic checks have run)")
	flag.DurationVar(&o.httpTimeout, "http-timeout", 250*time.Millisecond, "timeout of each failover request")
	flag.DurationVar(&o.httpEvery, "http-interval", 50*time.Millisecond, "interval between failover requests")
	flag.Parse()
	if o.trials < 1 || o.services < 1 || o.Concurrency < 1 {
		fmt.Fprintln(os.Stderr, "benchl2: -trials, -services and -concurrency must be positive")
		os.Exit(2)
	}
	if o.services > maxServices {
		fmt.Fprintf(os.Stderr, "benchl2: at most %d services\n", maxServices)
		os.Exit(2)
	}
	benchkit.Main("benchl2", func(ctx context.Context) ([]row, error) { return run(ctx, o) }, lab.RemoveBinaries)
}

// run performs the measurements in turn; on error it returns the rows
// measured so far.
func run(ctx context.Context, o options) ([]row, error) {
	var rows []row
	if !o.skipFailover {
		progress("failover: %d trials", o.trials)
		r, err := failoverRun(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("failover: %w", err)
		}
	}
	if !o.skipScale {
		progress("scale: %d Services", o.services)
		r, err := scaleRun(ctx, o)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("scale: %w", err)
		}
	}
	return rows, nil
}

// progress writes a progress line to stderr.
var progress = benchkit.NewProgress(os.Stderr, "benchl2", "15:04:05.000")

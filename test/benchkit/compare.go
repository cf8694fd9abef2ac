package benchkit

import (
	"context"
	"fmt"
	"time"
)

// Comparison is what a speaker benchmark's scale run is compared with.
type Comparison struct {
	Direct       time.Duration // the API server alone: Services and their statuses
	DirectCPU    string        // the CPU it used
	DirectSlices time.Duration // the same plus an EndpointSlice per Service
	Bare         time.Duration // a lab without speakers (-compare-without-speakers)
	BareCPU      string        // the CPU that lab's processes used
	Busy         time.Duration // Direct beside busy loops (-compare-busy-loops)
	BusyCPU      string        // the CPU used then, the loops' included
}

// CompareScale runs, in turn, the API-server-alone baseline of n Services
// without and with EndpointSlices (baseline), then, with
// -compare-without-speakers, the same workload on a lab without speakers
// (bare), and with -compare-busy-loops the baseline without slices again
// beside that many busy loops (StartBusyLoops). Each returns its time and
// the CPU used.
func CompareScale(ctx context.Context, f SpeakerFlags, n int, progress Progress,
	baseline func(ctx context.Context, slices bool) (time.Duration, string, error),
	bare func(ctx context.Context) (time.Duration, string, error)) (Comparison, error) {
	var c Comparison
	var err error
	progress("baseline: a fresh API server alone, %d Services created and their statuses written, %d creators", n, f.Concurrency)
	if c.Direct, c.DirectCPU, err = baseline(ctx, false); err != nil {
		return c, fmt.Errorf("baseline: %w", err)
	}
	progress("baseline with EndpointSlices too: the same plus one slice per Service")
	if c.DirectSlices, _, err = baseline(ctx, true); err != nil {
		return c, fmt.Errorf("baseline with slices: %w", err)
	}
	if f.BusyLoops > 0 {
		progress("baseline beside %d busy loops (arithmetic only: no memory traffic, no system calls, no API requests)", f.BusyLoops)
		stop, err := StartBusyLoops(f.BusyLoops)
		if err != nil {
			return c, err
		}
		c.Busy, c.BusyCPU, err = baseline(ctx, false)
		stop()
		if err != nil {
			return c, fmt.Errorf("baseline beside busy loops: %w", err)
		}
	}
	if f.WithoutSpeakers {
		progress("lab without speakers: %d Services at once, the controller alone assigns", n)
		if c.Bare, c.BareCPU, err = bare(ctx); err != nil {
			return c, fmt.Errorf("lab without speakers: %w", err)
		}
	}
	return c, nil
}

// DiagnosticRows are the table rows of the first round's diagnostics, for
// those the flags asked for: the lab without speakers (timed until the
// controller has assigned every IP) and the baseline beside busy loops.
func DiagnosticRows(f SpeakerFlags, first Comparison) []Row {
	var rows []Row
	if f.WithoutSpeakers {
		rows = append(rows,
			Row{"scale, same workload on a lab without speakers: controller assigned every IP (first round)", Secs(first.Bare), "", ""},
			Row{"scale, CPU used by the lab's processes without speakers", first.BareCPU, "", ""},
		)
	}
	if f.BusyLoops > 0 && first.Direct > 0 {
		rows = append(rows,
			Row{fmt.Sprintf("scale, API server alone beside %d busy loops (arithmetic only; first round): time, and over the plain baseline", f.BusyLoops),
				fmt.Sprintf("%s, %.2fx", Secs(first.Busy), first.Busy.Seconds()/first.Direct.Seconds()), "", ""},
			Row{"scale, CPU used then (the plain baseline's: " + first.DirectCPU + ")", first.BusyCPU, "", ""},
		)
	}
	return rows
}

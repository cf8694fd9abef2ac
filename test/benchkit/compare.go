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
}

// CompareScale runs, in turn, the API-server-alone baseline of n Services
// without and with EndpointSlices (baseline), then, with
// -compare-without-speakers, the same workload on a lab without speakers
// (bare). Each returns its time and the CPU used.
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
	if f.WithoutSpeakers {
		progress("lab without speakers: %d Services at once, the controller alone assigns", n)
		if c.Bare, c.BareCPU, err = bare(ctx); err != nil {
			return c, fmt.Errorf("lab without speakers: %w", err)
		}
	}
	return c, nil
}

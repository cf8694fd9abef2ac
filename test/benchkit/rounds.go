package benchkit

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Round is one round of a scale comparison: the baselines measured just
// before the lab run, and the lab run's figure.
type Round struct {
	Comparison
	Lab time.Duration
}

// Ratio is the lab's time over the API server alone's.
func (r Round) Ratio() float64 { return r.Lab.Seconds() / r.Direct.Seconds() }

// RatioSlices is the lab's time over the API server alone's with slices.
func (r Round) RatioSlices() float64 { return r.Lab.Seconds() / r.DirectSlices.Seconds() }

// ScaleRounds runs rounds of the scale comparison: in each, the baselines
// (CompareScale; the lab without speakers and the busy loops only in the
// first), then lab,
// told whether it is the last round (which alone measures what follows the
// burst: memory, steady state). Each ratio pairs a lab run with the
// baselines just before it, so a machine whose speed drifts during the
// benchmark skews a round, not the median. On error it returns the rounds
// completed so far.
func ScaleRounds(ctx context.Context, f SpeakerFlags, n int, progress Progress,
	baseline func(ctx context.Context, slices bool) (time.Duration, string, error),
	bare func(ctx context.Context) (time.Duration, string, error),
	lab func(ctx context.Context, last bool) (time.Duration, error)) ([]Round, error) {
	rounds := max(f.Rounds, 1)
	var out []Round
	for i := range rounds {
		if rounds > 1 {
			progress("round %d of %d", i+1, rounds)
		}
		g := f
		g.WithoutSpeakers = f.WithoutSpeakers && i == 0
		if i > 0 {
			g.BusyLoops = 0
		}
		c, err := CompareScale(ctx, g, n, progress, baseline, bare)
		if err != nil {
			return out, err
		}
		d, err := lab(ctx, i == rounds-1)
		if err != nil {
			return out, err
		}
		r := Round{Comparison: c, Lab: d}
		progress("  round %d: %.2f s / %.2f s = %.2fx (%.2fx against the run with slices)", i+1, d.Seconds(), c.Direct.Seconds(), r.Ratio(), r.RatioSlices())
		out = append(out, r)
	}
	return out, nil
}

// MedianRatios is the median of the rounds' ratios, without and with
// slices: "2.41x (1.72x against the runs with slices), median of 3 rounds".
func MedianRatios(rs []Round) string {
	var a, b []float64
	for _, r := range rs {
		a = append(a, r.Ratio())
		b = append(b, r.RatioSlices())
	}
	if len(rs) == 1 {
		return fmt.Sprintf("%.2fx (%.2fx against the run with slices)", a[0], b[0])
	}
	return fmt.Sprintf("%.2fx (%.2fx against the runs with slices), median of %d rounds", Median(a), Median(b), len(rs))
}

// EachRound lists what of each round fn formats, in order: "3.1x, 2.4x".
func EachRound(rs []Round, fn func(Round) string) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fn(r))
	}
	return strings.Join(parts, ", ")
}

// Secs formats a duration in seconds: "4.13 s".
func Secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// RoundRows are the table rows of the rounds: the lab's time (labRow
// names it), both baselines' and the ratios, the median against target
// and MetalLB's figure, then each round's; none without rounds.
func RoundRows(rs []Round, n, labRow, ratioRow, target, metalLB string) []Row {
	if len(rs) == 0 {
		return nil
	}
	each := func(fn func(Round) string) string { return EachRound(rs, fn) }
	return []Row{
		{labRow + ", each round", each(func(r Round) string { return Secs(r.Lab) }), "", ""},
		{"scale, API server alone: create " + n + " Services + write statuses, each round", each(func(r Round) string { return Secs(r.Direct) }), "", ""},
		{"scale, API server alone: the same + " + n + " EndpointSlices, each round", each(func(r Round) string { return Secs(r.DirectSlices) }), "", ""},
		{ratioRow, MedianRatios(rs), target, metalLB},
		{"scale, the same ratio in each round (against the run with slices)", each(func(r Round) string {
			return fmt.Sprintf("%.2fx (%.2fx)", r.Ratio(), r.RatioSlices())
		}), "", ""},
	}
}

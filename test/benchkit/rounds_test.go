package benchkit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestScaleRounds(t *testing.T) {
	var calls []string
	base := 2 * time.Second
	baseline := func(_ context.Context, slices bool) (time.Duration, string, error) {
		calls = append(calls, fmt.Sprint("baseline slices=", slices))
		if slices {
			return base + time.Second, "", nil
		}
		return base, "", nil
	}
	bare := func(context.Context) (time.Duration, string, error) {
		calls = append(calls, "bare")
		return 5 * time.Second, "", nil
	}
	labs := []time.Duration{6 * time.Second, 3 * time.Second, 9 * time.Second}
	lab := func(_ context.Context, last bool) (time.Duration, error) {
		calls = append(calls, fmt.Sprint("lab last=", last))
		d := labs[0]
		labs = labs[1:]
		return d, nil
	}
	quiet := func(string, ...any) {}
	rs, err := ScaleRounds(context.Background(), SpeakerFlags{Rounds: 3, WithoutSpeakers: true}, 10, quiet, baseline, bare, lab)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"baseline slices=false", "baseline slices=true", "bare", "lab last=false",
		"baseline slices=false", "baseline slices=true", "lab last=false",
		"baseline slices=false", "baseline slices=true", "lab last=true",
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// Ratios 3, 1.5, 4.5 (2, 1, 3 with slices): medians 3 and 2.
	if got, want := MedianRatios(rs), "3.00x (2.00x against the runs with slices), median of 3 rounds"; got != want {
		t.Errorf("MedianRatios = %q; want %q", got, want)
	}
	if got, want := EachRound(rs, func(r Round) string { return Secs(r.Lab) }), "6.00 s, 3.00 s, 9.00 s"; got != want {
		t.Errorf("EachRound = %q; want %q", got, want)
	}
	if rs[0].Bare != 5*time.Second || rs[1].Bare != 0 {
		t.Errorf("the lab without speakers runs in the first round only: %+v", rs)
	}
	if got, want := MedianRatios(rs[:1]), "3.00x (2.00x against the run with slices)"; got != want {
		t.Errorf("one round: %q; want %q", got, want)
	}
	rows := RoundRows(rs, "10", "scale, lab", "scale, ratio", "<= 2x", "6x")
	if len(rows) != 5 || rows[0] != (Row{"scale, lab, each round", "6.00 s, 3.00 s, 9.00 s", "", ""}) ||
		rows[3] != (Row{"scale, ratio", "3.00x (2.00x against the runs with slices), median of 3 rounds", "<= 2x", "6x"}) ||
		rows[4][1] != "3.00x (2.00x), 1.50x (1.00x), 4.50x (3.00x)" {
		t.Errorf("RoundRows = %q", rows)
	}
	if rows := RoundRows(nil, "10", "a", "b", "", ""); rows != nil {
		t.Errorf("RoundRows without rounds = %q", rows)
	}

	// A failing lab run stops the rounds and keeps those done.
	boom := errors.New("boom")
	n := 0
	rs, err = ScaleRounds(context.Background(), SpeakerFlags{Rounds: 3}, 10, quiet, baseline, bare,
		func(context.Context, bool) (time.Duration, error) {
			if n++; n == 2 {
				return 0, boom
			}
			return time.Second, nil
		})
	if !errors.Is(err, boom) || len(rs) != 1 {
		t.Errorf("after a failing second round: %d rounds, error %v", len(rs), err)
	}
}

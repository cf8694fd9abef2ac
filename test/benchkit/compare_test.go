package benchkit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCompareScale(t *testing.T) {
	var calls []string
	baseline := func(_ context.Context, slices bool) (time.Duration, string, error) {
		calls = append(calls, fmt.Sprint("baseline slices=", slices))
		if slices {
			return 3 * time.Second, "ignored", nil
		}
		return 2 * time.Second, "apiserver 1.0 s", nil
	}
	bare := func(context.Context) (time.Duration, string, error) {
		calls = append(calls, "bare")
		return 5 * time.Second, "controller 2.0 s", nil
	}
	quiet := func(string, ...any) {}

	got, err := CompareScale(context.Background(), SpeakerFlags{}, 10, quiet, baseline, bare)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Comparison{Direct: 2 * time.Second, DirectCPU: "apiserver 1.0 s", DirectSlices: 3 * time.Second}, got); diff != "" {
		t.Errorf("without -compare-without-speakers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"baseline slices=false", "baseline slices=true"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	calls = nil
	got, err = CompareScale(context.Background(), SpeakerFlags{WithoutSpeakers: true}, 10, quiet, baseline, bare)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bare != 5*time.Second || got.BareCPU != "controller 2.0 s" || len(calls) != 3 {
		t.Errorf("with -compare-without-speakers: %+v after %v", got, calls)
	}

	boom := errors.New("boom")
	_, err = CompareScale(context.Background(), SpeakerFlags{}, 10, quiet,
		func(_ context.Context, slices bool) (time.Duration, string, error) {
			if slices {
				return 0, "", boom
			}
			return time.Second, "", nil
		}, bare)
	if !errors.Is(err, boom) || err.Error() != "baseline with slices: boom" {
		t.Errorf("error %v; want the slices baseline's, wrapped", err)
	}
}

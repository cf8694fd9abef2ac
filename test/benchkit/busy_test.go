package benchkit

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets StartBusyLoops re-run this test binary as the busy loops.
func TestMain(m *testing.M) {
	if runBusyLoops() {
		return
	}
	os.Exit(m.Run())
}

func busyTicks(s CPUSample) (procs int, ticks uint64) {
	for _, p := range s {
		if p.name == "busyloop" {
			procs++
			ticks += p.ticks
		}
	}
	return procs, ticks
}

func TestStartBusyLoops(t *testing.T) {
	stop, err := StartBusyLoops(1)
	if err != nil {
		t.Fatal(err)
	}
	// A loop spinning for 0.5 s has used CPU ticks (100 per second) by then.
	var procs int
	var ticks uint64
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		if procs, ticks = busyTicks(SampleChildren()); procs == 1 && ticks >= 10 {
			break
		}
	}
	stop()
	if procs != 1 || ticks < 10 {
		t.Fatalf("busyloop children %d with %d ticks; want one spinning", procs, ticks)
	}
	if procs, _ := busyTicks(SampleChildren()); procs != 0 {
		t.Errorf("%d busyloop children left after stop", procs)
	}
}

func TestCompareScaleBusyLoops(t *testing.T) {
	var during []int
	baseline := func(_ context.Context, slices bool) (time.Duration, string, error) {
		// The child names itself once started: give it up to 1 s.
		procs := 0
		for i := 0; i < 50 && procs == 0; i++ {
			if procs, _ = busyTicks(SampleChildren()); procs == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		during = append(during, procs)
		if slices {
			return 3 * time.Second, "", nil
		}
		if procs > 0 {
			return 5 * time.Second, "busyloop 9.0 s", nil
		}
		return 2 * time.Second, "apiserver 1.0 s", nil
	}
	c, err := CompareScale(context.Background(), SpeakerFlags{BusyLoops: 2}, 10, func(string, ...any) {}, baseline, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(during) != 3 || during[0] != 0 || during[1] != 0 || during[2] != 1 {
		t.Fatalf("busy-loop processes during the baselines: %v; want only the third beside one", during)
	}
	if c.Busy != 5*time.Second || c.BusyCPU != "busyloop 9.0 s" || c.Direct != 2*time.Second {
		t.Errorf("comparison %+v", c)
	}
	rows := DiagnosticRows(SpeakerFlags{BusyLoops: 2}, c)
	if len(rows) != 2 || !strings.Contains(rows[0][0], "beside 2 busy loops") || rows[0][1] != "5.00 s, 2.50x" ||
		!strings.Contains(rows[1][0], "apiserver 1.0 s") || rows[1][1] != "busyloop 9.0 s" {
		t.Errorf("rows %q", rows)
	}
	if rows := DiagnosticRows(SpeakerFlags{}, c); len(rows) != 0 {
		t.Errorf("rows without the flags: %q", rows)
	}
	if procs, _ := busyTicks(SampleChildren()); procs != 0 {
		t.Errorf("%d busyloop children left", procs)
	}
}

package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/test/benchkit"
)

// latencyBound bounds the wait for one Service's route.
const latencyBound = 10 * time.Second

// latencySample is one Service of the latency run, times from just before
// its creation.
type latencySample struct {
	name          string
	status        time.Duration // its ingress IP seen by a watch (0: not seen)
	first, all    time.Duration // first path / a path from every node in frr's RIB
	gotFirst, got bool
}

// latencyRun creates the Services one at a time. Each has its endpoints
// (a ready backend on every node) written first, as if its pods were
// already running, then, after a pause, the Service itself with a pinned
// IP; frr's RIB is queried every o.poll from the moment of creation.
func (rl *routerLab) latencyRun(ctx context.Context) ([]row, error) {
	want := rl.allNodeIPs()
	var samples []latencySample
	for i := range rl.o.latencyServices {
		ip := latencyIP(i)
		prefix := host(ip)
		svc := pinned(fmt.Sprintf("lat-%d", i), ip)
		if err := rl.l.Backends(ctx, svc, rl.nodes...); err != nil {
			return latencyRows(samples, rl.o), err
		}
		if err := benchkit.Sleep(ctx, rl.o.gap); err != nil {
			return latencyRows(samples, rl.o), err
		}
		s := latencySample{name: svc.Name}
		created := make(chan error, 1)
		t0 := time.Now()
		go func() {
			_, err := rl.cs.CoreV1().Services(benchNS).Create(ctx, svc, metav1.CreateOptions{})
			created <- err
		}()
		wctx, cancel := context.WithTimeout(ctx, latencyBound)
		tick := time.NewTicker(rl.o.poll)
		var werr error
		for !s.got && werr == nil {
			peers, err := rl.bfdRIB.routePeers(wctx, prefix)
			at := time.Since(t0)
			if err != nil {
				werr = err
				break
			}
			if len(peers) > 0 && !s.gotFirst {
				s.first, s.gotFirst = at, true
			}
			if hasAll(peers, want) {
				s.all, s.got = at, true
				break
			}
			select {
			case <-wctx.Done():
				werr = fmt.Errorf("%s: %d of %d paths after %s", svc.Name, len(peers), len(want), latencyBound)
			case <-tick.C:
			}
		}
		tick.Stop()
		cancel()
		if err := <-created; err != nil {
			return latencyRows(samples, rl.o), fmt.Errorf("creating %s: %w", svc.Name, err)
		}
		if werr != nil {
			if ctx.Err() != nil {
				return latencyRows(samples, rl.o), ctx.Err()
			}
			progress("  %s: %v", svc.Name, werr)
		}
		// The watch may report the status a little after the route.
		for range 20 {
			if at, ok := rl.statuses.get(svc.Name); ok {
				s.status = at.Sub(t0)
				break
			}
			if err := benchkit.Sleep(ctx, 50*time.Millisecond); err != nil {
				return latencyRows(samples, rl.o), err
			}
		}
		progress("  %s %s created at %s: status seen %s, first path %s, all %d paths %s", svc.Name, ip, t0.Format("15:04:05.000"), msec(s.status), msec(s.first), len(want), msec(s.all))
		samples = append(samples, s)
		if err := benchkit.Sleep(ctx, rl.o.gap); err != nil {
			return latencyRows(samples, rl.o), err
		}
	}
	return latencyRows(samples, rl.o), nil
}

func latencyRows(samples []latencySample, o options) []row {
	var first, all, status []time.Duration
	missed := 0
	for _, s := range samples {
		if s.gotFirst {
			first = append(first, s.first)
		}
		if s.got {
			all = append(all, s.all)
		} else {
			missed++
		}
		if s.status > 0 {
			status = append(status, s.status)
		}
	}
	if len(samples) == 0 {
		return nil
	}
	stats := func(xs []time.Duration) string {
		if len(xs) == 0 {
			return "none"
		}
		return fmt.Sprintf("%s / %s / %s", msec(benchkit.Median(xs)), msec(benchkit.Percentile(xs, 90)), msec(slices.Max(xs)))
	}
	n := len(samples)
	rows := []row{
		{fmt.Sprintf("latency, Service created -> first path in FRR's RIB, median / p90 / worst of %d", len(first)), stats(first), latencyTarget, "80 ms"},
		{fmt.Sprintf("latency, Service created -> a path from each of the 3 nodes, median / p90 / worst of %d", len(all)), stats(all), latencyTarget, "120 ms"},
		{"latency, of which: Service created -> its IP in the status, seen by a watch, median / p90 / worst", stats(status), "", ""},
		{"latency, each Service, all 3 paths (ms)", each(all), "", ""},
	}
	if missed > 0 {
		rows = append(rows, row{fmt.Sprintf("latency, Services without all paths within %s", latencyBound), fmt.Sprintf("%d of %d", missed, n), "0", ""})
	}
	rows = append(rows, row{"latency, RIB query interval / pause between Services", fmt.Sprintf("%s / %s", o.poll, o.gap), "", ""})
	return rows
}

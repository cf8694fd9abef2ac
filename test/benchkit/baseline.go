package benchkit

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/ferrolb/ferrolb/test/cluster"
)

// Timing is what TimeWorkload measured.
type Timing struct {
	Took time.Duration // from the first request until every Service had an IP
	CPU  string        // CPUSummary of this program's children meanwhile
}

// TimeWorkload runs w and waits until an informer has seen each of its
// Services with an ingress IP (written by w itself or by a controller),
// within ctx. created, if set, is called once w's requests are all
// answered, with the time they took.
func TimeWorkload(ctx context.Context, w *Workload, created func(time.Duration)) (Timing, error) {
	seen, err := WatchAssigned(ctx, w.Client, w.Namespace, w.N)
	if err != nil {
		return Timing{}, err
	}
	cpu0 := SampleChildren()
	start := time.Now()
	if err := w.Run(ctx); err != nil {
		return Timing{}, err
	}
	if created != nil {
		created(time.Since(start))
	}
	select {
	case <-seen.Done():
	case <-ctx.Done():
		return Timing{}, fmt.Errorf("%d/%d Services with an IP: %w", seen.Count(), w.N, ctx.Err())
	}
	return Timing{Took: seen.At().Sub(start), CPU: CPUSummary(cpu0, SampleChildren())}, nil
}

// BaselineOptions tunes Baseline.
type BaselineOptions struct {
	Timeout  time.Duration // bound on the whole run, set-up excepted
	KeepDir  bool          // keep the API server's directory (and say where)
	Progress Progress
	// Profile, if set, is called just before the workload starts; the
	// server stops only after the function it returns has returned (a
	// profile being recorded needs the server up).
	Profile func(ctx context.Context, cs kubernetes.Interface) (wait func())
}

// Baseline measures the API server alone: on a fresh API server with no
// controller, w (which should set StatusIP) creates its Services in a new
// namespace w.Namespace and writes their statuses itself; it is timed by
// TimeWorkload. w.Client is set to an unthrottled client of that server.
// It reports the time, the CPU used and the server's write requests at the
// end (APIWrites with at least minWrites) through o.Progress.
func Baseline(ctx context.Context, w Workload, minWrites float64, o BaselineOptions) (Timing, error) {
	t, writes, err := baseline(ctx, w, minWrites, o)
	if err == nil {
		o.Progress("  %d Services written in %.2f s; CPU: %s; API writes: %s", w.N, t.Took.Seconds(), t.CPU, writes)
	}
	return t, err
}

func baseline(ctx context.Context, w Workload, minWrites float64, o BaselineOptions) (Timing, string, error) {
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return Timing{}, "", err
	}
	defer func() {
		c.Stop()
		if o.KeepDir {
			o.Progress("  cluster files kept in %s", c.Dir)
		} else {
			_ = os.RemoveAll(c.Dir)
		}
	}()
	if w.Client, err = Clientset(c.Config); err != nil {
		return Timing{}, "", err
	}
	if err := CreateNamespace(ctx, w.Client, w.Namespace); err != nil {
		return Timing{}, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if o.Profile != nil {
		defer o.Profile(ctx, w.Client)()
	}
	t, err := TimeWorkload(ctx, &w, nil)
	if err != nil {
		return Timing{}, "", err
	}
	return t, APIWrites(ctx, w.Client, minWrites), nil
}

package main

import (
	"context"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/ferrolb/ferrolb/test/benchkit"
)

// scaleWorkload is the scale run's workload on cs: o.services Services in
// benchNS, each with an EndpointSlice holding a ready endpoint on every
// one of backends (no slice if there are none).
func scaleWorkload(cs kubernetes.Interface, o options, backends []benchkit.Backend) *benchkit.Workload {
	w := &benchkit.Workload{Client: cs, Namespace: benchNS, N: o.services, Concurrency: o.Concurrency, ManagedBy: "benchbgp.ferrolb.io"}
	if len(backends) > 0 {
		w.Endpoints = func(int) []benchkit.Backend { return backends }
	}
	return w
}

// baselineRun times a plain client on a fresh API server creating the
// Services (and, if slices, one EndpointSlice each) and writing the
// statuses the controller would (poolIP(i) from pool "scale"), until an
// informer has seen every IP.
func baselineRun(ctx context.Context, o options, slices bool) (time.Duration, string, error) {
	var backends []benchkit.Backend
	if slices {
		backends = benchkit.PlanBackends(3)
	}
	w := scaleWorkload(nil, o, backends)
	w.StatusIP, w.Pool = poolIP, "scale"
	t, err := benchkit.Baseline(ctx, *w, 50, benchkit.BaselineOptions{Timeout: o.PhaseTimeout, KeepDir: o.KeepDir, Progress: progress, Profile: o.BaselineProfile(slices, progress)})
	if err != nil {
		return 0, "", err
	}
	return t.Took, t.CPU, nil
}

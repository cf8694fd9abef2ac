package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/lab"
)

const (
	// frrPoll is the interval between two reads of frr's per-neighbour
	// prefix counts during the scale run (one small query to bgpd).
	frrPoll = 20 * time.Millisecond
	// otherPoll is the interval for BIRD and GoBGP, asked through their
	// command-line clients.
	otherPoll = 250 * time.Millisecond
)

// scaleResult is what the lab run measured.
type scaleResult struct {
	frr      time.Duration            // every node's path for every prefix in frr's RIB
	routers  map[string]time.Duration // the same per router, as seen by its client
	assigned time.Duration            // the controller wrote every IP
	complete map[string]string        // per router: prefixes with a path from every node, at the end
	mem      []benchkit.SpeakerMemory
	cpu      string
	writes   string // the API server's write requests, whole run
}

func scaleRun(ctx context.Context, o options) ([]row, error) {
	var rows []row
	n := benchkit.Thousands(o.services)
	var res scaleResult // the last round's
	rounds, err := benchkit.ScaleRounds(ctx, o.SpeakerFlags, o.services, progress,
		func(ctx context.Context, slices bool) (time.Duration, string, error) {
			return baselineRun(ctx, o, slices)
		},
		func(ctx context.Context) (time.Duration, string, error) { return bareLabRun(ctx, o) },
		func(ctx context.Context, last bool) (time.Duration, error) {
			r, err := labScaleRun(ctx, o, last)
			res = r
			return r.frr, err
		})
	rows = append(rows, benchkit.RoundRows(rounds, n, "scale, create "+n+" Services at once -> a path from each of the 3 nodes for every one in FRR's RIB",
		"scale, FRR complete / API server alone", scaleTarget, metalLBScale)...)
	if err != nil {
		return rows, err
	}
	first, lastRound := rounds[0].Comparison, rounds[len(rounds)-1]
	baseCPU := lastRound.DirectCPU
	var names []string
	for name := range res.routers {
		names = append(names, name)
	}
	slices.Sort(names)
	var parts, complete []string
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %s", name, benchkit.Secs(res.routers[name])))
	}
	for _, r := range scaleRouters {
		complete = append(complete, fmt.Sprintf("%s %s", r.name, res.complete[r.name]))
	}
	rows = append(rows,
		row{"scale, of which: controller assigned every IP (last round)", benchkit.Secs(res.assigned), "", ""},
		row{"scale, every route complete as each router's client reports it (polled every 0.25 s for BIRD and GoBGP; last round)", strings.Join(parts, ", "), "", ""},
		row{"scale, prefixes with a path from every node at the end, per router", strings.Join(complete, ", "), fmt.Sprintf("%d each", o.services+1), ""},
	)
	rows = append(rows, benchkit.DiagnosticRows(o.SpeakerFlags, first)...)
	for _, m := range res.mem {
		if m.RSS == 0 {
			continue
		}
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s, idle / %s Services, 3 peers / peak (VmHWM)", m.Node, n), benchkit.MiB(m.Idle) + " / " + benchkit.MiB(m.RSS) + " / " + benchkit.MiB(m.Peak), memoryTarget, metalLBRSS})
	}
	for _, m := range res.mem {
		if m.RSS == 0 {
			continue
		}
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s with %s Services: anonymous + file-backed (the binary)", m.Node, n), benchkit.MiB(m.Anon) + " + " + benchkit.MiB(m.File), "", ""})
	}
	if res.cpu != "" {
		rows = append(rows,
			row{"scale, CPU used by the lab's processes during the run (last round)", res.cpu, "", ""},
			row{"scale, CPU used by the API server alone (baseline, Services + statuses; last round)", baseCPU, "", ""},
			row{"scale, API writes in the lab (whole run, incl. set-up; last round)", res.writes, "", ""},
		)
	}
	return rows, nil
}

// labScaleRun times the burst on a fresh lab; only the last round (final)
// goes on to the steady state: every router's full RIB, memory after
// settling.
func labScaleRun(ctx context.Context, o options, final bool) (scaleResult, error) {
	res := scaleResult{routers: map[string]time.Duration{}, complete: map[string]string{}}
	l, err := benchkit.StartLab(ctx, o.KeepDir, nil, progress)
	if err != nil {
		return res, err
	}
	defer benchkit.CloseLab(l, o.KeepDir, progress)
	var routers []*lab.Router
	for _, s := range scaleRouters {
		r, err := l.AddRouter(ctx, lab.RouterOptions{
			Kind: s.kind, Name: s.name, ASN: s.asn, IPv4: s.ipv4(), IPv6: s.ipv6(),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: speakerASN}),
		})
		if err != nil {
			return res, err
		}
		routers = append(routers, r)
	}
	frr := dialVTY(routers[0], "bgpd")
	defer frr.close()
	if err := applyConfig(ctx, l, scaleConfig(o.services)); err != nil {
		return res, err
	}
	if err := l.StartSpeakers(ctx, o.SpeakerArgs()...); err != nil {
		return res, err
	}
	cs, err := benchkit.Clientset(l.Cluster.Config)
	if err != nil {
		return res, err
	}
	if err := benchkit.CreateNamespace(ctx, cs, benchNS); err != nil {
		return res, err
	}
	for _, r := range routers {
		if err := r.WaitEstablished(ctx, 90*time.Second); err != nil {
			return res, err
		}
	}
	progress("  sessions established on the 3 routers")
	var nodes []string
	var nodeIPs []netip.Addr
	for _, nd := range l.Nodes {
		nodes = append(nodes, nd.Name)
		nodeIPs = append(nodeIPs, nd.IPv4)
	}

	// Ready: the probe Service has a path from every node on every router.
	probe := pinned("probe", netip.MustParseAddr(probeIP))
	if err := l.Backends(ctx, probe, nodes...); err != nil {
		return res, err
	}
	if _, err := cs.CoreV1().Services(benchNS).Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		return res, err
	}
	if err := waitProbe(ctx, routers, nodeIPs, 2*time.Minute); err != nil {
		return res, err
	}
	progress("  the probe Service has a path from every node on every router")
	if res.mem, err = benchkit.IdleSpeakers(l); err != nil {
		return res, err
	}

	ctx, cancel := context.WithTimeout(ctx, o.PhaseTimeout)
	defer cancel()
	seen, err := benchkit.WatchAssigned(ctx, cs, benchNS, o.services)
	if err != nil {
		return res, err
	}
	want := o.services + 1 // and the probe
	w := scaleWorkload(cs, o, benchkit.NodeBackends(l))
	if o.PprofPort != 0 && o.CPUProfile > 0 {
		go saveCPUProfile(ctx, l, o)
	}
	cpu0 := benchkit.SampleChildren()
	start := time.Now()
	created := make(chan error, 1)
	go func() { created <- w.Run(ctx) }()

	// BIRD and GoBGP through their clients, in the background.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range routers[1:] {
		wg.Go(func() {
			for ctx.Err() == nil {
				ns, err := r.Neighbors(ctx)
				at := time.Since(start)
				if err == nil && allReceived(ns, nodeIPs, want) {
					mu.Lock()
					res.routers[r.Name] = at
					mu.Unlock()
					return
				}
				if benchkit.Sleep(ctx, otherPoll) != nil {
					return
				}
			}
		})
	}

	assignedc := seen.Done()
	nextReport := start.Add(5 * time.Second)
	var last map[netip.Addr]int
	for res.frr == 0 {
		got, err := frr.received(ctx)
		at := time.Since(start)
		if err == nil {
			last = got
			if minReceived(got, nodeIPs) >= want {
				res.frr = at
				res.routers[routers[0].Name] = at
				break
			}
		}
		select {
		case err := <-created:
			if err != nil {
				return res, fmt.Errorf("creating the Services: %w", err)
			}
			progress("  all Services and slices created after %s", benchkit.Secs(time.Since(start)))
			created = nil
		case <-assignedc:
			res.assigned = seen.At().Sub(start)
			progress("  controller assigned every IP after %s", benchkit.Secs(res.assigned))
			assignedc = nil
		default:
		}
		if time.Now().After(nextReport) {
			progress("  %d/%d assigned, FRR has %v prefixes per node after %s", seen.Count(), o.services, counts(last, nodeIPs), benchkit.Secs(time.Since(start)))
			nextReport = nextReport.Add(5 * time.Second)
		}
		if err := benchkit.Sleep(ctx, frrPoll); err != nil {
			return res, fmt.Errorf("FRR has %v prefixes per node, %d/%d assigned: %w", counts(last, nodeIPs), seen.Count(), o.services, err)
		}
	}
	progress("  FRR has every path of every prefix after %s", benchkit.Secs(res.frr))
	if assignedc != nil {
		select {
		case <-assignedc:
			res.assigned = seen.At().Sub(start)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	wg.Wait()
	res.cpu = benchkit.CPUSummary(cpu0, benchkit.SampleChildren())
	progress("  CPU used meanwhile: %s", res.cpu)
	res.writes = benchkit.APIWrites(ctx, cs, 50)
	progress("  API writes so far: %s", res.writes)
	for _, r := range routers[1:] {
		if _, ok := res.routers[r.Name]; ok {
			progress("  %s complete after %s", r.Name, benchkit.Secs(res.routers[r.Name]))
		} else {
			progress("  %s not complete within %s", r.Name, o.PhaseTimeout)
		}
	}
	if created != nil {
		if err := <-created; err != nil {
			return res, fmt.Errorf("creating the Services: %w", err)
		}
	}
	if !final {
		return res, nil
	}

	// Every router's RIB, in full.
	for _, r := range routers {
		full, err := completeRoutes(ctx, r, nodeIPs)
		if err != nil {
			res.complete[r.Name] = err.Error()
			continue
		}
		res.complete[r.Name] = strconv.Itoa(full)
	}
	progress("  prefixes with a path from every node: %v", res.complete)

	progress("  settling for %s", o.settle)
	if err := benchkit.Sleep(ctx, o.settle); err != nil {
		return res, err
	}
	for i := range res.mem {
		m := &res.mem[i]
		sp, err := l.Speaker(m.Node)
		if err != nil {
			return res, err
		}
		if m.Memory, err = benchkit.ReadMemory(sp.PID()); err != nil {
			return res, err
		}
		progress("  speaker on %s: %s", m.Node, m.Memory)
		if i == 0 {
			progress("    largest mappings: %s", largestMappings(sp.PID(), 6))
		}
	}
	if o.PprofPort != 0 {
		saveProfiles(ctx, l, o)
	}
	return res, nil
}

// bareLabRun is the scale workload on a lab without speakers (nor
// routers), timed until the controller has assigned every IP: the
// speakers' share of the lab run.
func bareLabRun(ctx context.Context, o options) (time.Duration, string, error) {
	l, err := benchkit.StartLab(ctx, o.KeepDir, nil, progress)
	if err != nil {
		return 0, "", err
	}
	defer benchkit.CloseLab(l, o.KeepDir, progress)
	if err := applyConfig(ctx, l, scaleConfig(o.services)); err != nil {
		return 0, "", err
	}
	cs, err := benchkit.Clientset(l.Cluster.Config)
	if err != nil {
		return 0, "", err
	}
	if err := benchkit.CreateNamespace(ctx, cs, benchNS); err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, o.PhaseTimeout)
	defer cancel()
	// Ready: the controller assigns the probe.
	probe := pinned("probe", netip.MustParseAddr(probeIP))
	if _, err := cs.CoreV1().Services(benchNS).Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		return 0, "", err
	}
	if err := benchkit.WaitIngress(ctx, cs, benchNS, probe.Name); err != nil {
		return 0, "", err
	}
	t, err := benchkit.TimeWorkload(ctx, scaleWorkload(cs, o, benchkit.NodeBackends(l)), func(d time.Duration) {
		progress("  all Services and slices created after %s", benchkit.Secs(d))
	})
	if err != nil {
		return 0, "", err
	}
	progress("  controller assigned every IP after %s; CPU: %s; API writes: %s", benchkit.Secs(t.Took), t.CPU, benchkit.APIWrites(ctx, cs, 50))
	return t.Took, t.CPU, nil
}

// waitProbe waits until every router has the probe route with a next hop
// per node.
func waitProbe(ctx context.Context, routers []*lab.Router, nodeIPs []netip.Addr, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	prefix := host(netip.MustParseAddr(probeIP))
	for _, r := range routers {
		for {
			rt, ok, err := r.Route(ctx, prefix)
			if err == nil && ok && hasAll(pathHops(rt), nodeIPs) {
				break
			}
			if err := benchkit.Sleep(ctx, 200*time.Millisecond); err != nil {
				return fmt.Errorf("probe route on %s: %+v (ok %v, err %v)", r.Name, rt, ok, err)
			}
		}
	}
	return nil
}

// pathHops lists the next hops of every path of a route.
func pathHops(rt lab.Route) []netip.Addr {
	var out []netip.Addr
	for _, p := range rt.Paths {
		out = append(out, p.NextHop)
	}
	return out
}

// completeRoutes counts the router's IPv4 routes with a path through every
// node.
func completeRoutes(ctx context.Context, r *lab.Router, nodeIPs []netip.Addr) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rs, err := r.Routes(ctx, model.IPv4)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rt := range rs {
		if hasAll(pathHops(rt), nodeIPs) {
			n++
		}
	}
	return n, nil
}

// allReceived reports whether every node's session is up and has sent at
// least want prefixes.
func allReceived(ns []lab.NeighborStatus, nodeIPs []netip.Addr, want int) bool {
	for _, a := range nodeIPs {
		i := slices.IndexFunc(ns, func(n lab.NeighborStatus) bool { return n.Address == a })
		if i < 0 || !ns[i].Up() || ns[i].Received < want {
			return false
		}
	}
	return true
}

// minReceived is the smallest prefix count among the nodes (0 for a node
// missing from got).
func minReceived(got map[netip.Addr]int, nodeIPs []netip.Addr) int {
	m := -1
	for _, a := range nodeIPs {
		if m < 0 || got[a] < m {
			m = got[a]
		}
	}
	return max(m, 0)
}

func counts(got map[netip.Addr]int, nodeIPs []netip.Addr) []int {
	out := make([]int, len(nodeIPs))
	for i, a := range nodeIPs {
		out[i] = got[a]
	}
	return out
}

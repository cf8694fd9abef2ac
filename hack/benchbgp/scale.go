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

	corev1 "k8s.io/api/core/v1"
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

// speakerMem is one speaker's memory.
type speakerMem struct {
	node            string
	idle, rss, peak uint64
	anon, file      uint64 // RssAnon and RssFile of rss
}

// scaleResult is what the lab run measured.
type scaleResult struct {
	frr      time.Duration            // every node's path for every prefix in frr's RIB
	routers  map[string]time.Duration // the same per router, as seen by its client
	assigned time.Duration            // the controller wrote every IP
	complete map[string]string        // per router: prefixes with a path from every node, at the end
	mem      []speakerMem
	cpu      string
	writes   string // the API server's write requests, whole run
}

func scaleRun(ctx context.Context, o options) ([]row, error) {
	var rows []row
	n := thousands(o.services)
	progress("baseline: a fresh API server alone, %d Services created and their statuses written, %d creators", o.services, o.concurrency)
	direct, baseCPU, err := baselineRun(ctx, o, false)
	if err != nil {
		return rows, fmt.Errorf("baseline: %w", err)
	}
	progress("baseline with EndpointSlices too: the same plus one slice per Service")
	directSlices, _, err := baselineRun(ctx, o, true)
	if err != nil {
		return rows, fmt.Errorf("baseline with slices: %w", err)
	}
	var bare time.Duration
	var bareCPU string
	if o.withoutSpeakers {
		progress("lab without speakers: %d Services at once, the controller alone assigns", o.services)
		if bare, bareCPU, err = bareLabRun(ctx, o); err != nil {
			return rows, fmt.Errorf("lab without speakers: %w", err)
		}
	}
	res, err := labScaleRun(ctx, o)
	if res.frr > 0 {
		rows = append(rows,
			row{"scale, create " + n + " Services at once -> a path from each of the 3 nodes for every one in FRR's RIB", secs(res.frr), "", ""},
			row{"scale, API server alone: create " + n + " Services + write statuses", secs(direct), "", ""},
			row{"scale, API server alone: the same + " + n + " EndpointSlices", secs(directSlices), "", ""},
			row{"scale, FRR complete / API server alone", fmt.Sprintf("%.2fx (%.2fx against the run with slices)", res.frr.Seconds()/direct.Seconds(), res.frr.Seconds()/directSlices.Seconds()), scaleTarget, metalLBScale},
			row{"scale, of which: controller assigned every IP", secs(res.assigned), "", ""},
		)
		var names []string
		for name := range res.routers {
			names = append(names, name)
		}
		slices.Sort(names)
		var parts, complete []string
		for _, name := range names {
			parts = append(parts, fmt.Sprintf("%s %s", name, secs(res.routers[name])))
		}
		for _, r := range scaleRouters {
			complete = append(complete, fmt.Sprintf("%s %s", r.name, res.complete[r.name]))
		}
		rows = append(rows,
			row{"scale, every route complete as each router's client reports it (polled every 0.25 s for BIRD and GoBGP)", strings.Join(parts, ", "), "", ""},
			row{"scale, prefixes with a path from every node at the end, per router", strings.Join(complete, ", "), fmt.Sprintf("%d each", o.services+1), ""},
		)
	}
	if o.withoutSpeakers {
		rows = append(rows,
			row{"scale, same workload on a lab without speakers: controller assigned every IP", secs(bare), "", ""},
			row{"scale, CPU used by the lab's processes without speakers", bareCPU, "", ""},
		)
	}
	for _, m := range res.mem {
		if m.rss == 0 {
			continue
		}
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s, idle / %s Services, 3 peers / peak (VmHWM)", m.node, n), mib(m.idle) + " / " + mib(m.rss) + " / " + mib(m.peak), memoryTarget, metalLBRSS})
	}
	for _, m := range res.mem {
		if m.rss == 0 {
			continue
		}
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s with %s Services: anonymous + file-backed (the binary)", m.node, n), mib(m.anon) + " + " + mib(m.file), "", ""})
	}
	if res.cpu != "" {
		rows = append(rows,
			row{"scale, CPU used by the lab's processes during the run", res.cpu, "", ""},
			row{"scale, CPU used by the API server alone (baseline, Services + statuses)", baseCPU, "", ""},
			row{"scale, API writes in the lab (whole run, incl. set-up)", res.writes, "", ""},
		)
	}
	return rows, err
}

func labScaleRun(ctx context.Context, o options) (scaleResult, error) {
	res := scaleResult{routers: map[string]time.Duration{}, complete: map[string]string{}}
	l, err := startLab(ctx, o)
	if err != nil {
		return res, err
	}
	defer closeLab(l, o)
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
	if err := l.StartSpeakers(ctx, o.speakerArgs...); err != nil {
		return res, err
	}
	cs, err := clientset(l.Cluster.Config)
	if err != nil {
		return res, err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		return res, err
	}
	for _, r := range routers {
		if err := r.WaitEstablished(ctx, 90*time.Second); err != nil {
			return res, err
		}
	}
	progress("  sessions established on the 3 routers")
	var nodes, podIPs []string
	var nodeIPs []netip.Addr
	for _, nd := range l.Nodes {
		nodes = append(nodes, nd.Name)
		podIPs = append(podIPs, nd.PodIPv4.String())
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
	for _, nd := range nodes {
		sp, err := l.Speaker(nd)
		if err != nil {
			return res, err
		}
		idle, err := statusField(sp.PID(), "VmRSS:")
		if err != nil {
			return res, err
		}
		res.mem = append(res.mem, speakerMem{node: nd, idle: idle})
	}

	ctx, cancel := context.WithTimeout(ctx, o.phaseTimeout)
	defer cancel()
	seen, err := watchAssigned(ctx, cs, o.services)
	if err != nil {
		return res, err
	}
	want := o.services + 1 // and the probe
	w := &workload{cs: cs, n: o.services, concurrency: o.concurrency, nodes: nodes, podIPs: podIPs}
	if o.pprofPort != 0 && o.cpuProfile > 0 {
		go saveCPUProfile(ctx, l, o)
	}
	cpu0 := benchkit.SampleChildren()
	start := time.Now()
	created := make(chan error, 1)
	go func() { created <- w.run(ctx) }()

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
				if sleep(ctx, otherPoll) != nil {
					return
				}
			}
		})
	}

	assignedc := seen.done
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
			progress("  all Services and slices created after %s", secs(time.Since(start)))
			created = nil
		case <-assignedc:
			res.assigned = seen.at.Sub(start)
			progress("  controller assigned every IP after %s", secs(res.assigned))
			assignedc = nil
		default:
		}
		if time.Now().After(nextReport) {
			progress("  %d/%d assigned, FRR has %v prefixes per node after %s", seen.count(), o.services, counts(last, nodeIPs), secs(time.Since(start)))
			nextReport = nextReport.Add(5 * time.Second)
		}
		if err := sleep(ctx, frrPoll); err != nil {
			return res, fmt.Errorf("FRR has %v prefixes per node, %d/%d assigned: %w", counts(last, nodeIPs), seen.count(), o.services, err)
		}
	}
	progress("  FRR has every path of every prefix after %s", secs(res.frr))
	if assignedc != nil {
		select {
		case <-assignedc:
			res.assigned = seen.at.Sub(start)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	wg.Wait()
	res.cpu = benchkit.CPUSummary(cpu0, benchkit.SampleChildren())
	progress("  CPU used meanwhile: %s", res.cpu)
	res.writes = apiWrites(ctx, cs)
	progress("  API writes so far: %s", res.writes)
	for _, r := range routers[1:] {
		if _, ok := res.routers[r.Name]; ok {
			progress("  %s complete after %s", r.Name, secs(res.routers[r.Name]))
		} else {
			progress("  %s not complete within %s", r.Name, o.phaseTimeout)
		}
	}
	if created != nil {
		if err := <-created; err != nil {
			return res, fmt.Errorf("creating the Services: %w", err)
		}
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
	if err := sleep(ctx, o.settle); err != nil {
		return res, err
	}
	for i := range res.mem {
		m := &res.mem[i]
		sp, err := l.Speaker(m.node)
		if err != nil {
			return res, err
		}
		for _, f := range []struct {
			name string
			dst  *uint64
		}{{"VmRSS:", &m.rss}, {"VmHWM:", &m.peak}, {"RssAnon:", &m.anon}, {"RssFile:", &m.file}} {
			if *f.dst, err = statusField(sp.PID(), f.name); err != nil {
				return res, err
			}
		}
		progress("  speaker on %s: VmRSS %s (anonymous %s, file %s), VmHWM %s", m.node, mib(m.rss), mib(m.anon), mib(m.file), mib(m.peak))
		if i == 0 {
			progress("    largest mappings: %s", largestMappings(sp.PID(), 6))
		}
	}
	if o.pprofPort != 0 {
		saveProfiles(ctx, l, o)
	}
	return res, nil
}

// bareLabRun is the scale workload on a lab without speakers (nor
// routers), timed until the controller has assigned every IP: the
// speakers' share of the lab run.
func bareLabRun(ctx context.Context, o options) (time.Duration, string, error) {
	l, err := startLab(ctx, o)
	if err != nil {
		return 0, "", err
	}
	defer closeLab(l, o)
	if err := applyConfig(ctx, l, scaleConfig(o.services)); err != nil {
		return 0, "", err
	}
	cs, err := clientset(l.Cluster.Config)
	if err != nil {
		return 0, "", err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		return 0, "", err
	}
	var nodes, podIPs []string
	for _, nd := range l.Nodes {
		nodes = append(nodes, nd.Name)
		podIPs = append(podIPs, nd.PodIPv4.String())
	}
	ctx, cancel := context.WithTimeout(ctx, o.phaseTimeout)
	defer cancel()
	// Ready: the controller assigns the probe.
	probe := pinned("probe", netip.MustParseAddr(probeIP))
	if _, err := cs.CoreV1().Services(benchNS).Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		return 0, "", err
	}
	for {
		svc, err := cs.CoreV1().Services(benchNS).Get(ctx, "probe", metav1.GetOptions{})
		if err == nil && len(svc.Status.LoadBalancer.Ingress) > 0 {
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, "", fmt.Errorf("probe Service not assigned: %w", err)
		}
	}
	seen, err := watchAssigned(ctx, cs, o.services)
	if err != nil {
		return 0, "", err
	}
	w := &workload{cs: cs, n: o.services, concurrency: o.concurrency, nodes: nodes, podIPs: podIPs}
	cpu0 := benchkit.SampleChildren()
	start := time.Now()
	if err := w.run(ctx); err != nil {
		return 0, "", err
	}
	progress("  all Services and slices created after %s", secs(time.Since(start)))
	select {
	case <-seen.done:
	case <-ctx.Done():
		return 0, "", fmt.Errorf("%d/%d assigned: %w", seen.count(), o.services, ctx.Err())
	}
	d := seen.at.Sub(start)
	cpu := benchkit.CPUSummary(cpu0, benchkit.SampleChildren())
	progress("  controller assigned every IP after %s; CPU: %s; API writes: %s", secs(d), cpu, apiWrites(ctx, cs))
	return d, cpu, nil
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
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
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

package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// The scale run's addresses: the pool holds exactly -services addresses
// from 198.19.0.1 up (198.19.0.0/16 is the free half of the benchmark
// range; the lab's Services take 198.18.0.0/16), and a probe Service
// takes probeIP from a pool of its own.
const (
	bigPool     = "198.19.0.0/16"
	maxServices = 65000
	scalePool   = "scale"
	probePool   = "probe"
	probeIP     = "198.19.255.254"
	// arpRound is the interval between two rounds of requests for the IPs
	// not answered yet.
	arpRound = 250 * time.Millisecond
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// poolIP returns the i-th address of the scale pool (0-based).
func poolIP(i int) netip.Addr {
	b := mustPrefix(bigPool).Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n += uint32(i) + 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func scaleConfig(n int) []byte {
	return []byte(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ` + scalePool + `, namespace: ` + cluster.Namespace + `}
spec:
  addresses: [` + poolIP(0).String() + `-` + poolIP(n-1).String() + `]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ` + probePool + `, namespace: ` + cluster.Namespace + `}
spec:
  addresses: [` + probeIP + `/32]
  autoAssign: false
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: scale, namespace: ` + cluster.Namespace + `}
spec:
  ipAddressPools: [` + scalePool + `, ` + probePool + `]
`)
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
			progress("lab: %d L2 Services at once on 3 nodes", o.services)
			r, err := labScaleRun(ctx, o, last)
			res = r
			return r.answered, err
		})
	if len(rounds) == 0 {
		return rows, err
	}
	lastRound := rounds[len(rounds)-1]
	rows = append(rows, benchkit.RoundRows(rounds, n, "scale, create "+n+" L2 Services -> every IP answers ARP",
		"scale, ARP answered / API server alone", "<= 2x", metalLBScale)...)
	if err != nil {
		return rows, err
	}
	rows = append(rows,
		row{"scale, of which: controller assigned every IP (last round)", benchkit.Secs(res.assigned), "", ""},
		row{"scale, IPs answered by exactly one / several / no MAC after settling", fmt.Sprintf("%d / %d / %d", res.single, res.multi, res.none), fmt.Sprintf("%d / 0 / 0", o.services), ""},
		row{"scale, IPs per node", res.perNode, "", ""},
	)
	for _, m := range res.mem {
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s, idle / %s Services / peak (VmHWM)", m.Node, n), benchkit.MiB(m.Idle) + " / " + benchkit.MiB(m.RSS) + " / " + benchkit.MiB(m.Peak), "< 60 MiB", metalLBRSS})
	}
	for _, m := range res.mem {
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s with %s Services: anonymous + file-backed (the binary)", m.Node, n), benchkit.MiB(m.Anon) + " + " + benchkit.MiB(m.File), "", ""})
	}
	rows = append(rows, benchkit.DiagnosticRows(o.SpeakerFlags, rounds[0].Comparison)...)
	if res.passes != "" {
		rows = append(rows, row{"scale, layer2 reconcile passes (full recomputations) per speaker during the run (last round)", res.passes, "", ""})
	}
	rows = append(rows,
		row{"scale, API writes in the lab (whole run, incl. set-up; last round)", res.writes, "", ""},
		row{"scale, CPU used by the lab's processes during the run (last round)", res.cpu, "", ""},
		row{"scale, CPU used by the API server alone (baseline, Services + statuses; last round)", lastRound.DirectCPU, "", ""},
	)
	return rows, nil
}

// scaleResult is what the lab run measured.
type scaleResult struct {
	answered, assigned  time.Duration
	single, multi, none int
	perNode             string
	mem                 []benchkit.SpeakerMemory
	cpu                 string // CPU used by the lab's processes during the run
	passes              string // layer2 reconcile passes per speaker during the run
	writes              string // the API server's write requests at the end
}

// reconcilePasses returns each speaker's count of layer2 reconciles
// (controller-runtime's metric), nil if any is unavailable.
func reconcilePasses(ctx context.Context, l *lab.Lab) []float64 {
	var out []float64
	for _, nd := range l.Nodes {
		v, err := speakerCounter(ctx, l, nd.Name, "controller_runtime_reconcile_total", `controller="layer2"`)
		if err != nil {
			progress("  reconcile count unavailable: %v", err)
			return nil
		}
		out = append(out, v)
	}
	return out
}

// labScaleRun times the burst on a fresh lab; only the last round (final)
// goes on to the steady state: MACs per IP and memory after settling.
func labScaleRun(ctx context.Context, o options, final bool) (scaleResult, error) {
	var res scaleResult
	l, err := benchkit.StartLab(ctx, o.KeepDir, []netip.Prefix{mustPrefix(bigPool)}, progress)
	if err != nil {
		return res, err
	}
	defer benchkit.CloseLab(l, o.KeepDir, progress)
	if err := l.Cluster.ApplyYAML(ctx, scaleConfig(o.services)); err != nil {
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
	p, err := openProber(l.Client.NS)
	if err != nil {
		return res, err
	}
	defer p.close()
	macs := map[wire.MAC]string{}
	var nodes []string
	for _, nd := range l.Nodes {
		m, err := wire.MACFrom(nd.MAC)
		if err != nil {
			return res, err
		}
		macs[m] = nd.Name
		nodes = append(nodes, nd.Name)
	}

	// Ready: the controller assigns and some speaker announces a probe.
	probe := cluster.LoadBalancer("default", "probe")
	probe.Annotations = map[string]string{"metallb.io/loadBalancerIPs": probeIP}
	if _, err := cs.CoreV1().Services("default").Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		return res, err
	}
	if err := l.Backends(ctx, probe, nodes...); err != nil {
		return res, err
	}
	if err := waitAnswered(ctx, p, []netip.Addr{netip.MustParseAddr(probeIP)}, 2*time.Minute); err != nil {
		return res, fmt.Errorf("probe Service %s never answered: %w", probeIP, err)
	}
	progress("  speakers announce the probe Service")
	if res.mem, err = benchkit.IdleSpeakers(l); err != nil {
		return res, err
	}

	ctx, cancel := context.WithTimeout(ctx, o.PhaseTimeout)
	defer cancel()
	seen, err := benchkit.WatchAssigned(ctx, cs, benchNS, o.services)
	if err != nil {
		return res, err
	}
	ips := make([]netip.Addr, o.services)
	for i := range ips {
		ips[i] = poolIP(i)
	}
	var mu sync.Mutex
	answered := map[netip.Addr]time.Time{}
	want := map[netip.Addr]bool{}
	for _, ip := range ips {
		want[ip] = true
	}
	unsub := p.subscribe(func(e arpEvent) {
		if !e.probeReply() || !want[e.arp.SenderIP] {
			return
		}
		mu.Lock()
		if _, ok := answered[e.arp.SenderIP]; !ok {
			answered[e.arp.SenderIP] = e.at
		}
		mu.Unlock()
	})
	defer unsub()

	w := scaleWorkload(cs, o, benchkit.NodeBackends(l))
	if o.PprofPort != 0 && o.CPUProfile > 0 {
		go saveCPUProfile(ctx, l, o)
	}
	defer o.SaveAPIServerProfile(ctx, cs, "kube-apiserver-lab", progress)()
	passes0 := reconcilePasses(ctx, l)
	cpu0 := benchkit.SampleChildren()
	start := time.Now()
	created := make(chan error, 1)
	go func() { created <- w.Run(ctx) }()
	var last time.Time
	assignedc := seen.Done()
	nextReport := start.Add(5 * time.Second)
	for {
		mu.Lock()
		var pending []netip.Addr
		for _, ip := range ips {
			// Only assigned IPs: asking for the others would only load
			// the LAN (a broadcast to every node per request).
			if _, ok := answered[ip]; !ok && seen.HasIP(ip) {
				pending = append(pending, ip)
			}
		}
		done := len(answered)
		mu.Unlock()
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
		if done == len(ips) {
			break
		}
		if time.Now().After(nextReport) {
			progress("  %d/%d assigned, %d/%d answer ARP after %s (prober drops %d)", seen.Count(), o.services, done, o.services, benchkit.Secs(time.Since(start)), p.drops())
			nextReport = nextReport.Add(5 * time.Second)
		}
		if err := p.request(ctx, pending); err != nil {
			return res, err
		}
		if err := benchkit.Sleep(ctx, arpRound); err != nil {
			return res, fmt.Errorf("%d/%d IPs answered ARP, %d/%d assigned: %w", done, o.services, seen.Count(), o.services, err)
		}
	}
	unsub()
	for _, at := range answered {
		if at.After(last) {
			last = at
		}
	}
	res.answered = last.Sub(start)
	res.cpu = benchkit.CPUSummary(cpu0, benchkit.SampleChildren())
	progress("  CPU used meanwhile: %s", res.cpu)
	res.writes = benchkit.APIWrites(ctx, cs, 50)
	progress("  API writes so far: %s", res.writes)
	if passes1 := reconcilePasses(ctx, l); passes0 != nil && passes1 != nil {
		var parts []string
		for i, nd := range nodes {
			parts = append(parts, fmt.Sprintf("%s %.0f", nd, passes1[i]-passes0[i]))
		}
		res.passes = strings.Join(parts, ", ")
		progress("  layer2 reconcile passes meanwhile: %s", res.passes)
	}
	if assignedc != nil { // not read yet (nothing answers before it is assigned)
		select {
		case <-assignedc:
			res.assigned = seen.At().Sub(start)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	progress("  every IP answers ARP after %s", benchkit.Secs(res.answered))
	if !final {
		return res, nil
	}

	progress("  settling for %s", o.settle)
	if err := benchkit.Sleep(ctx, o.settle); err != nil {
		return res, err
	}
	got, err := p.ask(ctx, ips, time.Second)
	if err != nil {
		return res, err
	}
	perNode := map[string]int{}
	for _, ip := range ips {
		switch ms := got[ip]; len(ms) {
		case 0:
			res.none++
		case 1:
			res.single++
			perNode[macs[ms[0]]]++
		default:
			res.multi++
		}
	}
	var parts []string
	for _, nd := range nodes {
		parts = append(parts, fmt.Sprintf("%s %d", nd, perNode[nd]))
	}
	res.perNode = strings.Join(parts, ", ")
	if res.none > 0 {
		// One request each may simply be lost; ask the silent ones again.
		var silent []netip.Addr
		for _, ip := range ips {
			if len(got[ip]) == 0 {
				silent = append(silent, ip)
			}
		}
		again, err := p.ask(ctx, silent, time.Second)
		if err == nil {
			progress("  %d IPs silent at the check; %d of them answered a second request", len(silent), len(again))
		}
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
	}
	if o.PprofPort != 0 {
		saveProfiles(ctx, l, o)
	}
	return res, nil
}

// bareLabRun is the scale run's lab without speakers: the same workload,
// timed until the controller has assigned every IP. It tells the
// speakers' share of the lab run.
func bareLabRun(ctx context.Context, o options) (time.Duration, string, error) {
	l, err := benchkit.StartLab(ctx, o.KeepDir, []netip.Prefix{mustPrefix(bigPool)}, progress)
	if err != nil {
		return 0, "", err
	}
	defer benchkit.CloseLab(l, o.KeepDir, progress)
	if err := l.Cluster.ApplyYAML(ctx, scaleConfig(o.services)); err != nil {
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
	// Ready: the controller assigns a probe.
	probe := cluster.LoadBalancer("default", "probe")
	probe.Annotations = map[string]string{"metallb.io/loadBalancerIPs": probeIP}
	if _, err := cs.CoreV1().Services("default").Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		return 0, "", err
	}
	if err := benchkit.WaitIngress(ctx, cs, "default", probe.Name); err != nil {
		return 0, "", err
	}
	defer o.SaveAPIServerProfile(ctx, cs, "kube-apiserver-bare", progress)()
	t, err := benchkit.TimeWorkload(ctx, scaleWorkload(cs, o, benchkit.NodeBackends(l)), func(d time.Duration) {
		progress("  all Services and slices created after %s", benchkit.Secs(d))
	})
	if err != nil {
		return 0, "", err
	}
	progress("  controller assigned every IP after %s; CPU: %s; API writes: %s", benchkit.Secs(t.Took), t.CPU, benchkit.APIWrites(ctx, cs, 50))
	return t.Took, t.CPU, nil
}

// waitAnswered asks for ips until each has been answered, within bound.
func waitAnswered(ctx context.Context, p *prober, ips []netip.Addr, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	for {
		got, err := p.ask(ctx, ips, checkWait)
		if err != nil {
			return err
		}
		if len(got) == len(ips) {
			return nil
		}
		if err := benchkit.Sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// profiles saves the speakers' profiles into o.ProfileDir.
func profiles(o options) benchkit.Profiles {
	return benchkit.Profiles{Port: o.PprofPort, Dir: o.ProfileDir, Prefix: "speaker", Progress: progress}
}

// saveProfiles fetches each speaker's heap and allocation profiles and
// goroutine dump from its pprof endpoint inside its node. Failures are
// only reported.
func saveProfiles(ctx context.Context, l *lab.Lab, o options) {
	for _, nd := range l.Nodes {
		profiles(o).Save(ctx, nd.Name, nd.NS, "heap", "allocs", "goroutine", "heap?debug=1")
	}
}

// saveCPUProfile records node1's speaker CPU profile for o.CPUProfile from
// the start of the scale workload, and its heap halfway. Failures are only reported.
func saveCPUProfile(ctx context.Context, l *lab.Lab, o options) {
	profiles(o).SaveBurst(ctx, l.Nodes[0].Name, l.Nodes[0].NS, o.CPUProfile)
}

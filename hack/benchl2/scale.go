package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/internal/core/assign"
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

// clientset returns an unthrottled clientset: the server sets the pace.
func clientset(cfg *rest.Config) (kubernetes.Interface, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1
	return kubernetes.NewForConfig(cfg)
}

// speakerMem is one speaker's memory.
type speakerMem struct {
	node            string
	idle, rss, peak uint64
	anon, file      uint64 // RssAnon and RssFile of rss
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

	progress("lab: %d L2 Services at once on 3 nodes", o.services)
	res, err := labScaleRun(ctx, o)
	if err != nil {
		return rows, err
	}
	ratio := res.answered.Seconds() / direct.Seconds()
	rows = append(rows,
		row{"scale, create " + n + " L2 Services -> every IP answers ARP", secs(res.answered), "", ""},
		row{"scale, of which: controller assigned every IP", secs(res.assigned), "", ""},
		row{"scale, API server alone: create " + n + " Services + write statuses", secs(direct), "", ""},
		row{"scale, API server alone: the same + " + n + " EndpointSlices", secs(directSlices), "", ""},
		row{"scale, ARP answered / API server alone", fmt.Sprintf("%.2fx (%.2fx against the run with slices)", ratio, res.answered.Seconds()/directSlices.Seconds()), "<= 2x", metalLBScale},
		row{"scale, IPs answered by exactly one / several / no MAC after settling", fmt.Sprintf("%d / %d / %d", res.single, res.multi, res.none), fmt.Sprintf("%d / 0 / 0", o.services), ""},
		row{"scale, IPs per node", res.perNode, "", ""},
	)
	for _, m := range res.mem {
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s, idle / %s Services / peak (VmHWM)", m.node, n), mib(m.idle) + " / " + mib(m.rss) + " / " + mib(m.peak), "< 60 MiB", metalLBRSS})
	}
	for _, m := range res.mem {
		rows = append(rows, row{fmt.Sprintf("speaker RSS on %s with %s Services: anonymous + file-backed (the binary)", m.node, n), mib(m.anon) + " + " + mib(m.file), "", ""})
	}
	if o.withoutSpeakers {
		rows = append(rows,
			row{"scale, same lab without speakers: controller assigned every IP", secs(bare), "", ""},
			row{"scale, CPU used by the lab's processes without speakers", bareCPU, "", ""},
		)
	}
	if res.passes != "" {
		rows = append(rows, row{"scale, layer2 reconcile passes (full recomputations) per speaker during the run", res.passes, "", ""})
	}
	rows = append(rows,
		row{"scale, API writes in the lab (whole run, incl. set-up)", res.writes, "", ""},
		row{"scale, CPU used by the lab's processes during the run", res.cpu, "", ""},
		row{"scale, CPU used by the API server alone (baseline, Services + statuses)", baseCPU, "", ""},
	)
	return rows, nil
}

// baselineRun times a plain client on a fresh API server creating the
// Services (and, if slices, one EndpointSlice each) and writing the
// statuses the controller would, until an informer has seen every IP.
func baselineRun(ctx context.Context, o options, slices bool) (time.Duration, string, error) {
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return 0, "", err
	}
	defer func() {
		c.Stop()
		if o.keepDir {
			progress("  cluster files kept in %s", c.Dir)
		} else {
			_ = os.RemoveAll(c.Dir)
		}
	}()
	cs, err := clientset(c.Config)
	if err != nil {
		return 0, "", err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}, metav1.CreateOptions{}); err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, o.phaseTimeout)
	defer cancel()
	seen, err := watchAssigned(ctx, cs, o.services)
	if err != nil {
		return 0, "", err
	}
	w := &workload{cs: cs, n: o.services, concurrency: o.concurrency, writeStatus: true}
	if slices {
		w.nodes = []string{"node1", "node2", "node3"}
		for i := range w.nodes {
			w.podIPs = append(w.podIPs, lab.PodIPv4(i+1).String())
		}
	}
	cpu0 := benchkit.SampleChildren()
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- w.run(ctx) }()
	if err := <-errc; err != nil {
		return 0, "", err
	}
	select {
	case <-seen.done:
	case <-ctx.Done():
		return 0, "", fmt.Errorf("%d/%d statuses seen: %w", seen.count(), o.services, ctx.Err())
	}
	d := seen.at.Sub(start)
	cpu := benchkit.CPUSummary(cpu0, benchkit.SampleChildren())
	progress("  %d Services written in %s; CPU: %s; API writes: %s", o.services, secs(d), cpu, apiWrites(ctx, cs))
	return d, cpu, nil
}

// workload creates Services svc-0 .. svc-(n-1) in benchNS with
// concurrency goroutines, each followed by its EndpointSlice (one ready
// endpoint, on nodes[i mod len(nodes)]) when nodes is set, and by the
// status the controller would write when writeStatus is set. The first
// error stops everything.
type workload struct {
	cs          kubernetes.Interface
	n           int
	concurrency int
	nodes       []string
	podIPs      []string
	writeStatus bool
}

func (w *workload) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w.concurrency {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < w.n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := w.one(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func (w *workload) one(ctx context.Context, i int) error {
	name := "svc-" + strconv.Itoa(i)
	svc, err := w.cs.CoreV1().Services(benchNS).Create(ctx, cluster.LoadBalancer(benchNS, name), metav1.CreateOptions{})
	if err != nil {
		return err
	}
	if len(w.nodes) > 0 {
		k := i % len(w.nodes)
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: benchNS,
				Name:      name + "-bench",
				Labels:    map[string]string{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: "benchl2.ferrolb.io"},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(int32(lab.BackendPort))}},
			Endpoints: []discoveryv1.Endpoint{{
				Addresses:  []string{w.podIPs[k]},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
				NodeName:   ptr.To(w.nodes[k]),
			}},
		}
		if _, err := w.cs.DiscoveryV1().EndpointSlices(benchNS).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	if !w.writeStatus {
		return nil
	}
	ip := poolIP(i).String()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}},"status":{"loadBalancer":{"ingress":[{"ip":%q}]},"conditions":[{"type":%q,"status":"True","reason":%q,"message":%q,"observedGeneration":%d,"lastTransitionTime":%q}]}}`,
		assign.AnnotationAllocatedFromPool, scalePool, ip, assign.ConditionType, assign.ReasonAssigned,
		fmt.Sprintf("assigned %s from IPAddressPool %q", ip, scalePool), svc.Generation, time.Now().UTC().Format(time.RFC3339))
	_, err = w.cs.CoreV1().Services(benchNS).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	return err
}

// assigned counts the Services of benchNS that have an ingress IP.
type assigned struct {
	mu    sync.Mutex
	names map[string]bool
	want  int
	done  chan struct{} // closed when all want are seen
	at    time.Time     // when that happened; read after done
}

func (a *assigned) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.names)
}

func (a *assigned) observe(obj any) {
	svc, ok := obj.(*corev1.Service)
	if !ok || len(svc.Status.LoadBalancer.Ingress) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.names[svc.Name] {
		return
	}
	a.names[svc.Name] = true
	if len(a.names) == a.want {
		a.at = time.Now()
		close(a.done)
	}
}

// watchAssigned starts an informer on benchNS's Services (until ctx ends)
// and returns once it has synced.
func watchAssigned(ctx context.Context, cs kubernetes.Interface, want int) (*assigned, error) {
	a := &assigned{names: map[string]bool{}, want: want, done: make(chan struct{})}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(benchNS))
	inf := f.Core().V1().Services().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.observe,
		UpdateFunc: func(_, obj any) { a.observe(obj) },
	}); err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, errors.New("service informer did not sync")
	}
	return a, nil
}

// scaleResult is what the lab run measured.
type scaleResult struct {
	answered, assigned  time.Duration
	single, multi, none int
	perNode             string
	mem                 []speakerMem
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

func labScaleRun(ctx context.Context, o options) (scaleResult, error) {
	var res scaleResult
	l, err := startLab(ctx, o, []string{bigPool})
	if err != nil {
		return res, err
	}
	defer closeLab(l, o)
	if err := l.Cluster.ApplyYAML(ctx, scaleConfig(o.services)); err != nil {
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
	p, err := openProber(l.Client.NS)
	if err != nil {
		return res, err
	}
	defer p.close()
	macs := map[wire.MAC]string{}
	var nodes, podIPs []string
	for _, nd := range l.Nodes {
		m, err := wire.MACFrom(nd.MAC)
		if err != nil {
			return res, err
		}
		macs[m] = nd.Name
		nodes = append(nodes, nd.Name)
		podIPs = append(podIPs, nd.PodIPv4.String())
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

	w := &workload{cs: cs, n: o.services, concurrency: o.concurrency, nodes: nodes, podIPs: podIPs}
	if o.pprofPort != 0 && o.cpuProfile > 0 {
		go saveCPUProfile(ctx, l, o)
	}
	passes0 := reconcilePasses(ctx, l)
	cpu0 := benchkit.SampleChildren()
	start := time.Now()
	created := make(chan error, 1)
	go func() { created <- w.run(ctx) }()
	var last time.Time
	assignedc := seen.done
	nextReport := start.Add(5 * time.Second)
	for {
		mu.Lock()
		var pending []netip.Addr
		for _, ip := range ips {
			if _, ok := answered[ip]; !ok {
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
			progress("  all Services and slices created after %s", secs(time.Since(start)))
			created = nil
		case <-assignedc:
			res.assigned = seen.at.Sub(start)
			progress("  controller assigned every IP after %s", secs(res.assigned))
			assignedc = nil
		default:
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(nextReport) {
			progress("  %d/%d assigned, %d/%d answer ARP after %s (prober drops %d)", seen.count(), o.services, done, o.services, secs(time.Since(start)), p.drops())
			nextReport = nextReport.Add(5 * time.Second)
		}
		if err := p.request(ctx, pending); err != nil {
			return res, err
		}
		if err := sleep(ctx, arpRound); err != nil {
			return res, fmt.Errorf("%d/%d IPs answered ARP, %d/%d assigned: %w", done, o.services, seen.count(), o.services, err)
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
	res.writes = apiWrites(ctx, cs)
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
			res.assigned = seen.at.Sub(start)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	progress("  every IP answers ARP after %s", secs(res.answered))

	progress("  settling for %s", o.settle)
	if err := sleep(ctx, o.settle); err != nil {
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
		sp, err := l.Speaker(res.mem[i].node)
		if err != nil {
			return res, err
		}
		if res.mem[i].rss, err = statusField(sp.PID(), "VmRSS:"); err != nil {
			return res, err
		}
		if res.mem[i].peak, err = statusField(sp.PID(), "VmHWM:"); err != nil {
			return res, err
		}
		if res.mem[i].anon, err = statusField(sp.PID(), "RssAnon:"); err != nil {
			return res, err
		}
		if res.mem[i].file, err = statusField(sp.PID(), "RssFile:"); err != nil {
			return res, err
		}
		progress("  speaker on %s: VmRSS %s (anonymous %s, file %s), VmHWM %s", res.mem[i].node, mib(res.mem[i].rss), mib(res.mem[i].anon), mib(res.mem[i].file), mib(res.mem[i].peak))
	}
	if o.pprofPort != 0 {
		saveProfiles(ctx, l, o)
	}
	return res, nil
}

// bareLabRun is the scale run's lab without speakers: the same workload,
// timed until the controller has assigned every IP. It tells the
// speakers' share of the lab run.
func bareLabRun(ctx context.Context, o options) (time.Duration, string, error) {
	l, err := startLab(ctx, o, []string{bigPool})
	if err != nil {
		return 0, "", err
	}
	defer closeLab(l, o)
	if err := l.Cluster.ApplyYAML(ctx, scaleConfig(o.services)); err != nil {
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
	// Ready: the controller assigns a probe.
	probe := cluster.LoadBalancer("default", "probe")
	probe.Annotations = map[string]string{"metallb.io/loadBalancerIPs": probeIP}
	if _, err := cs.CoreV1().Services("default").Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		return 0, "", err
	}
	for {
		svc, err := cs.CoreV1().Services("default").Get(ctx, "probe", metav1.GetOptions{})
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
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// statusField reads a size field (kB) of /proc/<pid>/status, in bytes.
func statusField(pid int, field string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// saveProfiles fetches each speaker's heap profile (and goroutine dump)
// from its pprof endpoint inside its node and writes them to
// o.profileDir. Failures are only reported.
func saveProfiles(ctx context.Context, l *lab.Lab, o options) {
	dir := o.profileDir
	if dir == "" {
		dir = "."
	}
	for _, nd := range l.Nodes {
		c := &http.Client{Transport: &http.Transport{DialContext: benchkit.NSDialer(nd.NS), DisableKeepAlives: true}, Timeout: 30 * time.Second}
		for _, prof := range []string{"heap", "allocs", "goroutine"} {
			url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/%s", o.pprofPort, prof)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				progress("  pprof: %v", err)
				continue
			}
			resp, err := c.Do(req)
			if err != nil {
				progress("  pprof %s on %s: %v", prof, nd.Name, err)
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				progress("  pprof %s on %s: status %d %v", prof, nd.Name, resp.StatusCode, err)
				continue
			}
			path := filepath.Join(dir, fmt.Sprintf("speaker-%s-%s.pb.gz", nd.Name, prof))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				progress("  pprof: %v", err)
				continue
			}
			progress("  saved %s", path)
		}
	}
}

// saveCPUProfile records node1's speaker CPU profile for o.cpuProfile from
// the start of the scale workload into o.profileDir. Failures are only
// reported.
func saveCPUProfile(ctx context.Context, l *lab.Lab, o options) {
	nd := l.Nodes[0]
	c := &http.Client{Transport: &http.Transport{DialContext: benchkit.NSDialer(nd.NS), DisableKeepAlives: true}, Timeout: o.cpuProfile + 30*time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", o.pprofPort, int(o.cpuProfile.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		progress("  cpu profile: %v", err)
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		progress("  cpu profile on %s: %v", nd.Name, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		progress("  cpu profile on %s: status %d %v", nd.Name, resp.StatusCode, err)
		return
	}
	dir := o.profileDir
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, fmt.Sprintf("speaker-%s-cpu.pb.gz", nd.Name))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		progress("  cpu profile: %v", err)
		return
	}
	progress("  saved %s", path)
}

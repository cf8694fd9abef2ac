package main

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/l2/wire"
	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

const (
	benchNS = "benchl2"
	// failoverServices is how many Services the failover lab holds: enough
	// that every node very likely owns one, so the trials can rotate the
	// owner. Only the chosen Service's IP is measured in a trial; the
	// others move with it when their owner dies, as they would.
	failoverServices = 9
	// steadyChecks consecutive ARP checks must agree for a steady state.
	steadyChecks = 4
	// checkWait is how long one ARP check collects answers.
	checkWait = 200 * time.Millisecond
	// failoverBound bounds one outage: past it the trial counts as failed.
	failoverBound = 20 * time.Second
	// recoverBound bounds the return to the steady state after a trial.
	recoverBound = 60 * time.Second
)

var failoverConfig = []byte(`
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: failover, namespace: ` + cluster.Namespace + `}
spec:
  addresses: [203.0.113.10-203.0.113.29]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: failover, namespace: ` + cluster.Namespace + `}
spec:
  ipAddressPools: [failover]
`)

// trial is the outcome of one failover trial.
type trial struct {
	ip          netip.Addr
	owner, next string
	ok          bool          // a request succeeded within failoverBound
	http        time.Duration // link down -> first successful response
	arp         time.Duration // link down -> first ARP packet for ip from another node (0: none seen)
	failed      int           // requests sent after link down that failed
	conflicts   int           // recovery checks where some IP had two or more MACs
	silent      int           // recovery checks where some IP had no answer
	silentFor   time.Duration // first to last of those checks
	back        bool          // the original owners answered alone again
	recovered   time.Duration // speaker restarted -> original owners alone
}

// failoverLab is the state shared by the trials.
type failoverLab struct {
	o      options
	l      *lab.Lab
	p      *prober
	web    *http.Client
	ips    []netip.Addr
	owners map[netip.Addr]string // the steady state
	macs   map[wire.MAC]string   // node MAC -> node name
	nodes  []string
}

func failoverRun(ctx context.Context, o options) ([]row, error) {
	l, err := benchkit.StartLab(ctx, o.KeepDir, nil, progress)
	if err != nil {
		return nil, err
	}
	defer benchkit.CloseLab(l, o.KeepDir, progress)
	f := &failoverLab{o: o, l: l, macs: map[wire.MAC]string{}}
	for _, n := range l.Nodes {
		m, err := wire.MACFrom(n.MAC)
		if err != nil {
			return nil, err
		}
		f.macs[m] = n.Name
		f.nodes = append(f.nodes, n.Name)
	}
	if err := f.setUp(ctx); err != nil {
		return nil, err
	}
	defer f.p.close()

	var trials []trial
	prev := ""
	for i := range o.trials {
		t, err := f.trial(ctx, i, prev)
		if err != nil {
			return failoverRows(trials), fmt.Errorf("trial %d: %w", i+1, err)
		}
		trials = append(trials, t)
		prev = t.owner
	}
	return failoverRows(trials), nil
}

// setUp applies the pool, starts the speakers, creates the Services with
// backends on every node and waits for the first steady state.
func (f *failoverLab) setUp(ctx context.Context) error {
	l := f.l
	if err := l.Cluster.ApplyYAML(ctx, failoverConfig); err != nil {
		return err
	}
	if err := l.StartSpeakers(ctx, f.o.SpeakerArgs()...); err != nil {
		return err
	}
	c := l.Cluster.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}); err != nil {
		return err
	}
	for i := range failoverServices {
		svc := cluster.LoadBalancer(benchNS, fmt.Sprintf("fo-%d", i))
		if err := c.Create(ctx, svc); err != nil {
			return err
		}
		if err := l.Backends(ctx, svc, f.nodes...); err != nil {
			return err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for i := range failoverServices {
		for {
			var svc corev1.Service
			err := c.Get(wctx, client.ObjectKey{Namespace: benchNS, Name: fmt.Sprintf("fo-%d", i)}, &svc)
			if err == nil && len(svc.Status.LoadBalancer.Ingress) > 0 {
				f.ips = append(f.ips, netip.MustParseAddr(svc.Status.LoadBalancer.Ingress[0].IP))
				break
			}
			if err := benchkit.Sleep(wctx, 100*time.Millisecond); err != nil {
				return fmt.Errorf("Service fo-%d has no IP: %w", i, err)
			}
		}
	}
	var err error
	if f.p, err = openProber(l.Client.NS); err != nil {
		return err
	}
	f.web = newHTTPClient(l.Client.NS, f.o.httpTimeout)
	st, err := f.steady(ctx, nil, time.Minute)
	if err != nil {
		return err
	}
	owners := st.owners
	f.owners = owners
	byNode := map[string][]string{}
	for _, ip := range f.ips {
		byNode[owners[ip]] = append(byNode[owners[ip]], ip.String())
	}
	progress("  owners: %v", byNode)
	return nil
}

// check asks who answers for every IP: the owner's name when exactly one
// node answers, and whether some IP had several answers or none.
func (f *failoverLab) check(ctx context.Context) (owners map[netip.Addr]string, conflict, silent bool, err error) {
	got, err := f.p.ask(ctx, f.ips, checkWait)
	if err != nil {
		return nil, false, false, err
	}
	owners = map[netip.Addr]string{}
	for _, ip := range f.ips {
		switch macs := got[ip]; len(macs) {
		case 0:
			silent = true
		case 1:
			owners[ip] = f.nodeOf(macs[0])
		default:
			conflict = true
			var names []string
			for _, m := range macs {
				names = append(names, f.nodeOf(m))
			}
			progress("    %s answered by %s", ip, strings.Join(names, " and "))
		}
	}
	return owners, conflict, silent, nil
}

func (f *failoverLab) nodeOf(m wire.MAC) string {
	if n, ok := f.macs[m]; ok {
		return n
	}
	return m.String()
}

// steadyState is what steady found.
type steadyState struct {
	owners    map[netip.Addr]string
	since     time.Time // when the first of the agreeing checks started
	conflicts int       // checks where some IP had two or more MACs
	silent    int       // checks where some IP had no answer
	// silentFor spans the checks that found an IP unanswered, from the
	// start of the first to the end of the last.
	silentFor time.Duration
}

// steady waits until steadyChecks checks in a row find every IP answered
// by exactly one node, the same each time, and equal to want if want is
// set.
func (f *failoverLab) steady(ctx context.Context, want map[netip.Addr]string, bound time.Duration) (steadyState, error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var st steadyState
	var last map[netip.Addr]string
	var silentFrom time.Time
	agree := 0
	for {
		at := time.Now()
		owners, conflict, quiet, err := f.check(ctx)
		if err != nil {
			return st, fmt.Errorf("no steady state (last owners %v): %w", last, err)
		}
		if conflict {
			st.conflicts++
		}
		if quiet {
			st.silent++
			if silentFrom.IsZero() {
				silentFrom = at
			}
			st.silentFor = time.Since(silentFrom)
		}
		good := !conflict && !quiet && len(owners) == len(f.ips) && (want == nil || mapsEqual(owners, want))
		switch {
		case good && agree > 0 && mapsEqual(owners, last):
			agree++
		case good:
			agree, st.since = 1, at
		default:
			agree = 0
		}
		last = owners
		if agree >= steadyChecks {
			st.owners = owners
			return st, nil
		}
		if err := benchkit.Sleep(ctx, 50*time.Millisecond); err != nil {
			return st, fmt.Errorf("no steady state (last owners %v): %w", last, err)
		}
	}
}

func mapsEqual(a, b map[netip.Addr]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// pick returns the IP for trial i: one owned by node i mod 3 if any (the
// owner rotates), else one not owned by the previous trial's owner.
func (f *failoverLab) pick(i int, prev string) netip.Addr {
	target := f.nodes[i%len(f.nodes)]
	var mine, others []netip.Addr
	for _, ip := range f.ips {
		switch {
		case f.owners[ip] == target:
			mine = append(mine, ip)
		case f.owners[ip] != prev:
			others = append(others, ip)
		}
	}
	if len(mine) > 0 {
		return mine[(i/len(f.nodes))%len(mine)]
	}
	if len(others) > 0 {
		return others[i%len(others)]
	}
	return f.ips[i%len(f.ips)]
}

func (f *failoverLab) trial(ctx context.Context, i int, prev string) (trial, error) {
	l := f.l
	ip := f.pick(i, prev)
	t := trial{ip: ip, owner: f.owners[ip]}
	var ownerMAC wire.MAC
	for m, n := range f.macs {
		if n == t.owner {
			ownerMAC = m
		}
	}
	url := "http://" + ip.String() + "/"
	client := f.web
	progress("  trial %d/%d: %s owned by %s", i+1, f.o.trials, ip, t.owner)

	// The client first reaches the IP.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for ok := 0; ok < 3; {
		if r := get(client, url); r.ok {
			ok++
		} else {
			ok = 0
		}
		if err := benchkit.Sleep(wctx, f.o.httpEvery); err != nil {
			return t, fmt.Errorf("%s not served before the trial: %w", ip, err)
		}
	}

	// Passive capture: the first ARP answer or announcement for ip from
	// another node (the client kernel's own requests get these answers).
	arpc := make(chan time.Time, 1)
	unsub := f.p.subscribe(func(e arpEvent) {
		if e.arp.SenderIP != ip || e.arp.SenderMAC == ownerMAC || e.probeReply() {
			return
		}
		if _, node := f.macs[e.arp.SenderMAC]; !node || (e.arp.Op != wire.ARPReply && !e.gratuitous()) {
			return
		}
		select {
		case arpc <- e.at:
		default:
		}
	})
	defer unsub()

	loop := startHTTPLoop(client, url, f.o.httpEvery)
	defer loop.close()
	if err := benchkit.Sleep(ctx, 300*time.Millisecond); err != nil {
		return t, err
	}
	kctx, kcancel := context.WithTimeout(ctx, 10*time.Second)
	defer kcancel()
	t0 := time.Now()
	if err := l.LinkDown(kctx, t.owner); err != nil {
		return t, err
	}
	down := time.Now()
	if err := l.KillSpeaker(kctx, t.owner, syscall.SIGKILL); err != nil {
		return t, err
	}
	octx, ocancel := context.WithTimeout(ctx, failoverBound)
	res, ok := loop.waitSuccess(octx, down, f.o.httpTimeout)
	ocancel()
	loop.close()
	unsub()
	if err := ctx.Err(); err != nil {
		return t, err
	}
	t.ok = ok
	if ok {
		t.http = res.end.Sub(t0)
	}
	_, t.failed = loop.count(down)
	select {
	case at := <-arpc:
		t.arp = at.Sub(t0)
	default:
	}
	if got, err := f.p.ask(ctx, []netip.Addr{ip}, checkWait); err == nil {
		var names []string
		for _, m := range got[ip] {
			names = append(names, f.nodeOf(m))
		}
		t.next = strings.Join(names, "+")
	}
	if ok {
		progress("    %s -> %s: HTTP back after %s (ARP from the new owner after %s), %d requests failed, served by %s's backend",
			t.owner, t.next, benchkit.Secs(t.http), benchkit.Secs(t.arp), t.failed, res.body)
	} else {
		progress("    %s -> %s: no successful request within %s (%d failed)", t.owner, t.next, failoverBound, t.failed)
	}

	// Restore and wait for the original owners to answer alone.
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if err := l.LinkUp(rctx, t.owner); err != nil {
		return t, err
	}
	start := time.Now()
	if err := l.RestartSpeaker(rctx, t.owner); err != nil {
		return t, err
	}
	st, err := f.steady(ctx, f.owners, recoverBound)
	t.conflicts, t.silent, t.silentFor = st.conflicts, st.silent, st.silentFor
	if err != nil {
		// Accept whatever single-owner state the speakers settled on.
		progress("    original owners not back: %v", err)
		st, err := f.steady(ctx, nil, recoverBound)
		t.conflicts += st.conflicts
		t.silent += st.silent
		t.silentFor += st.silentFor
		if err != nil {
			return t, err
		}
		f.owners = st.owners
	} else {
		t.back, t.recovered = true, st.since.Sub(start)
	}
	progress("    recovered in %s: %d checks with two MACs, %d with an unanswered IP (over %s)", benchkit.Secs(t.recovered), t.conflicts, t.silent, benchkit.Secs(t.silentFor))
	return t, nil
}

func failoverRows(trials []trial) []row {
	if len(trials) == 0 {
		return nil
	}
	var httpT, arpT, recT, silentT []time.Duration
	failed, conflicted, slow := 0, 0, 0
	var owners []string
	for _, t := range trials {
		owners = append(owners, t.owner)
		if t.conflicts > 0 {
			conflicted++
		}
		silentT = append(silentT, t.silentFor)
		if !t.back {
			slow++
		} else {
			recT = append(recT, t.recovered)
		}
		if !t.ok {
			failed++
			continue
		}
		httpT = append(httpT, t.http)
		if t.arp > 0 {
			arpT = append(arpT, t.arp)
		}
	}
	n := len(trials)
	rows := []row{}
	if len(httpT) > 0 {
		all := make([]string, len(httpT))
		for i, d := range httpT {
			all[i] = fmt.Sprintf("%.2f", d.Seconds())
		}
		rows = append(rows,
			row{fmt.Sprintf("failover, link down -> HTTP served, median of %d", len(httpT)), benchkit.Secs(benchkit.Median(httpT)), "< 1 s", metalLBFailover},
			row{"failover, worst", benchkit.Secs(slices.Max(httpT)), "< 2 s", ""},
			row{"failover, each trial (s)", strings.Join(all, ", "), "", ""},
		)
	}
	if len(arpT) > 0 {
		rows = append(rows, row{"failover, link down -> first ARP from the new owner, median / worst", benchkit.Secs(benchkit.Median(arpT)) + " / " + benchkit.Secs(slices.Max(arpT)), "", ""})
	}
	rows = append(rows,
		row{"failover, owners in turn", strings.Join(owners, ", "), "", ""},
		row{fmt.Sprintf("failover, trials with no success within %s", failoverBound), fmt.Sprintf("%d of %d", failed, n), "0", ""},
		row{"failover, trials with 2 MACs at a check after recovery", fmt.Sprintf("%d of %d", conflicted, n), "0", ""},
		row{"failover, trials whose original owners did not come back", fmt.Sprintf("%d of %d", slow, n), "", ""},
	)
	rows = append(rows, row{"recovery, span of ARP checks (every ~0.25 s) finding an IP unanswered, median / worst", benchkit.Secs(benchkit.Median(silentT)) + " / " + benchkit.Secs(slices.Max(silentT)), "", ""})
	if len(recT) > 0 {
		rows = append(rows, row{"recovery, speaker restarted -> original owners alone, median / worst", benchkit.Secs(benchkit.Median(recT)) + " / " + benchkit.Secs(slices.Max(recT)), "", ""})
	}
	return rows
}

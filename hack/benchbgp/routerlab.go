package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// routerLab is the lab of the latency run and the failure trials: three
// nodes, frr (BFD) and frrhold (hold time only), each peering with every
// node.
type routerLab struct {
	o        options
	l        *lab.Lab
	cs       kubernetes.Interface
	bfd      *lab.Router // frr
	hold     *lab.Router // frrhold
	bfdRIB   *vty        // frr's bgpd
	holdRIB  *vty        // frrhold's bgpd
	bfdd     *vty        // frr's bfdd
	nodes    []string
	nodeIPs  map[string]netip.Addr
	statuses *statusTimes
}

func routerLabRun(ctx context.Context, o options) ([]row, error) {
	progress("router lab: 3 nodes; %s with BFD %s x %d, %s without BFD at hold time %s", frrBFD.name, bfdInterval, bfdMultiplier, frrHold.name, holdTime)
	// The status watch ends with the lab.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l, err := benchkit.StartLab(ctx, o.KeepDir, nil, progress)
	if err != nil {
		return nil, err
	}
	defer benchkit.CloseLab(l, o.KeepDir, progress)
	rl := &routerLab{o: o, l: l, nodeIPs: map[string]netip.Addr{}}
	defer rl.closeVTYs()
	if err := rl.setUp(ctx); err != nil {
		return nil, fmt.Errorf("router lab: %w", err)
	}
	var rows []row
	if !o.skipLatency {
		progress("latency: %d Services created one at a time", o.latencyServices)
		r, err := rl.latencyRun(ctx)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("latency: %w", err)
		}
	}
	if !o.skipFailover {
		progress("failover: %d trials (link down, then SIGKILL of the speaker)", o.trials)
		r, err := rl.failoverRun(ctx)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("failover: %w", err)
		}
	}
	return rows, nil
}

func (rl *routerLab) closeVTYs() {
	for _, v := range []*vty{rl.bfdRIB, rl.holdRIB, rl.bfdd} {
		if v != nil {
			v.close()
		}
	}
}

// setUp starts both routers and the speakers, applies the configuration
// and waits until the probe Service's route has a path from every node on
// both routers and frr's BFD sessions are up.
func (rl *routerLab) setUp(ctx context.Context) error {
	l := rl.l
	for _, n := range l.Nodes {
		rl.nodes = append(rl.nodes, n.Name)
		rl.nodeIPs[n.Name] = n.IPv4
	}
	var err error
	rl.bfd, err = l.AddRouter(ctx, lab.RouterOptions{
		Kind: frrBFD.kind, Name: frrBFD.name, ASN: frrBFD.asn, IPv4: frrBFD.ipv4(), IPv6: frrBFD.ipv6(),
		Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: speakerASN,
			BFD: &lab.BFDOptions{RxInterval: bfdInterval, TxInterval: bfdInterval, Multiplier: bfdMultiplier}}),
	})
	if err != nil {
		return err
	}
	rl.hold, err = l.AddRouter(ctx, lab.RouterOptions{
		Kind: frrHold.kind, Name: frrHold.name, ASN: frrHold.asn, IPv4: frrHold.ipv4(), IPv6: frrHold.ipv6(),
		Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: speakerASN, HoldTime: holdTime}),
	})
	if err != nil {
		return err
	}
	rl.bfdRIB, rl.holdRIB, rl.bfdd = dialVTY(rl.bfd, "bgpd"), dialVTY(rl.hold, "bgpd"), dialVTY(rl.bfd, "bfdd")
	if err := applyConfig(ctx, l, routerLabConfig()); err != nil {
		return err
	}
	if err := l.StartSpeakers(ctx, rl.o.SpeakerArgs()...); err != nil {
		return err
	}
	if rl.cs, err = benchkit.Clientset(l.Cluster.Config); err != nil {
		return err
	}
	if err := benchkit.CreateNamespace(ctx, rl.cs, benchNS); err != nil {
		return err
	}
	for _, r := range []*lab.Router{rl.bfd, rl.hold} {
		if err := r.WaitEstablished(ctx, 90*time.Second); err != nil {
			return err
		}
	}
	progress("  sessions established on both routers")
	if rl.statuses, err = watchStatuses(ctx, rl.cs); err != nil {
		return err
	}
	probe := pinned("probe", netip.MustParseAddr(probeIP))
	if err := l.Backends(ctx, probe, rl.nodes...); err != nil {
		return err
	}
	if _, err := rl.cs.CoreV1().Services(benchNS).Create(ctx, probe, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := rl.steady(ctx, 2*time.Minute); err != nil {
		return fmt.Errorf("probe Service %s: %w", probeIP, err)
	}
	progress("  probe %s has a path from every node on both routers, BFD up", probeIP)
	return nil
}

// applyConfig applies the metallb.io objects, again (at most 3 times in
// all) if the API server fails a request: on a loaded machine it once
// timed an apply out after 34 s. Server-side apply is idempotent.
func applyConfig(ctx context.Context, l *lab.Lab, text []byte) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = l.Cluster.ApplyYAML(ctx, text); err == nil || ctx.Err() != nil {
			return err
		}
		progress("  applying the configuration (attempt %d of 3): %v", attempt, err)
		if err := benchkit.Sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	return err
}

// pinned is a LoadBalancer Service in benchNS asking for ip.
func pinned(name string, ip netip.Addr) *corev1.Service {
	svc := cluster.LoadBalancer(benchNS, name)
	svc.Annotations = map[string]string{"metallb.io/loadBalancerIPs": ip.String()}
	return svc
}

// hasAll reports whether peers holds every address of want.
func hasAll(peers []netip.Addr, want []netip.Addr) bool {
	for _, w := range want {
		if !slices.Contains(peers, w) {
			return false
		}
	}
	return true
}

func (rl *routerLab) allNodeIPs() []netip.Addr {
	var out []netip.Addr
	for _, n := range rl.nodes {
		out = append(out, rl.nodeIPs[n])
	}
	return out
}

// steadyChecks consecutive checks, steadyEvery apart, must find the
// steady state: the probe route with a path from every node on both
// routers and every BFD session of frr up. FRR replaces a neighbour's BFD
// session once BGP is up, so a state right after a restart is not steady.
const (
	steadyChecks = 4
	steadyEvery  = 500 * time.Millisecond
)

// steady waits (at most bound) for the steady state and returns how long
// it took.
func (rl *routerLab) steady(ctx context.Context, bound time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	prefix := host(netip.MustParseAddr(probeIP))
	want := rl.allNodeIPs()
	agree := 0
	var since time.Time
	var last string
	for {
		ok, state, err := rl.check(ctx, prefix, want)
		switch {
		case err != nil:
			last, agree = err.Error(), 0
		case ok:
			if agree == 0 {
				since = time.Now()
			}
			agree++
		default:
			last, agree = state, 0
		}
		if agree >= steadyChecks {
			return since.Sub(start), nil
		}
		if err := benchkit.Sleep(ctx, steadyEvery); err != nil {
			return 0, fmt.Errorf("no steady state within %s (last: %s): %w", bound, last, err)
		}
	}
}

func (rl *routerLab) check(ctx context.Context, prefix netip.Prefix, want []netip.Addr) (bool, string, error) {
	a, err := rl.bfdRIB.routePeers(ctx, prefix)
	if err != nil {
		return false, "", err
	}
	b, err := rl.holdRIB.routePeers(ctx, prefix)
	if err != nil {
		return false, "", err
	}
	up, err := rl.bfdd.bfdUp(ctx)
	if err != nil {
		return false, "", err
	}
	bfdOK := true
	for _, w := range want {
		bfdOK = bfdOK && up[w]
	}
	state := fmt.Sprintf("%s paths from %v, %s paths from %v, BFD up %v", frrBFD.name, a, frrHold.name, b, up)
	return hasAll(a, want) && hasAll(b, want) && bfdOK, state, nil
}

// statusTimes records when each Service of benchNS was first seen with
// an ingress IP (the controller's part of the latency).
type statusTimes struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (s *statusTimes) observe(svc *corev1.Service) {
	if len(svc.Status.LoadBalancer.Ingress) == 0 {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.at[svc.Name]; !seen {
		s.at[svc.Name] = now
	}
}

func (s *statusTimes) get(name string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[name]
	return t, ok
}

// watchStatuses starts an informer on benchNS's Services (until ctx ends)
// and returns once it has synced.
func watchStatuses(ctx context.Context, cs kubernetes.Interface) (*statusTimes, error) {
	s := &statusTimes{at: map[string]time.Time{}}
	if err := benchkit.WatchServices(ctx, cs, benchNS, s.observe); err != nil {
		return nil, err
	}
	return s, nil
}

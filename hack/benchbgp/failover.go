package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/ferrolb/ferrolb/test/benchkit"
)

// withdrawBound bounds the wait for both routers to drop a dead node's
// path (the hold time is 3 s).
const withdrawBound = 15 * time.Second

// failure is the outcome of one trial, times from just before the link
// went down.
type failure struct {
	node       string
	linkDown   time.Duration // how long taking the link down took
	bfdDown    time.Duration // frr's BFD session with the node left up
	bfdSession time.Duration // frr's BGP session with the node left Established
	bfdGone    time.Duration // frr (BFD) dropped the node's path
	holdGone   time.Duration // frrhold (hold time) dropped it
	gotBFDDown bool
	gotSession bool
	gotBFD     bool
	gotHold    bool
	othersKept bool          // both routers kept the other nodes' paths meanwhile
	recovered  time.Duration // speaker restarted -> steady again
}

func (rl *routerLab) failoverRun(ctx context.Context) ([]row, error) {
	var trials []failure
	for i := range rl.o.trials {
		f, err := rl.trial(ctx, i)
		if err != nil {
			return failoverRows(trials), fmt.Errorf("trial %d: %w", i+1, err)
		}
		trials = append(trials, f)
	}
	return failoverRows(trials), nil
}

// trial kills node i mod 3 hard (its LAN link down, then SIGKILL of its
// speaker) and queries both routers' RIBs and frr's BFD sessions every
// o.poll until both routers dropped the node's path from the probe
// route. Then it brings the node back and waits for the steady state.
func (rl *routerLab) trial(ctx context.Context, i int) (failure, error) {
	l := rl.l
	node := rl.nodes[i%len(rl.nodes)]
	victim := rl.nodeIPs[node]
	f := failure{node: node, othersKept: true}
	progress("  trial %d/%d: %s (%s) dies", i+1, rl.o.trials, node, victim)
	if _, err := rl.steady(ctx, 90*time.Second); err != nil {
		return f, err
	}
	prefix := host(netip.MustParseAddr(probeIP))
	var others []netip.Addr
	for _, a := range rl.allNodeIPs() {
		if a != victim {
			others = append(others, a)
		}
	}

	kctx, kcancel := context.WithTimeout(ctx, 10*time.Second)
	defer kcancel()
	t0 := time.Now()
	if err := l.LinkDown(kctx, node); err != nil {
		return f, err
	}
	f.linkDown = time.Since(t0)
	if err := l.KillSpeaker(kctx, node, syscall.SIGKILL); err != nil {
		return f, err
	}
	killed := time.Since(t0)

	wctx, wcancel := context.WithTimeout(ctx, withdrawBound)
	defer wcancel()
	tick := time.NewTicker(rl.o.poll)
	defer tick.Stop()
	for !f.gotBFD || !f.gotHold {
		if !f.gotBFD {
			peers, err := rl.bfdRIB.routePeers(wctx, prefix)
			at := time.Since(t0)
			if err == nil && !slices.Contains(peers, victim) {
				f.bfdGone, f.gotBFD = at, true
				f.othersKept = f.othersKept && hasAll(peers, others)
			}
		}
		if !f.gotHold {
			peers, err := rl.holdRIB.routePeers(wctx, prefix)
			at := time.Since(t0)
			if err == nil && !slices.Contains(peers, victim) {
				f.holdGone, f.gotHold = at, true
				f.othersKept = f.othersKept && hasAll(peers, others)
			}
		}
		if !f.gotBFDDown {
			up, err := rl.bfdd.bfdUp(wctx)
			at := time.Since(t0)
			if err == nil && !up[victim] {
				f.bfdDown, f.gotBFDDown = at, true
			}
		}
		if !f.gotSession {
			got, err := rl.bfdRIB.received(wctx)
			at := time.Since(t0)
			if _, established := got[victim]; err == nil && !established {
				f.bfdSession, f.gotSession = at, true
			}
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return f, ctx.Err()
			}
			progress("    not every path dropped within %s", withdrawBound)
		case <-tick.C:
			continue
		}
		break
	}
	progress("    link down took %s, speaker killed after %s; %s: BFD down after %s, BGP session down after %s, path dropped after %s; %s (hold %s): path dropped after %s; other paths kept: %v",
		msec(f.linkDown), msec(killed), frrBFD.name, opt(f.bfdDown, f.gotBFDDown), opt(f.bfdSession, f.gotSession), opt(f.bfdGone, f.gotBFD),
		frrHold.name, holdTime, opt(f.holdGone, f.gotHold), f.othersKept)

	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if err := l.LinkUp(rctx, node); err != nil {
		return f, err
	}
	if err := l.RestartSpeaker(rctx, node); err != nil {
		return f, err
	}
	back, err := rl.steady(ctx, 90*time.Second)
	if err != nil {
		return f, fmt.Errorf("%s did not come back: %w", node, err)
	}
	f.recovered = back
	progress("    %s back (all paths, BFD up) %s after its speaker restarted", node, benchkit.Secs(back))
	return f, nil
}

// opt writes a duration, or "never" when it was not observed.
func opt(d time.Duration, ok bool) string {
	if !ok {
		return "never"
	}
	return msec(d)
}

func failoverRows(trials []failure) []row {
	if len(trials) == 0 {
		return nil
	}
	var bfd, hold, bfdDown, sess, rec []time.Duration
	var nodes []string
	kept := 0
	for _, f := range trials {
		nodes = append(nodes, f.node)
		if f.gotBFD {
			bfd = append(bfd, f.bfdGone)
		}
		if f.gotHold {
			hold = append(hold, f.holdGone)
		}
		if f.gotBFDDown {
			bfdDown = append(bfdDown, f.bfdDown)
		}
		if f.gotSession {
			sess = append(sess, f.bfdSession)
		}
		if f.othersKept {
			kept++
		}
		if f.recovered > 0 {
			rec = append(rec, f.recovered)
		}
	}
	n := len(trials)
	stats := func(xs []time.Duration) string {
		if len(xs) == 0 {
			return "never"
		}
		return fmt.Sprintf("%s / %s", msec(benchkit.Median(xs)), msec(slices.Max(xs)))
	}
	bfdName := fmt.Sprintf("BFD %d ms x %d", bfdInterval.Milliseconds(), bfdMultiplier)
	rows := []row{
		{fmt.Sprintf("node dies -> FRR drops its path, %s, median / worst of %d", bfdName, len(bfd)), stats(bfd), failoverTarget, metalLBFailoverBFD},
		{"node dies -> FRR drops its path, " + bfdName + ", each trial (ms)", each(bfd), "", ""},
		{"node dies -> FRR's BFD session down; its BGP session down, median / worst", "BFD " + stats(bfdDown) + "; BGP " + stats(sess), "", ""},
		{fmt.Sprintf("node dies -> FRR drops its path, no BFD, hold time %s, median / worst of %d", holdTime, len(hold)), stats(hold), "", metalLBFailover},
		{"node dies -> FRR drops its path, no BFD, each trial (ms)", each(hold), "", ""},
		{"node dies, trials where a router lost another node's path", fmt.Sprintf("%d of %d", n-kept, n), "0", ""},
		{"node dies, victims in turn", fmt.Sprint(nodes), "", ""},
	}
	if len(bfd) < n || len(hold) < n {
		rows = append(rows, row{fmt.Sprintf("node dies, trials without a drop within %s (BFD / hold)", withdrawBound), fmt.Sprintf("%d / %d of %d", n-len(bfd), n-len(hold), n), "0", ""})
	}
	if len(rec) > 0 {
		rows = append(rows, row{"recovery, link up + speaker restarted -> all paths and BFD steady, median / worst", benchkit.Secs(benchkit.Median(rec)) + " / " + benchkit.Secs(slices.Max(rec)), "", ""})
	}
	return rows
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

// Start starts the router's daemons after Stop or Kill (AddRouter starts
// them the first time) and waits until they answer queries; at most 20 s.
// It fails if a daemon still runs.
func (r *Router) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.procs {
		if !p.Exited() {
			return fmt.Errorf("lab: router %s: %s (pid %d) still runs; Stop or Kill it first", r.Name, p.Name, p.PID())
		}
	}
	r.procs = nil
	ctx, cancel := context.WithTimeout(ctx, routerStartTimeout)
	defer cancel()
	err := r.startLocked(ctx)
	if err != nil {
		tails := r.tailsLocked(15)
		_ = r.killLocked(context.Background())
		return fmt.Errorf("%w\n%s", err, tails)
	}
	return nil
}

func (r *Router) startLocked(ctx context.Context) error {
	for _, d := range r.impl.daemons(r) {
		for _, s := range d.sockets {
			if err := os.Remove(s); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("lab: router %s: %w", r.Name, err)
			}
		}
		p, err := r.l.StartProcess(r.Host, d.name, nil, d.bin, d.args...)
		if err != nil {
			return err
		}
		r.procs = append(r.procs, p)
		for _, s := range d.sockets {
			if err := r.waitFile(ctx, p, s); err != nil {
				return err
			}
		}
	}
	var last error
	for {
		for _, p := range r.procs {
			if p.Exited() {
				return fmt.Errorf("lab: router %s: %s exited at start", r.Name, p.Name)
			}
		}
		if last = r.impl.ready(ctx, r); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: router %s not answering: %w (last error: %v)", r.Name, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitFile waits until daemon p has created path.
func (r *Router) waitFile(ctx context.Context, p *Proc, path string) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("lab: router %s: %s exited before creating %s", r.Name, p.Name, path)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: router %s: %s did not create %s: %w", r.Name, p.Name, path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *Router) tailsLocked(n int) string {
	var b strings.Builder
	for _, p := range r.procs {
		fmt.Fprintf(&b, "--- %s (%s):\n%s\n", p.Name, p.Log, p.Tail(n))
	}
	return b.String()
}

// Stop ends the router's daemons gracefully, last started first: SIGTERM
// to each process group, SIGKILL after 5 s. The sessions close with a
// notification; FRR's zebra and BIRD remove their kernel routes.
func (r *Router) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for i := len(r.procs) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.procs[i].StopGrace(5 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Kill sends SIGKILL to every daemon of the router at once and waits
// (bounded by ctx) until they are gone: the kernel closes their TCP
// connections (neighbours see the sessions end at once) and the routes
// they installed stay in the router's kernel. Take the router's link down
// first (Lab.LinkDown) to have neighbours notice only by timers.
func (r *Router) Kill(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.killLocked(ctx)
}

func (r *Router) killLocked(ctx context.Context) error {
	var errs []error
	for _, p := range r.procs {
		if err := p.Signal(syscall.SIGKILL); err != nil {
			errs = append(errs, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, p := range r.procs {
		if err := p.Wait(ctx); err != nil && ctx.Err() != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Restart stops the router gracefully and starts it again.
func (r *Router) Restart(ctx context.Context) error {
	if err := r.Stop(ctx); err != nil {
		return err
	}
	return r.Start(ctx)
}

// Running reports whether every daemon of the router runs.
func (r *Router) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.procs) == 0 {
		return false
	}
	for _, p := range r.procs {
		if p.Exited() {
			return false
		}
	}
	return true
}

// PIDs returns the PIDs of the router's current daemons (running or not).
func (r *Router) PIDs() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, p := range r.procs {
		out = append(out, p.PID())
	}
	return out
}

// Procs returns the router's current daemons (their logs are in Proc.Log).
func (r *Router) Procs() []*Proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.procs)
}

// Routes returns the BGP routes the router holds for a family, sorted by
// prefix. Only valid paths count.
func (r *Router) Routes(ctx context.Context, f model.Family) ([]Route, error) {
	rs, err := r.impl.routes(ctx, r, f)
	if err != nil {
		return nil, fmt.Errorf("lab: routes of %s: %w", r.Name, err)
	}
	sortRoutes(rs)
	return rs, nil
}

// Route returns the router's route for prefix, or false when it has none.
func (r *Router) Route(ctx context.Context, prefix netip.Prefix) (Route, bool, error) {
	rs, err := r.Routes(ctx, model.FamilyOf(prefix.Addr()))
	if err != nil {
		return Route{}, false, err
	}
	for _, rt := range rs {
		if rt.Prefix == prefix {
			return rt, true, nil
		}
	}
	return Route{}, false, nil
}

// Neighbors returns the state of every configured neighbour's session, in
// address order, with its BFD state.
func (r *Router) Neighbors(ctx context.Context) ([]NeighborStatus, error) {
	ns, err := r.impl.neighbors(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("lab: neighbours of %s: %w", r.Name, err)
	}
	slices.SortFunc(ns, func(a, b NeighborStatus) int { return a.Address.Compare(b.Address) })
	return ns, nil
}

// Neighbor returns the session with one neighbour.
func (r *Router) Neighbor(ctx context.Context, addr netip.Addr) (NeighborStatus, error) {
	ns, err := r.Neighbors(ctx)
	if err != nil {
		return NeighborStatus{}, err
	}
	for _, n := range ns {
		if n.Address == addr {
			return n, nil
		}
	}
	return NeighborStatus{}, fmt.Errorf("lab: %s has no neighbour %v", r.Name, addr)
}

// BFDPeers returns the router's BFD sessions (none for GoBGP).
func (r *Router) BFDPeers(ctx context.Context) ([]BFDPeer, error) {
	ps, err := r.impl.bfdPeers(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("lab: BFD peers of %s: %w", r.Name, err)
	}
	slices.SortFunc(ps, func(a, b BFDPeer) int { return a.Peer.Compare(b.Peer) })
	return ps, nil
}

// WaitEstablished polls (every 200 ms, at most timeout) until the
// sessions with the given neighbours (every configured one when none is
// given) are Established.
func (r *Router) WaitEstablished(ctx context.Context, timeout time.Duration, addrs ...netip.Addr) error {
	if len(addrs) == 0 {
		for _, n := range r.Peers {
			addrs = append(addrs, n.Address)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ns, err := r.Neighbors(ctx)
		last = err
		if err == nil {
			var down []string
			for _, a := range addrs {
				i := slices.IndexFunc(ns, func(n NeighborStatus) bool { return n.Address == a })
				switch {
				case i < 0:
					down = append(down, a.String()+": not listed")
				case !ns[i].Up():
					down = append(down, a.String()+": "+ns[i].State)
				}
			}
			if len(down) == 0 {
				return nil
			}
			last = fmt.Errorf("not established: %s", strings.Join(down, ", "))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: router %s after %v: %v", r.Name, timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// KernelRoute returns the gateways of the router's kernel route to
// prefix (several for a multipath route), nil when there is none: what
// traffic through the router follows. FRR and BIRD route IPv6 through the
// neighbours' link-local addresses when they have them.
func (r *Router) KernelRoute(ctx context.Context, prefix netip.Prefix) ([]netip.Addr, error) {
	return kernelRoute(ctx, r.Host.NS, prefix)
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

// Options configures Start. The zero value is a three-node lab with the
// controller running.
type Options struct {
	// Nodes is the number of nodes, 1 to MaxNodes; zero means 3.
	Nodes int
	// NoController leaves the controller off.
	NoController bool
	// ControllerArgs are appended to the controller's flags.
	ControllerArgs []string
	// OnLink are the prefixes the client and the nodes reach on-link (they
	// ARP/NDP for them on eth0); nil means PoolV4 and PoolV6.
	OnLink []netip.Prefix
	// KeepDir keeps the lab's directory (logs, kubeconfigs) after Close.
	KeepDir bool
	// Progress, if set, receives one line per bring-up step with its time.
	Progress io.Writer
	// Timeout bounds the bring-up after the binaries are built; zero means
	// 90 s.
	Timeout time.Duration
}

// Node is a node of the lab: a LAN host running kube-proxy (and the
// speaker once started), with a backend pod behind it.
type Node struct {
	*Host
	Index      int    // 1-based
	PodNS      string // the pod's network namespace
	PodIPv4    netip.Addr
	PodIPv6    netip.Addr
	Kubeconfig string // points at the node's API bridge
	KubeProxy  *Proc
	speaker    *Proc
}

// Lab is a running lab. Close it when done.
type Lab struct {
	Prefix     string // every namespace of the lab is named <Prefix>-<something>
	Dir        string // logs, kubeconfigs, the memberlist secret
	LAN        string // namespace of the bridge
	Cluster    *cluster.Cluster
	Controller *cluster.Proc // nil with Options.NoController
	Nodes      []*Node
	Client     *Host
	BringUp    time.Duration // how long Start took

	opts    Options
	onLink  []netip.Prefix
	started time.Time

	mu          sync.Mutex
	hosts       map[string]*Host
	namespaces  []string
	procs       []*Proc
	closers     []io.Closer
	speakerBin  string
	speakerArgs []string

	closeOnce sync.Once
	closeErr  error
}

// tools are the programs the lab runs itself (see Packages).
var tools = []string{"ip", "nft", "arping", "ndisc6", "ping"}

// Start brings a lab up: the API server, the LAN with its nodes, pods and
// client, a Node object, API bridge and kube-proxy per node, and the
// controller. On failure everything started is torn down.
func Start(ctx context.Context, opts Options) (_ *Lab, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("lab: needs root (network namespaces)")
	}
	var missing []string
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lab: missing %s; install with: %s", strings.Join(missing, ", "), AptInstall)
	}
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Nodes < 1 || opts.Nodes > MaxNodes {
		return nil, fmt.Errorf("lab: %d nodes; want 1 to %d", opts.Nodes, MaxNodes)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 90 * time.Second
	}
	l := &Lab{Prefix: newPrefix(), opts: opts, onLink: opts.OnLink, hosts: map[string]*Host{}, started: time.Now()}
	if l.onLink == nil {
		l.onLink = []netip.Prefix{PoolV4, PoolV6}
	}
	l.LAN = l.Prefix + "-lan"
	l.Dir = filepath.Join(os.TempDir(), l.Prefix)

	// Builds are bounded separately (a cold Kubernetes build takes minutes).
	binDir, err := kubeapi.BinDir()
	if err != nil {
		return nil, err
	}
	kubeProxy := filepath.Join(binDir, "kube-proxy")
	if _, err := os.Stat(kubeProxy); err != nil {
		return nil, fmt.Errorf("lab: kube-proxy not in %s (run hack/build-k8s.sh): %w", binDir, err)
	}
	if !opts.NoController {
		if _, err := binary("./cmd/controller"); err != nil {
			return nil, err
		}
	}
	l.step("binaries ready")
	if removed, err := CleanupStale(); err != nil {
		return nil, err
	} else if len(removed) > 0 {
		l.step(fmt.Sprintf("removed leftovers of crashed runs: %v", removed))
	}

	if err := os.Mkdir(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := os.Mkdir(filepath.Join(l.Dir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	defer func() {
		if err != nil {
			// The logs explain the failure; CleanupStale removes them later.
			l.opts.KeepDir = true
			err = fmt.Errorf("%w\n(lab logs kept in %s)", err, l.Dir)
			if cerr := l.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	// The API server starts while the network is built.
	type result struct {
		c   *cluster.Cluster
		err error
	}
	clusterc := make(chan result, 1)
	go func() {
		c, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(l.Dir, "cluster")})
		clusterc <- result{c, err}
	}()
	netErr := l.buildNetwork(ctx)
	res := <-clusterc
	l.Cluster = res.c
	if err := errors.Join(netErr, res.err); err != nil {
		return nil, err
	}
	l.step("API server up, network built")

	apiAddr := strings.TrimPrefix(l.Cluster.API.URL(), "https://")
	for _, n := range l.Nodes {
		if err := os.MkdirAll(filepath.Join(l.Dir, n.Name), 0o755); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		if err := l.registerNode(ctx, n); err != nil {
			return nil, err
		}
		if err := l.writeKubeconfig(n); err != nil {
			return nil, err
		}
		f, err := forward(n.NS, fmt.Sprintf("127.0.0.1:%d", APIPort), apiAddr)
		if err != nil {
			return nil, err
		}
		l.addCloser(f)
		if err := l.startKubeProxy(n, kubeProxy); err != nil {
			return nil, err
		}
	}
	if !opts.NoController {
		if l.Controller, err = l.Cluster.StartController("controller", opts.ControllerArgs...); err != nil {
			return nil, err
		}
	}
	if err := l.waitKubeProxies(ctx, opts.Timeout); err != nil {
		return nil, err
	}
	l.BringUp = time.Since(l.started)
	l.step("kube-proxy ready on every node")
	return l, nil
}

// buildNetwork makes the LAN, the client and the nodes with their pods and
// backends.
func (l *Lab) buildNetwork(ctx context.Context) error {
	services, err := parsePrefixes(kubeapi.DefaultServiceCIDRs)
	if err != nil {
		return err
	}
	if err := l.createLAN(ctx); err != nil {
		return err
	}
	if err := l.addClient(ctx); err != nil {
		return err
	}
	for i := 1; i <= l.opts.Nodes; i++ {
		n, err := l.addNode(ctx, i, l.opts.Nodes, services)
		if err != nil {
			return err
		}
		l.Nodes = append(l.Nodes, n)
		srv, err := startBackend(n)
		if err != nil {
			return err
		}
		l.addCloser(srv)
	}
	return nil
}

func (l *Lab) step(msg string) {
	if l.opts.Progress != nil {
		fmt.Fprintf(l.opts.Progress, "lab: %-40s %6.1fs\n", msg, time.Since(l.started).Seconds())
	}
}

func (l *Lab) addCloser(c io.Closer) {
	l.mu.Lock()
	l.closers = append(l.closers, c)
	l.mu.Unlock()
}

// Node returns a node by name ("node1"...).
func (l *Lab) Node(name string) (*Node, error) {
	for _, n := range l.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("lab: no node %q", name)
}

// StartProcess runs bin with args inside host h's namespace, env added to
// the lab's environment, its output in <Dir>/logs/<host>-<name>.log. Close
// ends it.
func (l *Lab) StartProcess(h *Host, name string, env []string, bin string, args ...string) (*Proc, error) {
	full := h.Name + "-" + name
	p, err := startProc(full, h.NS, filepath.Join(l.Dir, "logs", full+".log"), env, bin, args...)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// PIDs lists every process the lab started and still tracks (its own and
// the controller), alive or not.
func (l *Lab) PIDs() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var pids []int
	for _, p := range l.procs {
		pids = append(pids, p.PID())
	}
	if l.Controller != nil {
		pids = append(pids, l.Controller.PID())
	}
	return pids
}

// Namespaces lists the network namespaces the lab created.
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.namespaces...)
}

// Close tears the lab down: its processes (SIGTERM, then SIGKILL), the
// control plane, the bridges and backends, every namespace, and the
// directory unless kept. It is safe to call twice and after a failed Start.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

func (l *Lab) close() error {
	var errs []error
	l.mu.Lock()
	procs := append([]*Proc(nil), l.procs...)
	closers := append([]io.Closer(nil), l.closers...)
	nss := append([]string(nil), l.namespaces...)
	l.mu.Unlock()

	var wg sync.WaitGroup
	errc := make(chan error, len(procs))
	for _, p := range procs {
		wg.Go(func() { errc <- p.StopGrace(5 * time.Second) })
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		errs = append(errs, err)
	}
	if l.Cluster != nil {
		l.Cluster.Stop()
	}
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := len(nss) - 1; i >= 0; i-- {
		ns := nss[i]
		// Only children of the lab's processes can be left here (all of
		// them were started in these uniquely named namespaces).
		if pids, err := nsPIDs(ctx, ns); err == nil && len(pids) > 0 {
			errs = append(errs, fmt.Errorf("lab: processes %v were still running in %s; killed", pids, ns))
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err := deleteNamespace(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if !l.opts.KeepDir && l.Dir != "" {
		if err := os.RemoveAll(l.Dir); err != nil {
			errs = append(errs, fmt.Errorf("lab: %w", err))
		}
	} else if l.Dir != "" {
		// Kept on purpose (logs of a failed run): CleanupStale leaves it.
		_ = os.WriteFile(filepath.Join(l.Dir, keepMarker), nil, 0o644)
	}
	return errors.Join(errs...)
}

// ForTest starts a lab for a test and registers its teardown. When the test
// has failed, the teardown prints the end of every process's log and keeps
// the directory. A lab that cannot start fails the test.
func ForTest(t testing.TB, opts Options) *Lab {
	t.Helper()
	l, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			l.opts.KeepDir = true
			l.mu.Lock()
			procs := append([]*Proc(nil), l.procs...)
			l.mu.Unlock()
			for _, p := range procs {
				t.Logf("--- %s (%s) ends with:\n%s", p.Name, p.Log, p.Tail(25))
			}
			if l.Controller != nil {
				t.Logf("--- controller (%s) ends with:\n%s", l.Controller.Log, l.Controller.Tail(25))
			}
			t.Logf("lab files kept in %s", l.Dir)
		}
		if err := l.Close(); err != nil {
			t.Errorf("tearing the lab down: %v", err)
		}
	})
	return l
}

// built records the binaries the lab had cluster.Binary build.
var built sync.Map // path -> struct{}

// binary builds a main package of the module once per process.
func binary(pkg string) (string, error) {
	bin, err := cluster.Binary(pkg)
	if err == nil {
		built.Store(bin, struct{}{})
	}
	return bin, err
}

// RemoveBinaries deletes the binaries built for labs (controller, speaker)
// in this process. Call it once, at the very end: a later lab in the same
// process would find them gone.
func RemoveBinaries() {
	built.Range(func(k, _ any) bool {
		if dir := filepath.Dir(k.(string)); strings.HasPrefix(filepath.Base(dir), "ferrolb-bin-") {
			_ = os.RemoveAll(dir)
		}
		return true
	})
}

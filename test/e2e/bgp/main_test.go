package bgp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// The tests share one lab, started by the first test that needs it, with
// routers added as tests ask for them (they stay until the end) and reset
// by each test's cleanup: Services, configuration, node labels, links,
// speakers, and every router's RIB back to empty. A reset that fails
// discards the lab (and its routers); the next test starts a new one.
var shared struct {
	lab      *lab.Lab
	startErr error // a failed start is not retried
	failed   bool  // some test failed: keep the labs' logs
	routers  map[string]*lab.Router
}

// The nodes' AS numbers (see routerSpecs). The speaker, like MetalLB's
// FRR modes, wants one myASN per node (and VRF): a test's peers all use
// the same one.
const (
	nodeASN = 64512
	// bigNodeASN and bigRouterASN are 4-byte AS numbers (above 65535).
	bigNodeASN   = 4200000020
	bigRouterASN = 4200000010
)

// md5Password is router "md5"'s TCP MD5 key for every node.
const md5Password = "e2e-Secret1"

// testLabel prefixes every node label a test sets; the reset removes them.
const testLabel = "e2e.ferrolb.io/"

// routerSpecs are the routers the tests use, made on first use. Each has
// LAN addresses of its own (.1-.8; .9 stays free: nothing answers there)
// and one neighbour per node. The lab has room for four links behind
// routers: the three outside clients and the multihop transit.
var routerSpecs = map[string]func(l *lab.Lab) lab.RouterOptions{
	// FRR, the main router: eBGP with the nodes over IPv4 and IPv6,
	// graceful restart (helper) on, a client behind it.
	"frr": func(l *lab.Lab) lab.RouterOptions {
		return lab.RouterOptions{Kind: lab.FRR, ASN: 64500, Outside: true,
			Neighbors: append(l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: nodeASN, GracefulRestart: true}),
				l.NodeNeighbors(model.IPv6, lab.Neighbor{ASN: nodeASN})...)}
	},
	// BIRD and gobgpd, with 4-byte AS numbers on the nodes' side (and on
	// BIRD's).
	"bird": func(l *lab.Lab) lab.RouterOptions {
		return lab.RouterOptions{Kind: lab.BIRD, ASN: bigRouterASN, Outside: true,
			IPv4: lanV4(2), IPv6: lanV6(2),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: bigNodeASN})}
	},
	"gobgp": func(l *lab.Lab) lab.RouterOptions {
		return lab.RouterOptions{Kind: lab.GoBGP, ASN: 64502, Outside: true,
			IPv4: lanV4(3), IPv6: lanV6(3),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: bigNodeASN})}
	},
	// FRR behind a transit host (.5): sessions need eBGP multihop.
	"mh": func(l *lab.Lab) lab.RouterOptions {
		return lab.RouterOptions{Kind: lab.FRR, ASN: 64503, Transit: "transit",
			IPv4: lanV4(5), IPv6: lanV6(5),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: nodeASN, Multihop: 2})}
	},
	// FRR with BFD at 100 ms x 3 on every session.
	"bfd": func(l *lab.Lab) lab.RouterOptions {
		fast := &lab.BFDOptions{RxInterval: 100 * time.Millisecond, TxInterval: 100 * time.Millisecond, Multiplier: 3}
		return lab.RouterOptions{Kind: lab.FRR, ASN: 64504, IPv4: lanV4(6), IPv6: lanV6(6),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: nodeASN, BFD: fast})}
	},
	// FRR with BFD in echo mode: Control packets at 1 s x 3, echo at 50 ms.
	"echo": func(l *lab.Lab) lab.RouterOptions {
		echo := &lab.BFDOptions{RxInterval: time.Second, TxInterval: time.Second, Multiplier: 3, EchoInterval: 50 * time.Millisecond}
		return lab.RouterOptions{Kind: lab.FRR, ASN: 64506, IPv4: lanV4(4), IPv6: lanV6(4),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: nodeASN, BFD: echo})}
	},
	// FRR in the nodes' own 4-byte AS (iBGP).
	"ibgp": func(l *lab.Lab) lab.RouterOptions {
		return lab.RouterOptions{Kind: lab.FRR, ASN: bigNodeASN, IPv4: lanV4(7), IPv6: lanV6(7),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: bigNodeASN})}
	},
	// FRR requiring TCP MD5 signatures.
	"md5": func(l *lab.Lab) lab.RouterOptions {
		return lab.RouterOptions{Kind: lab.FRR, ASN: 64505, IPv4: lanV4(8), IPv6: lanV6(8),
			Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: nodeASN, Password: md5Password})}
	},
}

// unreachableV4 is a LAN address nobody has.
var unreachableV4 = lanV4(9)

func lanV4(host int) netip.Addr {
	b := lab.LANv4.Addr().As4()
	b[3] = byte(host)
	return netip.AddrFrom4(b)
}

func lanV6(host int) netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%d", host))
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.lab != nil {
		discardLab(shared.failed || code != 0)
	}
	lab.RemoveBinaries()
	os.Exit(code)
}

// startLab brings a three-node lab up with a speaker on every node and no
// configuration.
func startLab() (*lab.Lab, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.Start(ctx, lab.Options{Nodes: 3, KeepDir: true})
	if err != nil {
		return nil, err
	}
	if err := l.StartSpeakers(ctx, "--log-level", "debug"); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("%w (lab files kept in %s)", err, l.Dir)
	}
	return l, nil
}

// discardLab tears the shared lab down, keeping its files if asked, moved
// out of the lab's own directory (which the next lab would remove as a
// crashed run's).
func discardLab(keep bool) {
	l := shared.lab
	shared.lab, shared.routers = nil, nil
	if err := l.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "bgp e2e: tearing the lab down: %v\n", err)
		keep = true
	}
	if !keep {
		_ = os.RemoveAll(l.Dir)
		return
	}
	dir := filepath.Join(filepath.Dir(l.Dir), "bgp-e2e-logs-"+time.Now().Format("150405.000"))
	if err := os.Rename(l.Dir, dir); err != nil {
		dir = l.Dir
	}
	fmt.Fprintf(os.Stderr, "bgp e2e: lab files (logs, router configurations) kept in %s\n", dir)
}

// env is one test's view of the shared lab: a namespace of its own for
// Services and EndpointSlices, and the configuration objects it applied,
// all removed at its end.
type env struct {
	t   *testing.T
	ctx context.Context
	l   *lab.Lab
	c   client.Client
	ns  string
	// cfg are the objects apply created, deleted in reverse order.
	cfg []client.Object
	// killed are the nodes whose speaker the test stopped on purpose.
	killed map[string]bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if shared.lab == nil && shared.startErr == nil {
		start := time.Now()
		shared.lab, shared.startErr = startLab()
		shared.routers = map[string]*lab.Router{}
		t.Logf("lab started in %v", time.Since(start).Round(100*time.Millisecond))
	}
	if shared.startErr != nil {
		t.Fatalf("no lab: %v", shared.startErr)
	}
	l := shared.lab
	e := &env{t: t, ctx: context.Background(), l: l, c: l.Cluster.Client, killed: map[string]bool{}}
	t.Cleanup(e.cleanup)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bgp-"}}
	if err := e.c.Create(e.ctx, ns); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	e.ns = ns.Name
	return e
}

// router returns the named router of routerSpecs, adding it to the lab
// on first use.
func (e *env) router(name string) *lab.Router {
	e.t.Helper()
	if r, ok := shared.routers[name]; ok {
		return r
	}
	spec, ok := routerSpecs[name]
	if !ok {
		e.t.Fatalf("no router %q in routerSpecs", name)
	}
	start := time.Now()
	o := spec(e.l)
	o.Name = name
	r, err := e.l.AddRouter(e.ctx, o)
	if err != nil {
		e.t.Fatalf("adding router %s: %v", name, err)
	}
	shared.routers[name] = r
	e.t.Logf("router %s (%s, AS %d, %v) up in %v", name, r.Kind, r.ASN, r.Host.IPv4, time.Since(start).Round(10*time.Millisecond))
	return r
}

// cleanup resets the lab for the next test; if that fails the lab is
// discarded.
func (e *env) cleanup() {
	t := e.t
	if t.Failed() {
		shared.failed = true
		for _, n := range e.l.Nodes {
			if p, err := e.l.Speaker(n.Name); err == nil {
				t.Logf("--- speaker on %s (%s) ends with:\n%s", n.Name, p.Log, p.Tail(30))
			}
		}
		for _, name := range slices.Sorted(maps.Keys(shared.routers)) {
			for _, p := range shared.routers[name].Procs() {
				t.Logf("--- router %s: %s (%s) ends with:\n%s", name, p.Name, p.Log, p.Tail(15))
			}
		}
		t.Logf("the lab's files are kept; where is printed when the lab is torn down")
	}
	if err := e.reset(); err != nil {
		t.Errorf("resetting the lab (it is discarded): %v", err)
		if shared.lab == e.l {
			discardLab(true)
		}
	}
}

func (e *env) reset() error {
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	var errs []error
	if err := e.l.ResetTest(ctx, e.ns, e.cfg, e.resetLabels); err != nil {
		errs = append(errs, err)
	}
	// A router daemon that died during the test (a crash) is this test's
	// finding; the next test would only see its queries fail.
	for name, r := range shared.routers {
		if !r.Running() {
			var tails []string
			for _, p := range r.Procs() {
				tails = append(tails, fmt.Sprintf("%s (exited %v):\n%s", p.Name, p.Exited(), p.Tail(30)))
			}
			errs = append(errs, fmt.Errorf("router %s is not running any more:\n%s", name, strings.Join(tails, "\n")))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Every speaker withdraws: no ServiceBGPStatus of the test is left and
	// every router's RIB is empty again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		left, err := e.statusesIn(ctx, e.ns)
		state := fmt.Sprintf("ServiceBGPStatus objects of namespace %s: %s (%v)", e.ns, describeStatuses(left), err)
		clean := err == nil && len(left) == 0
		for name, r := range shared.routers {
			for _, f := range []model.Family{model.IPv4, model.IPv6} {
				rs, err := r.Routes(ctx, f)
				if err != nil || len(rs) > 0 {
					clean = false
					state += fmt.Sprintf("; router %s still has %s (%v)", name, describeRoutes(rs), err)
				}
			}
			if r.Kind == lab.GoBGP && clean {
				if err := r.SyncFIB(ctx); err != nil {
					clean = false
					state += fmt.Sprintf("; router %s: %v", name, err)
				}
			}
		}
		if clean {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the lab is not clean 30 s after the test: %s", state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// resetLabels removes every label a test set on a node.
func (e *env) resetLabels(ctx context.Context, name string) error {
	var n corev1.Node
	if err := e.c.Get(ctx, types.NamespacedName{Name: name}, &n); err != nil {
		return err
	}
	labels := map[string]any{}
	for k := range n.Labels {
		if strings.HasPrefix(k, testLabel) {
			labels[k] = nil
		}
	}
	if len(labels) == 0 {
		return nil
	}
	return e.mergePatch(ctx, &n, map[string]any{"metadata": map[string]any{"labels": labels}})
}

func (e *env) mergePatch(ctx context.Context, obj client.Object, patch map[string]any) error {
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	return e.c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, raw))
}

// --- configuration -------------------------------------------------------

// apply server-side applies the objects of a YAML text (metallb.io
// configuration, Secrets), in the MetalLB namespace unless they name
// another; the reset deletes them. Applying an object again changes it.
func (e *env) apply(text string) {
	e.t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(text)), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			e.t.Fatalf("configuration YAML: %v", err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace(cluster.Namespace)
		}
		if err := e.c.Patch(e.ctx, obj, client.Apply, client.FieldOwner("bgp-e2e"), client.ForceOwnership); err != nil {
			e.t.Fatalf("applying %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		known := slices.ContainsFunc(e.cfg, func(o client.Object) bool {
			return o.GetObjectKind().GroupVersionKind().Kind == obj.GetKind() && o.GetNamespace() == obj.GetNamespace() && o.GetName() == obj.GetName()
		})
		if !known {
			ref := &unstructured.Unstructured{}
			ref.SetGroupVersionKind(obj.GroupVersionKind())
			ref.SetNamespace(obj.GetNamespace())
			ref.SetName(obj.GetName())
			e.cfg = append(e.cfg, ref)
		}
	}
}

// labelNode sets (value non-nil) or removes (nil) a test label of a Node.
func (e *env) labelNode(node, key string, value *string) {
	e.t.Helper()
	if !strings.HasPrefix(key, testLabel) {
		e.t.Fatalf("label %s: test labels start with %s", key, testLabel)
	}
	var v any
	if value != nil {
		v = *value
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}
	if err := e.mergePatch(e.ctx, n, map[string]any{"metadata": map[string]any{"labels": map[string]any{key: v}}}); err != nil {
		e.t.Fatalf("labelling node %s: %v", node, err)
	}
}

// --- Services ------------------------------------------------------------

type svcMod = func(*corev1.Service)

// service creates a LoadBalancer Service in the test's namespace asking
// for ips (none: any address of an auto-assigning pool) and waits until
// the controller has assigned them.
func (e *env) service(name string, ips []string, mods ...svcMod) *corev1.Service {
	e.t.Helper()
	return e.waiter().Service(e.ctx, e.ns, name, ips, mods...)
}

// backends publishes the backends of the named nodes as svc's endpoints
// (no node: no endpoint).
func (e *env) backends(svc *corev1.Service, nodes ...string) {
	e.t.Helper()
	if err := e.l.Backends(e.ctx, svc, nodes...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) deleteService(svc *corev1.Service) {
	e.t.Helper()
	if err := e.c.Delete(e.ctx, svc); err != nil {
		e.t.Fatalf("deleting Service %s: %v", svc.Name, err)
	}
}

// --- nodes ---------------------------------------------------------------

// nodeAddr is a node's LAN address of the family of prefix.
func (e *env) nodeAddr(node string, family model.Family) netip.Addr {
	e.t.Helper()
	n, err := e.l.Node(node)
	if err != nil {
		e.t.Fatal(err)
	}
	if family == model.IPv6 {
		return n.IPv6
	}
	return n.IPv4
}

// nodeAddrs are the nodes' LAN addresses of a family, sorted.
func (e *env) nodeAddrs(family model.Family, nodes ...string) []netip.Addr {
	e.t.Helper()
	var out []netip.Addr
	for _, n := range nodes {
		out = append(out, e.nodeAddr(n, family))
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

var allNodes = []string{"node1", "node2", "node3"}

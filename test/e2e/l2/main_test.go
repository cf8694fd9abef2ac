package l2

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// The tests share one lab, started by the first test that needs it and
// reset by each test's cleanup (Services, configuration, node labels and
// conditions, links, speakers). A reset that fails discards the lab; the
// next test starts a new one.
var shared struct {
	lab      *lab.Lab
	startErr error // a failed start is not retried
	failed   bool  // some test failed: keep the labs' logs
}

// Annotations and labels the tests use, spelled out as MetalLB spells
// them: the tests check that compatibility too.
const (
	annSharedIP    = "metallb.io/allow-shared-ip"
	labelExcludeLB = "node.kubernetes.io/exclude-from-external-load-balancers"
	// testLabel prefixes every node label a test sets; the reset removes
	// them all.
	testLabel = "e2e.ferrolb.io/"
)

// basePool is the configuration every lab starts with: an auto-assigning
// pool announced from every node. Tests add their own pools (autoAssign
// off, one address range each, so no test reuses another's addresses and
// the client never holds a stale neighbor entry) with their own
// advertisements.
const basePool = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lab, namespace: metallb-system}
spec:
  addresses: [203.0.113.10-203.0.113.19, "2001:db8:100::10-2001:db8:100::1f"]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lab, namespace: metallb-system}
spec:
  ipAddressPools: [lab]
`

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.lab != nil {
		discardLab(shared.failed || code != 0)
	}
	lab.RemoveBinaries()
	os.Exit(code)
}

// startLab brings a three-node lab up with a speaker on every node and
// the base configuration.
func startLab() (*lab.Lab, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.Start(ctx, lab.Options{Nodes: 3, KeepDir: true})
	if err != nil {
		return nil, err
	}
	if err := l.Cluster.ApplyYAML(ctx, []byte(basePool)); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("base configuration: %w (lab files kept in %s)", err, l.Dir)
	}
	if err := l.StartSpeakers(ctx, "--log-level", "debug"); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("%w (lab files kept in %s)", err, l.Dir)
	}
	return l, nil
}

// discardLab tears the shared lab down, keeping its files if asked. Kept
// files are moved out of the lab's own directory, which the next lab
// started on this machine would otherwise remove as a crashed run's.
func discardLab(keep bool) {
	l := shared.lab
	shared.lab = nil
	if err := l.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "l2 e2e: tearing the lab down: %v\n", err)
		keep = true
	}
	if !keep {
		_ = os.RemoveAll(l.Dir)
		return
	}
	dir := filepath.Join(filepath.Dir(l.Dir), "l2-e2e-"+filepath.Base(l.Dir))
	if err := os.Rename(l.Dir, dir); err != nil {
		dir = l.Dir
	}
	fmt.Fprintf(os.Stderr, "l2 e2e: lab files (logs, kubeconfigs) kept in %s\n", dir)
}

// env is one test's view of the shared lab: a namespace of its own for
// Services and EndpointSlices, and the pools and advertisements it made,
// all removed at its end.
type env struct {
	t   *testing.T
	ctx context.Context
	l   *lab.Lab
	c   client.Client
	ns  string
	cfg []client.Object // pools and advertisements, deleted in reverse
	// killed are the nodes whose speaker the test stopped on purpose.
	killed map[string]bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if shared.lab == nil && shared.startErr == nil {
		start := time.Now()
		shared.lab, shared.startErr = startLab()
		t.Logf("lab started in %v", time.Since(start).Round(100*time.Millisecond))
	}
	if shared.startErr != nil {
		t.Fatalf("no lab: %v", shared.startErr)
	}
	l := shared.lab
	e := &env{t: t, ctx: context.Background(), l: l, c: l.Cluster.Client, killed: map[string]bool{}}
	t.Cleanup(e.cleanup)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "l2-"}}
	if err := e.c.Create(e.ctx, ns); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	e.ns = ns.Name
	if err := l.FlushClientNeighbors(e.ctx); err != nil {
		t.Fatal(err)
	}
	return e
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
		if e.l.Controller != nil {
			t.Logf("--- controller (%s) ends with:\n%s", e.l.Controller.Log, e.l.Controller.Tail(20))
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
	if err := e.l.ResetTest(ctx, e.ns, e.cfg, e.resetNode); err != nil {
		return err
	}
	// Every speaker withdraws: no ServiceL2Status of the test is left.
	deadline := time.Now().Add(20 * time.Second)
	for {
		left, err := e.statusesIn(ctx, e.ns)
		if err == nil && len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ServiceL2Status objects of namespace %s still there after 20 s: %v (%v)", e.ns, left, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// resetNode removes every label, taint and condition a test may have set.
func (e *env) resetNode(ctx context.Context, name string) error {
	if err := e.tryUpdateNode(ctx, name, false, func(n *corev1.Node) bool {
		before := len(n.Spec.Taints)
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, isOutOfService)
		return len(n.Spec.Taints) != before
	}); err != nil {
		return err
	}
	var n corev1.Node
	if err := e.c.Get(ctx, types.NamespacedName{Name: name}, &n); err != nil {
		return err
	}
	labels := map[string]any{}
	for k := range n.Labels {
		if strings.HasPrefix(k, testLabel) || k == labelExcludeLB {
			labels[k] = nil
		}
	}
	if len(labels) > 0 {
		if err := e.mergePatch(ctx, &n, map[string]any{"metadata": map[string]any{"labels": labels}}); err != nil {
			return err
		}
	}
	return e.tryUpdateNode(ctx, name, true, func(n *corev1.Node) bool {
		before := len(n.Status.Conditions)
		n.Status.Conditions = slices.DeleteFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeNetworkUnavailable
		})
		return len(n.Status.Conditions) != before
	})
}

func (e *env) mergePatch(ctx context.Context, obj client.Object, patch map[string]any) error {
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	return e.c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, raw))
}

// --- configuration -------------------------------------------------------

// pool creates an IPAddressPool that assigns only requested addresses.
func (e *env) pool(name string, addrs ...string) {
	e.t.Helper()
	p := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs, AutoAssign: ptr.To(false)},
	}
	if err := e.c.Create(e.ctx, p); err != nil {
		e.t.Fatalf("creating pool %s: %v", name, err)
	}
	e.cfg = append(e.cfg, p)
}

// advertise creates an L2Advertisement of the named pool.
func (e *env) advertise(name, pool string, spec v1beta1.L2AdvertisementSpec) *v1beta1.L2Advertisement {
	e.t.Helper()
	spec.IPAddressPools = []string{pool}
	ad := &v1beta1.L2Advertisement{
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: name},
		Spec:       spec,
	}
	if err := e.c.Create(e.ctx, ad); err != nil {
		e.t.Fatalf("creating L2Advertisement %s: %v", name, err)
	}
	e.cfg = append(e.cfg, ad)
	return ad
}

// updateAdvertisement replaces an advertisement's spec (keeping its pool).
func (e *env) updateAdvertisement(ad *v1beta1.L2Advertisement, spec v1beta1.L2AdvertisementSpec) {
	e.t.Helper()
	spec.IPAddressPools = ad.Spec.IPAddressPools
	if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(ad), ad); err != nil {
		e.t.Fatal(err)
	}
	ad.Spec = spec
	if err := e.c.Update(e.ctx, ad); err != nil {
		e.t.Fatalf("updating L2Advertisement %s: %v", ad.Name, err)
	}
}

func hostnameIn(nodes ...string) metav1.LabelSelector {
	return metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: corev1.LabelHostname, Operator: metav1.LabelSelectorOpIn, Values: nodes,
	}}}
}

// --- Services ------------------------------------------------------------

type svcMod = func(*corev1.Service)

func sharing(key string) svcMod {
	return func(s *corev1.Service) { s.Annotations[annSharedIP] = key }
}

// selector sets the Service's pod selector (Services sharing an IP with
// the Local traffic policy must have the same one).
func selector(app string) svcMod {
	return func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": app} }
}

// service creates a LoadBalancer Service in the test's namespace asking
// for ips (none: any address of the base pool) and waits until the
// controller has assigned them.
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

// labelNode sets (value non-nil) or removes (nil) labels of a Node.
func (e *env) labelNode(node string, labels map[string]*string) {
	e.t.Helper()
	m := map[string]any{}
	for k, v := range labels {
		if v == nil {
			m[k] = nil
		} else {
			m[k] = *v
		}
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}
	if err := e.mergePatch(e.ctx, n, map[string]any{"metadata": map[string]any{"labels": m}}); err != nil {
		e.t.Fatalf("labelling node %s: %v", node, err)
	}
}

// taintOutOfService is the taint of Kubernetes' non-graceful node shutdown.
const taintOutOfService = "node.kubernetes.io/out-of-service"

func isOutOfService(t corev1.Taint) bool { return t.Key == taintOutOfService }

// setOutOfService adds or removes a Node's out-of-service taint, as an
// operator does when a node has shut down without draining.
func (e *env) setOutOfService(node string, on bool) {
	e.t.Helper()
	e.updateNode(node, "taints", false, func(n *corev1.Node) {
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, isOutOfService)
		if on {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: taintOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
		}
	})
}

// setNetworkUnavailable sets or clears the NetworkUnavailable=True
// condition in a Node's status, as a network plugin would.
func (e *env) setNetworkUnavailable(node string, on bool) {
	e.t.Helper()
	e.updateNode(node, "conditions", true, func(n *corev1.Node) {
		n.Status.Conditions = slices.DeleteFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeNetworkUnavailable
		})
		if on {
			now := metav1.Now()
			n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{
				Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue, Reason: "E2ETest",
				Message: "set by the l2 e2e test", LastHeartbeatTime: now, LastTransitionTime: now,
			})
		}
	})
}

// updateNode reads a Node, applies change and writes it back (its status
// when status is true), retrying on conflicts; what names the change in
// the failure message.
func (e *env) updateNode(node, what string, status bool, change func(*corev1.Node)) {
	e.t.Helper()
	err := e.tryUpdateNode(e.ctx, node, status, func(n *corev1.Node) bool {
		change(n)
		return true
	})
	if err != nil {
		e.t.Fatalf("updating the %s of node %s: %v", what, node, err)
	}
}

// tryUpdateNode reads a Node and applies change; if change reports a
// change, it writes the Node back (its status when status is true),
// retrying on conflicts up to five times.
func (e *env) tryUpdateNode(ctx context.Context, node string, status bool, change func(*corev1.Node) bool) error {
	for attempt := 0; ; attempt++ {
		var n corev1.Node
		if err := e.c.Get(ctx, types.NamespacedName{Name: node}, &n); err != nil {
			return err
		}
		if !change(&n) {
			return nil
		}
		var err error
		if status {
			err = e.c.Status().Update(ctx, &n)
		} else {
			err = e.c.Update(ctx, &n)
		}
		if err == nil || !apierrors.IsConflict(err) || attempt == 4 {
			return err
		}
	}
}

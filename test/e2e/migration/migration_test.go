package migration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/core/assign"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

const condType = assign.ConditionType

// memberlistSecret is the Secret MetalLB's manifests create (key
// "secretkey"); the speakers' Pods mount it.
const memberlistSecret = "memberlist"

// TestMigrationKeepsAddressesAndAnnouncements: on a cluster state written
// with MetalLB's API (see state_test.go), this project's controller and
// speakers keep every address and every announcement; see doc.go for the
// list of checks.
func TestMigrationKeepsAddressesAndAnnouncements(t *testing.T) {
	needLab(t)
	var err error
	// Built first, so the controller starts at once when asked.
	if ctrlBin, err = cluster.Binary("./cmd/controller"); err != nil {
		t.Fatal(err)
	}
	l := lab.ForTest(t, lab.Options{Nodes: 3, NoController: true, Timeout: 2 * time.Minute})
	ctx := context.Background()
	e := &env{t: t, ctx: ctx, l: l, c: l.Cluster.Client, ns: "migration"}
	if e.r, err = l.AddRouter(ctx, lab.RouterOptions{Kind: lab.FRR, ASN: asn,
		Neighbors: l.NodeNeighbors(model.IPv4, lab.Neighbor{ASN: asn})}); err != nil {
		t.Fatalf("adding FRR: %v", err)
	}

	t.Log("the state MetalLB left")
	mlKey := e.metallbState()
	cs, err := kubernetes.NewForConfig(l.Cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs.CoreV1().Services(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]corev1.LoadBalancerIngress{thief: nil}
	before := map[string]*corev1.Service{}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name != thief {
			want[s.Name] = s.Status.LoadBalancer.Ingress
			before[s.Name] = s
		}
	}
	if len(before) != len(legacyServices) {
		t.Fatalf("%d migrated Services listed, want %d", len(before), len(legacyServices))
	}
	// Nobody announces yet: nothing but our speakers will.
	if a, err := e.l.Resolve(e.ctx, "203.0.113.14"); err != nil || a.MACs != 0 {
		t.Fatalf("before any speaker runs, %d MACs (first %q) answer for 203.0.113.14 (%v); want none", a.MACs, a.Node, err)
	}

	t.Log("FerroLB's controller and speakers take over")
	w := watchIngress(cs, e.ns, list.ResourceVersion, want)
	stopped := false
	stopWatch := func() ([]string, map[string]bool, int) {
		stopped = true
		return w.stop()
	}
	t.Cleanup(func() {
		// The test stopped early: still report what the watch saw.
		if !stopped {
			violations, _, _ := w.stop()
			for _, v := range violations {
				t.Errorf("watch: %s", v)
			}
		}
	})
	started := time.Now()
	if l.Controller, err = l.Cluster.StartController("controller", "--ml-secret-name", memberlistSecret, "--log-level", "debug"); err != nil {
		t.Fatalf("starting the controller: %v", err)
	}
	if err := l.StartSpeakers(ctx, "--log-level", "debug"); err != nil {
		t.Fatalf("starting the speakers: %v", err)
	}

	t.Log("every migrated Service keeps its addresses and is marked assigned")
	for _, s := range legacyServices {
		c := e.waitCondition(s.name, metav1.ConditionTrue, assign.ReasonAssigned, 60*time.Second)
		for _, ip := range s.ingress {
			if !strings.Contains(c.Message, ip) || !strings.Contains(c.Message, fmt.Sprintf("%q", s.pool)) {
				t.Errorf("%s: condition message %q; want it to name %v and pool %q", s.name, c.Message, s.ingress, s.pool)
				break
			}
		}
	}
	t.Logf("every migrated Service assigned %v after the start", time.Since(started).Round(100*time.Millisecond))
	c := e.waitCondition(thief, metav1.ConditionFalse, "IPInUse", 30*time.Second)
	if !strings.Contains(c.Message, thiefIP) || !strings.Contains(c.Message, e.ns+"/"+thiefHolder) {
		t.Errorf("%s: condition message %q; want it to name %s and its holder %s/%s", thief, c.Message, thiefIP, e.ns, thiefHolder)
	}
	e.checkAnnotations(before)
	e.waitEvent("reserved-a", corev1.EventTypeWarning, "deprecatedAnnotation",
		"Service uses deprecated annotation "+oldAddressPool, 30*time.Second)
	e.waitValid(30 * time.Second)

	t.Log("layer 2: one MAC per address, HTTP through kube-proxy")
	for _, s := range legacyServices {
		if s.bgp {
			continue
		}
		for _, ip := range s.ingress {
			node := e.waitAnswer(ip, s.owner, 30*time.Second)
			t.Logf("%s: %s answered by %s", s.name, ip, node)
		}
	}
	e.waitHTTP("203.0.113.14", 80, "", 20*time.Second)
	e.waitHTTP("203.0.113.15", 80, "node1", 20*time.Second)
	e.waitHTTP("203.0.113.15", 8080, "node2", 20*time.Second)
	e.waitHTTP("203.0.113.18", 80, "node3", 20*time.Second)

	t.Log("BGP: one path per announcing node, with the communities and LOCAL_PREF")
	if err := e.r.WaitEstablished(ctx, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, s := range legacyServices {
		if s.bgp {
			e.waitPaths(s.ingress[0], s.paths, 60*time.Second)
		}
	}
	if got, err := e.routes(); err != nil {
		t.Error(err)
	} else if want := []string{"203.0.113.68/32", "203.0.113.70/32"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("FRR holds routes to %v; want exactly %v", got, want)
	}
	for _, s := range legacyServices {
		if !s.bgp {
			continue
		}
		if a, err := e.l.Resolve(e.ctx, s.ingress[0]); err != nil || a.MACs != 0 {
			t.Errorf("%s: %d MACs (first %q) answer for %s (%v); want none, it is announced by BGP only", s.name, a.MACs, a.Node, s.ingress[0], err)
		}
	}

	t.Log("new Services get addresses nobody holds")
	kept := map[string]string{}
	for _, s := range legacyServices {
		for _, ip := range s.ingress {
			kept[ip] = s.name
		}
	}
	fresh := e.newService("fresh", nil)
	freshRes := e.newService("fresh-reserved", map[string]string{newAddressPool: "reserved"})
	for _, s := range []*corev1.Service{fresh, freshRes} {
		for _, ip := range cluster.IngressIPs(s) {
			if holder, ok := kept[ip]; ok {
				t.Errorf("new Service %s got %s, which %s holds", s.Name, ip, holder)
			}
		}
	}
	if ips := cluster.IngressIPs(freshRes); len(ips) != 1 || !inRange(ips[0], reservedRange) {
		t.Errorf("fresh-reserved got %v; want one address of pool reserved %v", ips, reservedRange)
	} else {
		e.waitAnswer(ips[0], "", 30*time.Second)
	}
	if ips := cluster.IngressIPs(fresh); len(ips) != 1 || !slices.ContainsFunc(autoRanges, func(r [2]string) bool { return inRange(ips[0], r) }) {
		t.Errorf("fresh got %v; want one address of an auto-assigning pool %v", ips, autoRanges)
	}

	t.Log("the Service asking for a held address is still waiting")
	if s, err := e.get(thief); err != nil {
		t.Error(err)
	} else if c := condition(s); len(s.Status.LoadBalancer.Ingress) != 0 || c == nil || c.Reason != "IPInUse" {
		t.Errorf("%s: ingress %s, condition %+v; want no address and reason IPInUse", thief, describeIngress(s.Status.LoadBalancer.Ingress), c)
	}

	t.Log("nothing changed any migrated address, at any time")
	violations, assigned, relisted := stopWatch()
	for _, v := range violations {
		t.Errorf("watch: %s", v)
	}
	for _, s := range legacyServices {
		if !assigned[s.name] {
			t.Errorf("the watch never saw the controller mark %s assigned: it may have missed writes", s.name)
		}
	}
	if relisted > 0 {
		t.Logf("the watch expired %d times and re-listed (a write in such a gap would go unseen)", relisted)
	}
	t.Logf("watched the migrated Services for %v after the start", time.Since(started).Round(100*time.Millisecond))
	for name, b := range before {
		s, err := e.get(name)
		if err != nil {
			t.Error(err)
			continue
		}
		if got, want := describeIngress(s.Status.LoadBalancer.Ingress), describeIngress(b.Status.LoadBalancer.Ingress); got != want {
			t.Errorf("%s: ingress %s at the end; want %s", name, got, want)
		}
	}

	var sec corev1.Secret
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: memberlistSecret}, &sec); err != nil {
		t.Error(err)
	} else if got := string(sec.Data["secretkey"]); got != mlKey {
		t.Errorf("the memberlist Secret's key changed: %q, was %q", got, mlKey)
	}
}

// metallbState writes the state MetalLB left: its configuration, the
// memberlist Secret (whose key the speakers get, as from the Secret's
// volume), and the Services with their statuses and endpoints. It returns
// the memberlist key.
func (e *env) metallbState() string {
	t, ctx, l := e.t, e.ctx, e.l
	if err := l.Cluster.ApplyYAML(ctx, []byte(metallbConfig)); err != nil {
		t.Fatalf("MetalLB's configuration: %v", err)
	}
	// Served as v1beta1 and read back as v1beta2, the stored version.
	var peer v1beta2.BGPPeer
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: "frr"}, &peer); err != nil {
		t.Fatalf("reading the v1beta1 BGPPeer as v1beta2: %v", err)
	}
	if p := peer.Spec; p.MyASN != asn || p.ASN != asn || p.Address != "198.51.100.1" ||
		p.HoldTime == nil || p.HoldTime.Duration != 30*time.Second || len(p.NodeSelectors) != 1 {
		t.Fatalf("the v1beta1 BGPPeer reads as v1beta2 %+v", p)
	}

	raw := make([]byte, 128)
	rand.Read(raw) // never fails
	key := base64.StdEncoding.EncodeToString(raw)
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: memberlistSecret},
		Data:       map[string][]byte{"secretkey": []byte(key)},
	}
	if err := e.c.Create(ctx, sec); err != nil {
		t.Fatalf("the memberlist Secret: %v", err)
	}
	// The lab's speakers read their key from <Dir>/memberlist/secretkey
	// (lab.MemberlistSecret); StartSpeakers keeps a key already there.
	dir := filepath.Join(l.Dir, "memberlist")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secretkey"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := e.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	for _, ls := range legacyServices {
		s := cluster.LoadBalancer(e.ns, ls.name)
		s.Annotations = maps.Clone(ls.ann)
		if ls.mod != nil {
			ls.mod(s)
		}
		if err := e.c.Create(ctx, s); err != nil {
			t.Fatalf("creating Service %s: %v", ls.name, err)
		}
		for _, ip := range ls.ingress {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		if err := e.c.Status().Update(ctx, s); err != nil {
			t.Fatalf("writing the status of Service %s: %v", ls.name, err)
		}
		if got := cluster.IngressIPs(s); !slices.Equal(got, ls.ingress) {
			t.Fatalf("Service %s: ingress %v after the status update, want %v", ls.name, got, ls.ingress)
		}
		if err := l.Backends(ctx, s, ls.backends...); err != nil {
			t.Fatal(err)
		}
	}
	th := cluster.LoadBalancer(e.ns, thief)
	th.Annotations = map[string]string{oldLBIPs: thiefIP}
	if err := e.c.Create(ctx, th); err != nil {
		t.Fatalf("creating Service %s: %v", thief, err)
	}
	if err := l.Backends(ctx, th, allNodes...); err != nil {
		t.Fatal(err)
	}
	return key
}

// checkAnnotations checks that each migrated Service still has every
// annotation it had, and the pool it holds in the controller's
// annotation.
func (e *env) checkAnnotations(before map[string]*corev1.Service) {
	e.t.Helper()
	for _, ls := range legacyServices {
		s, err := e.get(ls.name)
		if err != nil {
			e.t.Error(err)
			continue
		}
		for k, v := range before[ls.name].Annotations {
			if got, ok := s.Annotations[k]; !ok || got != v {
				e.t.Errorf("%s: annotation %s is %q (present %v); it was %q", ls.name, k, got, ok, v)
			}
		}
		if got := s.Annotations[newAllocatedPool]; got != ls.pool {
			e.t.Errorf("%s: annotation %s is %q; want %q", ls.name, newAllocatedPool, got, ls.pool)
		}
	}
}

// waitValid waits until the controller and every speaker report the
// configuration Valid.
func (e *env) waitValid(timeout time.Duration) {
	e.t.Helper()
	names := []string{"controller"}
	for _, n := range e.l.Nodes {
		names = append(names, "speaker-"+n.Name)
	}
	e.eventually(timeout, "every ConfigurationState Valid", func() (bool, string) {
		var bad []string
		for _, name := range names {
			var cs v1beta1.ConfigurationState
			if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: name}, &cs); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			if cs.Status.Result != v1beta1.ConfigurationValid {
				bad = append(bad, fmt.Sprintf("%s: %s %q", name, cs.Status.Result, cs.Status.ErrorSummary))
			}
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	})
}

// newService creates a LoadBalancer Service with endpoints on every node
// and waits for its address.
func (e *env) newService(name string, ann map[string]string) *corev1.Service {
	e.t.Helper()
	s := cluster.LoadBalancer(e.ns, name)
	s.Annotations = ann
	if err := e.c.Create(e.ctx, s); err != nil {
		e.t.Fatalf("creating Service %s: %v", name, err)
	}
	if err := e.l.Backends(e.ctx, s, allNodes...); err != nil {
		e.t.Fatal(err)
	}
	e.eventually(30*time.Second, "an address for "+name, func() (bool, string) {
		got, err := e.get(name)
		if err != nil {
			return false, err.Error()
		}
		s = got
		return len(s.Status.LoadBalancer.Ingress) > 0, describeIngress(s.Status.LoadBalancer.Ingress)
	})
	return s
}

package l2

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// TestNodeSelectors: an L2Advertisement's nodeSelectors restrict the owner
// to matching nodes: no matching node means no answer, and the
// announcement follows the label from node to node.
func TestNodeSelectors(t *testing.T) {
	e := newEnv(t)
	const label = testLabel + "l2"
	e.pool("selected", "203.0.113.30-203.0.113.33")
	e.advertise("selected", "selected", v1beta1.L2AdvertisementSpec{
		NodeSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "yes"}}},
	})
	const ip = "203.0.113.30"
	svc := e.service("selected", []string{ip})
	e.backends(svc, "node1", "node2", "node3")

	// No node carries the label: nobody announces. (The controller has
	// assigned the address, so a speaker that ignored the selector would
	// answer within a second.)
	time.Sleep(2 * time.Second)
	e.stillAnswered(ip, "", 2)
	e.waitNoStatus(svc, time.Second)

	yes, no := ptr.To("yes"), (*string)(nil)
	e.labelNode("node3", map[string]*string{label: yes})
	e.waitServed(svc, ip, "node3", "")

	// The label moves: so does the announcement.
	e.labelNode("node1", map[string]*string{label: yes})
	e.labelNode("node3", map[string]*string{label: no})
	e.waitServed(svc, ip, "node1", "")

	// A label value that does not match counts as no label.
	e.labelNode("node1", map[string]*string{label: ptr.To("no")})
	e.labelNode("node2", map[string]*string{label: yes})
	e.waitServed(svc, ip, "node2", "")
}

// TestInterfaces: an L2Advertisement limited to eth0 announces there and
// its ServiceL2Status lists eth0; one limited to an interface no node has
// leaves the address unanswered and makes the elected speaker report an
// announceFailed Warning event on the Service.
func TestInterfaces(t *testing.T) {
	e := newEnv(t)
	e.pool("eth0", "203.0.113.34-203.0.113.35")
	e.advertise("eth0", "eth0", v1beta1.L2AdvertisementSpec{Interfaces: []string{"eth0"}})
	e.pool("nope", "203.0.113.36-203.0.113.37")
	e.advertise("nope", "nope", v1beta1.L2AdvertisementSpec{Interfaces: []string{"nope"}})

	const ip = "203.0.113.34"
	svc := e.service("eth0", []string{ip})
	e.backends(svc, "node1", "node2", "node3")
	owner := e.waitServed(svc, ip, "", "")
	st := e.waitStatus(svc, owner, time.Second)
	if got := st.Status.Interfaces; len(got) != 1 || got[0].Name != "eth0" {
		t.Errorf("ServiceL2Status interfaces %v; want [eth0]", got)
	}

	const bad = "203.0.113.36"
	svcBad := e.service("nope", []string{bad})
	e.backends(svcBad, "node1", "node2", "node3")
	ev := e.waitEvent(svcBad, corev1.EventTypeWarning, "announceFailed", bad, 15*time.Second)
	t.Logf("event from %s: %s", ev.Source.Component, ev.Message)
	e.stillAnswered(bad, "", 2)
	e.waitNoStatus(svcBad, time.Second)
	if got := e.events(svcBad, "nodeAssigned"); len(got) > 0 {
		t.Errorf("nodeAssigned events %q for a Service nobody can announce", got)
	}
	// The other Service is unaffected.
	e.stillAnswered(ip, owner, 1)
}

// TestPreferredNodes: preferredNodeSelectors put every address of the pool
// on the node with the highest summed weight, among the nodes the
// nodeSelectors allow.
func TestPreferredNodes(t *testing.T) {
	e := newEnv(t)
	e.pool("preferred", "203.0.113.40-203.0.113.47")
	ad := e.advertise("preferred", "preferred", v1beta1.L2AdvertisementSpec{
		PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
			{Weight: 10, Preference: hostnameIn("node1")},
			{Weight: 60, Preference: hostnameIn("node3")},
		},
	})
	ips := []string{"203.0.113.40", "203.0.113.41", "203.0.113.42", "203.0.113.43"}
	var svcs []*corev1.Service
	for i, ip := range ips {
		svc := e.service(fmt.Sprintf("pref%d", i), []string{ip})
		e.backends(svc, "node1", "node2", "node3")
		svcs = append(svcs, svc)
	}
	check := func(want string) {
		t.Helper()
		for i, svc := range svcs {
			e.waitServed(svc, ips[i], want, "")
		}
	}
	t.Log("node3 weighs 60, node1 10")
	check("node3")

	// Weights add up: node1 30+30 beats node2's single 50.
	t.Log("node1 weighs 30+30, node2 50, node3 30")
	e.updateAdvertisement(ad, v1beta1.L2AdvertisementSpec{
		PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
			{Weight: 50, Preference: hostnameIn("node2")},
			{Weight: 30, Preference: hostnameIn("node1")},
			{Weight: 30, Preference: hostnameIn("node1", "node3")},
		},
	})
	check("node1")

	// Preferences only rank the nodes the nodeSelectors allow.
	t.Log("the same, with node1 not selected")
	e.updateAdvertisement(ad, v1beta1.L2AdvertisementSpec{
		NodeSelectors: []metav1.LabelSelector{hostnameIn("node2", "node3")},
		PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
			{Weight: 50, Preference: hostnameIn("node2")},
			{Weight: 30, Preference: hostnameIn("node1")},
			{Weight: 30, Preference: hostnameIn("node1", "node3")},
		},
	})
	check("node2")
}

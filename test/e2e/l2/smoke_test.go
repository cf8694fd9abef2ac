package l2

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestSmokeAnnounceAndServe: a Service with an auto-assigned address of
// the base pool and backends on every node is announced by exactly one
// node; its ServiceL2Status names that node and is owned by the node's
// speaker Pod; the node reports a nodeAssigned event and forwards HTTP.
// Deleting the Service stops the answers and removes the ServiceL2Status.
func TestSmokeAnnounceAndServe(t *testing.T) {
	e := newEnv(t)
	svc := e.service("web", nil)
	e.backends(svc, "node1", "node2", "node3")
	ips := svc.Status.LoadBalancer.Ingress
	if len(ips) != 1 {
		t.Fatalf("ingress %v; want one IPv4 address", ips)
	}
	ip := ips[0].IP

	owner := e.waitServed(svc, ip, "", "")
	// As MetalLB writes it: all interfaces, so none listed; owned by the
	// announcing speaker's Pod.
	st := e.waitStatus(svc, owner, time.Second)
	if len(st.Status.Interfaces) != 0 {
		t.Errorf("ServiceL2Status interfaces %v; want none (the advertisement covers all interfaces)", st.Status.Interfaces)
	}
	if refs := st.OwnerReferences; len(refs) != 1 || refs[0].Kind != "Pod" || refs[0].Name != "speaker-"+owner {
		t.Errorf("ServiceL2Status owner references %+v; want the Pod speaker-%s", refs, owner)
	}
	e.waitEvent(svc, corev1.EventTypeNormal, "nodeAssigned",
		fmt.Sprintf("announcing from node %q with protocol %q", owner, "layer2"), 10*time.Second)
	if got := e.events(svc, "announceFailed"); len(got) > 0 {
		t.Errorf("announceFailed events %q; want none", got)
	}

	// Deleting the Service stops the answers.
	e.deleteService(svc)
	e.waitSilent(ip, 10*time.Second)
	e.waitNoStatus(svc, 10*time.Second)
}

package l2

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/lab"
)

// eventually, poll: lab.Waiter, with the speakers the test killed left
// out of its liveness check.
func (e *env) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	e.waiter().Eventually(timeout, what, cond)
}

func (e *env) poll(timeout time.Duration, what string, cond func() (bool, string)) (bool, string) {
	e.t.Helper()
	return e.waiter().Poll(timeout, what, cond)
}

func (e *env) waiter() lab.Waiter { return lab.Waiter{T: e.t, Lab: e.l, Stopped: e.killed} }

// waitAnswer waits until exactly one MAC answers for ip, the MAC of node
// (any node when node is ""), and returns that node.
func (e *env) waitAnswer(ip, node string, timeout time.Duration) string {
	e.t.Helper()
	var got lab.Answer
	want := node
	if want == "" {
		want = "one node"
	}
	e.eventually(timeout, fmt.Sprintf("%s to answer for %s", want, ip), func() (bool, string) {
		a, err := e.l.Resolve(e.ctx, ip)
		if err != nil {
			return false, err.Error()
		}
		got = a
		return a.MACs == 1 && (node == "" || a.Node == node), a.String()
	})
	return got.Node
}

// waitAnswerNot waits until exactly one MAC answers for ip, not node's,
// and returns its node.
func (e *env) waitAnswerNot(ip, node string, timeout time.Duration) string {
	e.t.Helper()
	var got lab.Answer
	e.eventually(timeout, fmt.Sprintf("a node other than %s to answer for %s", node, ip), func() (bool, string) {
		a, err := e.l.Resolve(e.ctx, ip)
		if err != nil {
			return false, err.Error()
		}
		got = a
		return a.MACs == 1 && a.Node != node, a.String()
	})
	return got.Node
}

// waitSilent waits until nobody answers for ip.
func (e *env) waitSilent(ip string, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, "no answer for "+ip, func() (bool, string) {
		a, err := e.l.Resolve(e.ctx, ip)
		if err != nil {
			return false, err.Error()
		}
		return a.MACs == 0, a.String()
	})
}

// stillAnswered checks, times times in a row, that exactly node's MAC
// answers for ip (each check takes one to two seconds); node "" means
// nobody answers.
func (e *env) stillAnswered(ip, node string, times int) {
	e.t.Helper()
	for i := range times {
		a, err := e.l.Resolve(e.ctx, ip)
		if err != nil {
			e.t.Fatal(err)
		}
		switch {
		case node == "" && a.MACs != 0:
			e.t.Fatalf("check %d: %s answered for %s; want no answer", i+1, a, ip)
		case node != "" && (a.MACs != 1 || a.Node != node):
			e.t.Fatalf("check %d: %s answered for %s; want only %s", i+1, a, ip, node)
		}
	}
}

// waitHTTP waits until http://ip:port/ from the client answers with the
// name of backend (any node when backend is "") and returns the body.
func (e *env) waitHTTP(ip string, port int, backend string, timeout time.Duration) string {
	e.t.Helper()
	return e.waiter().HTTP(e.ctx, ip, port, backend, timeout)
}

// statusesIn lists the ServiceL2Status objects of Services in namespace
// ns.
func (e *env) statusesIn(ctx context.Context, ns string) ([]v1beta1.ServiceL2Status, error) {
	var list v1beta1.ServiceL2StatusList
	if err := e.c.List(ctx, &list, client.InNamespace(cluster.Namespace),
		client.MatchingLabels{"metallb.io/service-namespace": ns}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// statuses lists the ServiceL2Status objects of svc.
func (e *env) statuses(svc *corev1.Service) ([]v1beta1.ServiceL2Status, error) {
	all, err := e.statusesIn(e.ctx, svc.Namespace)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(s v1beta1.ServiceL2Status) bool {
		return s.Labels["metallb.io/service-name"] != svc.Name
	}), nil
}

func describeStatuses(list []v1beta1.ServiceL2Status) string {
	var out []string
	for _, s := range list {
		out = append(out, fmt.Sprintf("%s{label node %q, status node %q, service %s/%s, interfaces %v}",
			s.Name, s.Labels["metallb.io/node"], s.Status.Node, s.Status.ServiceNamespace, s.Status.ServiceName, s.Status.Interfaces))
	}
	return fmt.Sprintf("%d objects %v", len(list), out)
}

// waitStatus waits until svc has exactly one ServiceL2Status, written by
// and naming node (any node when node is ""), and returns it.
func (e *env) waitStatus(svc *corev1.Service, node string, timeout time.Duration) v1beta1.ServiceL2Status {
	e.t.Helper()
	st, ok, state := e.pollStatus(svc, node, timeout)
	if !ok {
		e.t.Fatalf("timed out after %v waiting for one ServiceL2Status of %s naming %q; last state: %s", timeout, svc.Name, node, state)
	}
	return st
}

// checkStatus is waitStatus that lets the test go on if it fails.
func (e *env) checkStatus(svc *corev1.Service, node string, timeout time.Duration) {
	e.t.Helper()
	if _, ok, state := e.pollStatus(svc, node, timeout); !ok {
		e.t.Errorf("no single ServiceL2Status of %s naming %q after %v; last state: %s", svc.Name, node, timeout, state)
	}
}

func (e *env) pollStatus(svc *corev1.Service, node string, timeout time.Duration) (v1beta1.ServiceL2Status, bool, string) {
	e.t.Helper()
	var got v1beta1.ServiceL2Status
	ok, state := e.poll(timeout, "the ServiceL2Status of "+svc.Name, func() (bool, string) {
		list, err := e.statuses(svc)
		if err != nil {
			return false, err.Error()
		}
		if len(list) != 1 {
			return false, describeStatuses(list)
		}
		s := list[0]
		got = s
		ok := s.Status.Node != "" && s.Labels["metallb.io/node"] == s.Status.Node &&
			s.Status.ServiceName == svc.Name && s.Status.ServiceNamespace == svc.Namespace &&
			(node == "" || s.Status.Node == node)
		return ok, describeStatuses(list)
	})
	return got, ok, state
}

// waitNoStatus waits until svc has no ServiceL2Status.
func (e *env) waitNoStatus(svc *corev1.Service, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, "no ServiceL2Status of "+svc.Name, func() (bool, string) {
		list, err := e.statuses(svc)
		if err != nil {
			return false, err.Error()
		}
		return len(list) == 0, describeStatuses(list)
	})
}

// waitServed waits until the client sees svc's IP ip announced by owner
// (any single node when ""), HTTP to ip on the Service's port reaches
// backend (any when ""), and the ServiceL2Status names the owner (a
// missing one fails the test but lets it go on). It returns the owner.
func (e *env) waitServed(svc *corev1.Service, ip, owner, backend string) string {
	e.t.Helper()
	got := e.waitAnswer(ip, owner, 15*time.Second)
	e.waitHTTP(ip, int(svc.Spec.Ports[0].Port), backend, 15*time.Second)
	e.checkStatus(svc, got, 15*time.Second)
	// The answer did not move meanwhile.
	e.stillAnswered(ip, got, 1)
	return got
}

// waitEvent waits for an event of svc with the given type and reason
// whose message contains text, and returns it.
func (e *env) waitEvent(svc *corev1.Service, typ, reason, text string, timeout time.Duration) corev1.Event {
	e.t.Helper()
	var got corev1.Event
	e.eventually(timeout, fmt.Sprintf("a %s event %s of %s", typ, reason, svc.Name), func() (bool, string) {
		var list corev1.EventList
		if err := e.c.List(e.ctx, &list, client.InNamespace(svc.Namespace)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, ev := range list.Items {
			if ev.InvolvedObject.Kind != "Service" || ev.InvolvedObject.Name != svc.Name {
				continue
			}
			seen = append(seen, fmt.Sprintf("%s %s %q", ev.Type, ev.Reason, ev.Message))
			if ev.Type == typ && ev.Reason == reason && strings.Contains(ev.Message, text) {
				got = ev
				return true, ""
			}
		}
		return false, fmt.Sprintf("events %v", seen)
	})
	return got
}

// events returns the messages of svc's events with the given reason.
func (e *env) events(svc *corev1.Service, reason string) []string {
	e.t.Helper()
	var list corev1.EventList
	if err := e.c.List(e.ctx, &list, client.InNamespace(svc.Namespace)); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range list.Items {
		if ev.InvolvedObject.Name == svc.Name && ev.Reason == reason {
			out = append(out, ev.Message)
		}
	}
	return out
}

// --- metrics -------------------------------------------------------------

// metricsPort is the speaker's default metrics port (HTTPS); each node
// namespace has its own port space.
const metricsPort = 9120

var labelPair = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// announced scrapes node's speaker metrics (HTTPS, with the admin token,
// from inside the node's namespace) and returns the metallb_speaker_announced
// series with value 1, as "service ip protocol node" strings.
func (e *env) announced(node string) ([]string, error) {
	out, err := e.l.Exec(e.ctx, node, "curl", "-sS", "-k", "--max-time", "3",
		"-H", "Authorization: Bearer "+e.l.Cluster.Config.BearerToken,
		"https://127.0.0.1:"+strconv.Itoa(metricsPort)+"/metrics")
	if err != nil {
		return nil, err
	}
	// A vector without series is not listed at all; this gauge always is.
	if !strings.Contains(out, "# TYPE metallb_k8s_client_config_loaded_bool gauge") {
		return nil, fmt.Errorf("not the speaker's metrics (%d bytes) from %s", len(out), node)
	}
	var series []string
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "metallb_speaker_announced{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok || strings.TrimSpace(value) != "1" {
			continue
		}
		l := map[string]string{}
		for _, m := range labelPair.FindAllStringSubmatch(labels, -1) {
			l[m[1]] = m[2]
		}
		series = append(series, fmt.Sprintf("%s %s %s %s", l["service"], l["ip"], l["protocol"], l["node"]))
	}
	slices.Sort(series)
	return series, nil
}

// waitAnnouncedMetric waits until, for svc's address ip, exactly owner's
// speaker (among the nodes in scrape) reports metallb_speaker_announced
// with value 1 and the right labels.
func (e *env) waitAnnouncedMetric(svc *corev1.Service, ip, owner string, scrape []string) {
	e.t.Helper()
	want := fmt.Sprintf("%s/%s %s layer2 %s", svc.Namespace, svc.Name, ip, owner)
	e.eventually(15*time.Second, "metallb_speaker_announced "+want, func() (bool, string) {
		var state []string
		ok := true
		for _, node := range scrape {
			series, err := e.announced(node)
			if err != nil {
				return false, err.Error()
			}
			has := slices.Contains(series, want)
			other := slices.ContainsFunc(series, func(s string) bool { return strings.Contains(s, " "+ip+" ") && s != want })
			if has != (node == owner) || other {
				ok = false
			}
			state = append(state, fmt.Sprintf("%s: %v", node, series))
		}
		return ok, strings.Join(state, "; ")
	})
}

// nodeNames lists the lab's node names except those given.
func nodeNames(l *lab.Lab, except ...string) []string {
	var out []string
	for _, n := range l.Nodes {
		if !slices.Contains(except, n.Name) {
			out = append(out, n.Name)
		}
	}
	return out
}

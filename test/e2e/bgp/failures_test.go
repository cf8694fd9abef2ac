package bgp

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/model"
	"github.com/ferrolb/ferrolb/test/cluster"
)

// TestMD5AndFailingPeers: sessions with TCP MD5 signatures come up with
// the right key (here from a basic-auth Secret), not with a wrong one;
// neither a wrong key nor a peer that does not exist disturbs the node's
// other sessions. A failing session shows in the speaker's metrics
// (session down, its prefixes pending), log and Warning events on the
// BGPPeer; the ServiceBGPStatus still
// lists it (configured peers, not session state). Fixing the key brings
// the session up.
func TestMD5AndFailingPeers(t *testing.T) {
	e := newEnv(t)
	md5, frr := e.router("md5"), e.router("frr")
	badPeer := func(password string) string {
		return fmt.Sprintf(`
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: md5-node3}
spec:
  myASN: 64512
  peerASN: 64505
  peerAddress: 198.51.100.8
  password: %q
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: node3}
`, password)
	}
	e.apply(`
apiVersion: v1
kind: Secret
metadata: {name: md5-key}
type: kubernetes.io/basic-auth
stringData: {password: ` + md5Password + `}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: md5}
spec:
  addresses: [203.0.113.132/30]
  autoAssign: false
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: md5-node12}
spec:
  myASN: 64512
  peerASN: 64505
  peerAddress: 198.51.100.8
  passwordSecret: {name: md5-key, namespace: metallb-system}
  nodeSelectors:
  - matchExpressions:
    - {key: kubernetes.io/hostname, operator: In, values: [node1, node2]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: md5-frr}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 198.51.100.1
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: md5-nobody}
spec:
  myASN: 64512
  peerASN: 64506
  peerAddress: ` + unreachableV4.String() + `
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: md5}
spec:
  ipAddressPools: [md5]
---` + badPeer("not-the-key"))
	const ip = "203.0.113.133"
	svc := e.service("md5", []string{ip})
	e.backends(svc, allNodes...)
	prefix := hostPrefix(ip)

	e.waitNextHops(md5, prefix, []string{"node1", "node2"}, 60*time.Second)
	e.waitNextHops(frr, prefix, allNodes, 30*time.Second)
	e.waitHTTPVia(frr, ip, 20*time.Second)
	e.waitStatuses(svc, map[string][]string{
		"node1": {"md5-frr", "md5-nobody", "md5-node12"},
		"node2": {"md5-frr", "md5-nobody", "md5-node12"},
		"node3": {"md5-frr", "md5-nobody", "md5-node3"},
	}, 15*time.Second)
	// node3's attempts with the wrong key, and everyone's with nobody,
	// keep failing (a connection attempt takes a few seconds).
	e.never(6*time.Second, "node3's session with the wrong MD5 key is up", func() (bool, string) {
		n, err := md5.Neighbor(e.ctx, e.nodeAddr("node3", model.IPv4))
		return err == nil && (n.Up() || n.Established > 0), fmt.Sprintf("%+v", n)
	})
	e.waitNextHops(md5, prefix, []string{"node1", "node2"}, time.Second)
	e.waitNextHops(frr, prefix, allNodes, time.Second)
	checkRouterUp(e, md5, []string{"node1", "node2"})
	checkRouterUp(e, frr, allNodes)

	// What node3's speaker says about its sessions: the good one is up
	// with its prefix, the failing ones have it pending...
	up, down := md5.Host.IPv4, unreachableV4
	e.checkMetrics("node3", map[string]float64{
		peerSeries("metallb_bgp_session_up", frr.Host.IPv4):               1,
		peerSeries("metallb_bgp_announced_prefixes_total", frr.Host.IPv4): 1,
		peerSeries("metallb_bgp_pending_prefixes_total", up):              1,
		peerSeries("metallb_bgp_announced_prefixes_total", up):            0,
		peerSeries("metallb_bgp_pending_prefixes_total", down):            1,
		peerSeries("metallb_bgp_announced_prefixes_total", down):          0,
	}, 5*time.Second)
	// ... and, as MetalLB does (it sets the gauge to 0 when it creates a
	// session), they are reported down, so that an alert on
	// metallb_bgp_session_up == 0 fires for a session that never came up.
	e.checkMetrics("node3", map[string]float64{
		peerSeries("metallb_bgp_session_up", up):   0,
		peerSeries("metallb_bgp_session_up", down): 0,
	}, 3*time.Second)
	e.waitPeerEvent("md5-node3", corev1.EventTypeWarning, "BGPSessionDown", `node "node3"`, 15*time.Second)
	e.waitPeerEvent("md5-nobody", corev1.EventTypeWarning, "BGPSessionDown", "no route to host", 15*time.Second)
	// The node's ConfigurationState tells the session states too (what
	// `kubectl metallb status` shows).
	e.waitSessionsState("node3", "False", []string{
		"md5-frr " + frr.Host.IPv4.String() + ":179 Established",
		"md5-node3 " + up.String() + ":179 ",
		"md5-nobody " + down.String() + ":179 ",
	}, 10*time.Second)
	speaker, err := e.l.Speaker("node3")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(speaker.Log)
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	for _, peer := range []string{"198.51.100.8:179", down.String() + ":179"} {
		if !logExplains(log, peer) {
			t.Errorf("node3's speaker log says nothing about why the session with %s is not up", peer)
		}
	}

	t.Log("the right key for node3")
	e.apply(badPeer(md5Password))
	e.waitNextHops(md5, prefix, allNodes, 30*time.Second)
	e.waitMetrics("node3", map[string]float64{
		peerSeries("metallb_bgp_session_up", up):               1,
		peerSeries("metallb_bgp_announced_prefixes_total", up): 1,
	}, 10*time.Second)
	e.waitPeerEvent("md5-node3", corev1.EventTypeNormal, "BGPSessionUp", `node "node3"`, 15*time.Second)
	e.waitSessionsState("node3", "False", []string{"md5-node3 " + up.String() + ":179 Established"}, 10*time.Second)
}

// waitSessionsState waits until the bgpSessionsReady condition of the
// node's ConfigurationState has the status and a message with a line
// starting with each of lines.
func (e *env) waitSessionsState(node, status string, lines []string, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, fmt.Sprintf("ConfigurationState speaker-%s with sessions %q", node, lines), func() (bool, string) {
		var st v1beta1.ConfigurationState
		if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: cluster.Namespace, Name: "speaker-" + node}, &st); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(st.Status.Conditions, "bgpSessionsReady")
		if c == nil || string(c.Status) != status || st.Status.Result != v1beta1.ConfigurationValid {
			return false, fmt.Sprintf("%+v", st.Status)
		}
		have := strings.Split(c.Message, "\n")
		for _, want := range lines {
			if !slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, want) }) {
				return false, c.Message
			}
		}
		return true, ""
	})
}

// waitPeerEvent waits for an event of the named BGPPeer with the given
// type and reason whose message contains text.
func (e *env) waitPeerEvent(peer, typ, reason, text string, timeout time.Duration) {
	e.t.Helper()
	e.eventually(timeout, fmt.Sprintf("a %s event %s of BGPPeer %s saying %q", typ, reason, peer, text), func() (bool, string) {
		var list corev1.EventList
		if err := e.c.List(e.ctx, &list, client.InNamespace(cluster.Namespace)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, ev := range list.Items {
			if ev.InvolvedObject.Kind != "BGPPeer" || ev.InvolvedObject.Name != peer {
				continue
			}
			seen = append(seen, fmt.Sprintf("%s %s: %s", ev.Type, ev.Reason, ev.Message))
			if ev.Type == typ && ev.Reason == reason && strings.Contains(ev.Message, text) {
				return true, ""
			}
		}
		return false, fmt.Sprint(seen)
	})
}

// logExplains reports whether a speaker log has a warning or error about
// a peer ("address:port").
func logExplains(log, peer string) bool {
	for _, line := range strings.Split(log, "\n") {
		if (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) &&
			strings.Contains(line, peer) {
			return true
		}
	}
	return false
}

// checkMetrics is waitMetrics that lets the test go on if it fails.
func (e *env) checkMetrics(node string, want map[string]float64, timeout time.Duration) {
	e.t.Helper()
	ok, state := e.poll(timeout, "metrics of "+node, func() (bool, string) {
		got, err := e.scrape(node)
		if err != nil {
			return false, err.Error()
		}
		var bad []string
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				bad = append(bad, fmt.Sprintf("%s = %v (present %v), want %v", k, g, ok, v))
			}
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	})
	if !ok {
		e.t.Errorf("metrics of %s's speaker: %s", node, state)
	}
}

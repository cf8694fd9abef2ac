package controller

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
)

// endpoints of a controller started with metrics and health probes on.
type endpoints struct {
	metrics string // https://127.0.0.1:<port>/metrics
	health  string // http://127.0.0.1:<port>
}

// startObserved starts a controller with the metrics server and the health
// probes on free ports.
func (e *env) startObserved(name string, args ...string) endpoints {
	e.t.Helper()
	mp, hp := freePort(e.t), freePort(e.t)
	for hp == mp {
		hp = freePort(e.t)
	}
	e.start(name, append([]string{"--port", strconv.Itoa(mp), "--health-probe-port", strconv.Itoa(hp)}, args...)...)
	return endpoints{
		metrics: fmt.Sprintf("https://127.0.0.1:%d/metrics", mp),
		health:  fmt.Sprintf("http://127.0.0.1:%d", hp),
	}
}

// get fetches url with an optional bearer token through client (a TLS
// client that accepts the self-signed certificate when nil).
func get(hc *http.Client, url, token string) (int, string, error) {
	if hc == nil {
		hc = insecureClient(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, string(body), err
}

// insecureClient trusts any certificate (the metrics server's is
// self-signed); maxVersion 0 means no limit.
func insecureClient(maxVersion uint16) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion},
		DisableKeepAlives: true,
	}}
}

// samples parses the Prometheus text format into series -> value, the
// series written as in the text (name{label="value",...}).
func samples(text string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out
}

// waitMetrics scrapes with the admin token until every series in want has
// its value, and returns the last scrape.
func (e *env) waitMetrics(url string, want map[string]float64) map[string]float64 {
	e.t.Helper()
	token := clus.Config.BearerToken
	var got map[string]float64
	e.eventually(30*time.Second, fmt.Sprintf("metrics %v", want), func() (bool, string) {
		code, body, err := get(nil, url, token)
		if err != nil || code != http.StatusOK {
			return false, fmt.Sprintf("status %d, error %v", code, err)
		}
		got = samples(body)
		var wrong []string
		for series, v := range want {
			if g, ok := got[series]; !ok || g != v {
				wrong = append(wrong, fmt.Sprintf("%s = %v (present %v), want %v", series, g, ok, v))
			}
		}
		return len(wrong) == 0, strings.Join(wrong, "; ")
	})
	return got
}

func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t)
	e.pool(cluster.Namespace, "e2e-metrics", "203.0.113.0/28")
	ep := e.startObserved("observed", "--leader-election-id", "e2e-metrics")
	for i := range 3 {
		e.service(fmt.Sprintf("m-%d", i))
	}
	e.waitAssigned(30*time.Second, "m-0", "m-1", "m-2")

	got := e.waitMetrics(ep.metrics, map[string]float64{
		`metallb_allocator_addresses_total{pool="e2e-metrics"}`:             16,
		`metallb_allocator_ipv4_addresses_total{pool="e2e-metrics"}`:        16,
		`metallb_allocator_ipv6_addresses_total{pool="e2e-metrics"}`:        0,
		`metallb_allocator_addresses_in_use_total{pool="e2e-metrics"}`:      3,
		`metallb_allocator_ipv4_addresses_in_use_total{pool="e2e-metrics"}`: 3,
		`metallb_k8s_client_config_loaded_bool`:                             1,
		`metallb_k8s_client_config_stale_bool`:                              0,
	})
	if n := got["metallb_k8s_client_updates_total"]; n < 3 {
		t.Errorf("metallb_k8s_client_updates_total = %v, want at least one per Service (3)", n)
	}
	if _, ok := got["metallb_k8s_client_update_errors_total"]; !ok {
		t.Errorf("metallb_k8s_client_update_errors_total missing")
	}

	// A released address shows in the gauge.
	e.deleteService("m-0")
	e.waitMetrics(ep.metrics, map[string]float64{`metallb_allocator_addresses_in_use_total{pool="e2e-metrics"}`: 2})

	// Only authenticated and authorized callers read the metrics.
	nobodyCfg, err := clus.API.UserConfig(nobody)
	if err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name, token string
		want        []int
	}{
		{"no token", "", []int{http.StatusUnauthorized}},
		// A token the TokenReview rejects is a 401 (controller-runtime's
		// filter, which MetalLB uses, answers 500 here).
		{"unknown token", "not-a-token", []int{http.StatusUnauthorized}},
		{"authenticated but not authorized", nobodyCfg.BearerToken, []int{http.StatusForbidden}},
	}
	for _, tc := range refused {
		code, body, err := get(nil, ep.metrics, tc.token)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Contains(tc.want, code) {
			t.Errorf("%s: status %d, want one of %v", tc.name, code, tc.want)
		}
		if strings.Contains(body, "metallb_") {
			t.Errorf("%s: the answer leaks metrics:\n%.300s", tc.name, body)
		}
	}
	// HTTPS only, and TLS 1.3 by default (--tls-min-version VersionTLS13).
	plain := strings.Replace(ep.metrics, "https://", "http://", 1)
	if code, body, err := get(&http.Client{}, plain, clus.Config.BearerToken); err == nil && (code == http.StatusOK || strings.Contains(body, "metallb_")) {
		t.Errorf("plain HTTP got status %d with metrics", code)
	}
	if code, _, err := get(insecureClient(tls.VersionTLS12), ep.metrics, clus.Config.BearerToken); err == nil {
		t.Errorf("a TLS 1.2 client was served (status %d), want the handshake refused", code)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		code, body, err := get(&http.Client{}, ep.health+path, "")
		if err != nil || code != http.StatusOK {
			t.Errorf("GET %s: status %d, body %q, error %v; want 200", path, code, body, err)
		}
	}
}

// TestConfigErrorsReported: an unparsable address is reported on the pool
// as a Warning event naming the field, the controller says it runs on a
// stale configuration, and the valid pools keep working.
func TestConfigErrorsReported(t *testing.T) {
	e := newEnv(t)
	e.pool(cluster.Namespace, "e2e-good", "203.0.113.64/30")
	ep := e.startObserved("observed", "--leader-election-id", "e2e-config-errors")
	e.service("before")
	e.waitAssigned(30*time.Second, "before")
	e.waitMetrics(ep.metrics, map[string]float64{"metallb_k8s_client_config_stale_bool": 0})

	bad := e.pool(cluster.Namespace, "e2e-bad", "203.0.113.80/30", "203.0.113.x")
	const field = "spec.addresses[1]"
	e.eventually(30*time.Second, "an InvalidConfiguration event on e2e-bad", func() (bool, string) {
		var list corev1.EventList
		if err := e.c.List(context.Background(), &list, client.InNamespace(cluster.Namespace)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, ev := range list.Items {
			if ev.InvolvedObject.Kind != "IPAddressPool" || ev.InvolvedObject.Name != "e2e-bad" {
				continue
			}
			if ev.Type == corev1.EventTypeWarning && ev.Reason == "InvalidConfiguration" &&
				ev.InvolvedObject.UID == bad.UID && strings.Contains(ev.Message, field) {
				return true, ""
			}
			seen = append(seen, ev.Type+" "+ev.Reason+": "+ev.Message)
		}
		return false, fmt.Sprintf("events on e2e-bad: %q", seen)
	})
	e.waitMetrics(ep.metrics, map[string]float64{"metallb_k8s_client_config_stale_bool": 1})

	// The faulty pool gives nothing; the good one still serves.
	e.service("during")
	svcs := e.waitAssigned(30*time.Second, "during")
	good := netip.MustParsePrefix("203.0.113.64/30")
	if ips := cluster.IngressIPs(svcs["during"]); len(ips) != 1 || !good.Contains(netip.MustParseAddr(ips[0])) {
		t.Errorf("during the error, a new Service got %v, want an address of e2e-good (%s)", ips, good)
	}

	// Fixing the pool ends the stale state.
	var p v1beta1.IPAddressPool
	if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: cluster.Namespace, Name: "e2e-bad"}, &p); err != nil {
		t.Fatal(err)
	}
	p.Spec.Addresses = []string{"203.0.113.80/30"}
	if err := e.c.Update(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	e.waitMetrics(ep.metrics, map[string]float64{
		"metallb_k8s_client_config_stale_bool":                      0,
		`metallb_allocator_addresses_total{pool="e2e-bad"}`:         4,
		`metallb_allocator_addresses_total{pool="e2e-good"}`:        4,
		`metallb_allocator_addresses_in_use_total{pool="e2e-good"}`: 2,
	})
}

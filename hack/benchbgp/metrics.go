package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// apiWrites summarises the API server's write requests so far, from its
// own metrics: each verb and resource done at least 50 times, with its
// count, largest first. Errors just yield a note.
func apiWrites(ctx context.Context, cs kubernetes.Interface) string {
	b, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return "API metrics unavailable: " + err.Error()
	}
	return summarizeWrites(string(b), 50)
}

// summarizeWrites reads apiserver_request_total from a Prometheus text
// exposition and lists the write verbs per resource counted at least min
// times, largest first: "POST services 1000, PATCH services/status 1000".
func summarizeWrites(metrics string, min float64) string {
	counts := map[string]float64{}
	for _, line := range strings.Split(metrics, "\n") {
		name, rest, ok := strings.Cut(line, "{")
		if !ok || name != "apiserver_request_total" {
			continue
		}
		set, value, _ := strings.Cut(rest, "} ")
		verb, res, sub := promLabel(set, "verb"), promLabel(set, "resource"), promLabel(set, "subresource")
		if verb != "POST" && verb != "PUT" && verb != "PATCH" && verb != "DELETE" {
			continue
		}
		if sub != "" {
			res += "/" + sub
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
		counts[verb+" "+res] += v
	}
	type kv struct {
		k string
		v float64
	}
	var all []kv
	for k, v := range counts {
		if v >= min {
			all = append(all, kv{k, v})
		}
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return strings.Compare(a.k, b.k)
	})
	var parts []string
	for _, e := range all {
		parts = append(parts, fmt.Sprintf("%s %.0f", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

// promLabel returns the value of name in a Prometheus label list.
func promLabel(set, name string) string {
	_, v, ok := strings.Cut(","+set, ","+name+`="`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

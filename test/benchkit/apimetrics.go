package benchkit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// APIMetrics returns the API server's own metrics (GET /metrics), in the
// Prometheus text format.
func APIMetrics(ctx context.Context, cs kubernetes.Interface) (string, error) {
	b, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	return string(b), err
}

// APIWrites summarises the API server's write requests so far, with
// their mean latencies (SummarizeWriteLatencies of its metrics with min),
// then its lists and watches
// and the watchers it cut off for being too slow (SummarizeReads). It is
// a diagnostic: an error yields a note.
func APIWrites(ctx context.Context, cs kubernetes.Interface, min float64) string {
	m, err := APIMetrics(ctx, cs)
	if err != nil {
		return "API metrics unavailable: " + err.Error()
	}
	return SummarizeWriteLatencies(m, min) + "; " + SummarizeReads(m)
}

// SummarizeReads lists the GET, LIST and WATCH requests per resource made at
// least 5 times (every client's start-up lists each kind once or twice)
// from apiserver_request_total, largest first, and the watchers the API server
// terminated because they did not keep up
// (apiserver_terminated_watchers_total): "GET leases 60, LIST services 12,
// WATCH services 40; slow watchers cut off: 3".
func SummarizeReads(metrics string) string {
	counts := map[string]float64{}
	cut := 0.0
	for _, line := range strings.Split(metrics, "\n") {
		family, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		set, value, _ := strings.Cut(rest, "} ")
		v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
		switch family {
		case "apiserver_terminated_watchers_total":
			cut += v
		case "apiserver_request_total":
			if verb := PromLabel(set, "verb"); verb == "GET" || verb == "LIST" || verb == "WATCH" {
				counts[verb+" "+PromLabel(set, "resource")] += v
			}
		}
	}
	var parts []string
	for _, k := range byCount(counts, 5) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, counts[k]))
	}
	return fmt.Sprintf("%s; slow watchers cut off: %.0f", strings.Join(parts, ", "), cut)
}

// SummarizeWrites reads apiserver_request_total from a Prometheus text
// exposition and lists the write verbs per resource counted at least min
// times, largest first: "POST services 1000, PATCH services/status 1000".
func SummarizeWrites(metrics string, min float64) string {
	counts := map[string]float64{}
	writeSamples(metrics, func(family, key string, v float64) {
		if family == "apiserver_request_total" {
			counts[key] += v
		}
	})
	var parts []string
	for _, k := range byCount(counts, min) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

// SummarizeWriteLatencies reads apiserver_request_duration_seconds from a
// Prometheus text exposition and lists the write verbs per resource done
// at least min times, most frequent first, with their mean latency:
// "POST services 3000 (mean 4.2 ms)".
func SummarizeWriteLatencies(metrics string, min float64) string {
	sums, counts := map[string]float64{}, map[string]float64{}
	writeSamples(metrics, func(family, key string, v float64) {
		switch family {
		case "apiserver_request_duration_seconds_sum":
			sums[key] += v
		case "apiserver_request_duration_seconds_count":
			counts[key] += v
		}
	})
	var parts []string
	for _, k := range byCount(counts, min) {
		parts = append(parts, fmt.Sprintf("%s %.0f (mean %.1f ms)", k, counts[k], 1000*sums[k]/counts[k]))
	}
	return strings.Join(parts, ", ")
}

// writeSamples calls fn with every sample of a labelled family whose verb
// is a write (POST, PUT, PATCH, DELETE), keyed "VERB resource" or "VERB
// resource/subresource".
func writeSamples(metrics string, fn func(family, key string, v float64)) {
	for _, line := range strings.Split(metrics, "\n") {
		family, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		set, value, _ := strings.Cut(rest, "} ")
		verb, res, sub := PromLabel(set, "verb"), PromLabel(set, "resource"), PromLabel(set, "subresource")
		if verb != "POST" && verb != "PUT" && verb != "PATCH" && verb != "DELETE" {
			continue
		}
		if sub != "" {
			res += "/" + sub
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
		fn(family, verb+" "+res, v)
	}
}

// byCount lists the keys counted at least min times, largest count first
// (ties by key).
func byCount(counts map[string]float64, min float64) []string {
	var keys []string
	for k, v := range counts {
		if v >= min {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

// PromLabel returns the value of name in a Prometheus label list such as
// `code="201",resource="services"` ("" when absent).
func PromLabel(set, name string) string {
	_, v, ok := strings.Cut(","+set, ","+name+`="`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

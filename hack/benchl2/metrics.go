package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/test/lab"
)

// speakerMetricsPort is the speaker's default --port (HTTPS, TokenReview
// and SubjectAccessReview; the lab's admin token passes both).
const speakerMetricsPort = 9120

// speakerCounter sums the samples of a metric family on a node's speaker
// whose label set contains every given "name=\"value\"" pair. It is a
// diagnostic: an error means "not available".
func speakerCounter(ctx context.Context, l *lab.Lab, node, family string, labels ...string) (float64, error) {
	nd, err := l.Node(node)
	if err != nil {
		return 0, err
	}
	c := &http.Client{
		Transport: &http.Transport{
			DialContext:       lab.NSDialer(nd.NS),
			DisableKeepAlives: true,
			// The speaker's certificate is self-signed; only its numbers matter here.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // lab-internal diagnostic
		},
		Timeout: 10 * time.Second,
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d/metrics", speakerMetricsPort), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+l.Cluster.Config.BearerToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metrics of %s: status %d", node, resp.StatusCode)
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, "{")
		if !ok || name != family {
			continue
		}
		set, value, _ := strings.Cut(rest, "} ")
		match := true
		for _, want := range labels {
			if !strings.Contains(","+set+",", ","+want+",") {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, fmt.Errorf("no %s{%s} on %s", family, strings.Join(labels, ","), node)
	}
	return sum, nil
}

package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ferrolb/ferrolb/test/lab"
)

// newHTTPClient returns a client whose connections start in network
// namespace ns: one fresh connection per request (no keep-alive), each
// request bounded by timeout.
func newHTTPClient(ns string, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:       lab.NSDialer(ns),
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		Timeout: timeout,
	}
}

// httpResult is one request of an httpLoop.
type httpResult struct {
	start, end time.Time
	ok         bool   // status 200 and a body
	body       string // the name of the node whose backend answered
}

// httpLoop sends GET url every interval, each request on its own, and
// records the results.
type httpLoop struct {
	mu      sync.Mutex
	results []httpResult
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

func startHTTPLoop(c *http.Client, url string, every time.Duration) *httpLoop {
	h := &httpLoop{stop: make(chan struct{})}
	h.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			h.wg.Go(func() { h.record(get(c, url)) })
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	})
	return h
}

func get(c *http.Client, url string) httpResult {
	r := httpResult{start: time.Now()}
	resp, err := c.Get(url)
	if err == nil {
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.ok = rerr == nil && resp.StatusCode == http.StatusOK && len(b) > 0
		r.body = string(b)
	}
	r.end = time.Now()
	return r
}

func (h *httpLoop) record(r httpResult) {
	h.mu.Lock()
	h.results = append(h.results, r)
	h.mu.Unlock()
}

// firstSuccess returns the earliest-ending successful request started at
// or after t.
func (h *httpLoop) firstSuccess(t time.Time) (httpResult, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var best httpResult
	found := false
	for _, r := range h.results {
		if r.ok && !r.start.Before(t) && (!found || r.end.Before(best.end)) {
			best, found = r, true
		}
	}
	return best, found
}

// waitSuccess waits, bounded by ctx, for a successful request started at or
// after t. Requests still in flight when one succeeds may end earlier, so
// it waits out the client timeout before picking the earliest.
func (h *httpLoop) waitSuccess(ctx context.Context, t time.Time, timeout time.Duration) (httpResult, bool) {
	for {
		if _, ok := h.firstSuccess(t); ok {
			break
		}
		select {
		case <-ctx.Done():
			return httpResult{}, false
		case <-time.After(5 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
	case <-time.After(timeout):
	}
	return h.firstSuccess(t)
}

// count returns how many requests started at or after t succeeded and
// failed.
func (h *httpLoop) count(t time.Time) (ok, failed int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.results {
		if r.start.Before(t) {
			continue
		}
		if r.ok {
			ok++
		} else {
			failed++
		}
	}
	return ok, failed
}

// close stops sending and waits for the requests in flight (each is
// bounded by the client's timeout).
func (h *httpLoop) close() {
	h.stopped.Do(func() { close(h.stop) })
	h.wg.Wait()
}

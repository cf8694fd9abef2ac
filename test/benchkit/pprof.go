package benchkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/test/lab"
)

// Profiles saves the pprof profiles of processes serving them on
// 127.0.0.1:Port inside a lab node's network namespace (the speakers run
// with --pprof-bind-address). Failures are only reported.
type Profiles struct {
	Port     int
	Dir      string // where the files go; "" is the current directory
	Prefix   string // files are named <Prefix>-<node>-<profile>.pb.gz
	Progress Progress
}

// Save fetches each of the named profiles ("heap", "goroutine", ...) of
// node, whose namespace is ns. A name with a query ("heap?debug=1", the
// text form that ends with the runtime's memory statistics) is saved as
// <profile>-debug.txt.
func (p Profiles) Save(ctx context.Context, node, ns string, names ...string) {
	for _, name := range names {
		url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/%s", p.Port, name)
		file, _, text := strings.Cut(name, "?")
		if text {
			file += "-debug.txt"
		} else {
			file += ".pb.gz"
		}
		p.save(ctx, node, ns, "pprof "+name, url, 30*time.Second, file)
	}
}

// SaveBurst records node's CPU profile for d (at least a second) and,
// halfway through, its heap profile (saved as burst-heap.pb.gz): what is
// live while a burst of work goes on.
func (p Profiles) SaveBurst(ctx context.Context, node, ns string, d time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d / 2):
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap", p.Port)
		p.save(ctx, node, ns, "heap profile during the burst", url, 30*time.Second, "burst-heap.pb.gz")
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", p.Port, max(int(d.Seconds()), 1))
	p.save(ctx, node, ns, "cpu profile", url, d+30*time.Second, "cpu.pb.gz")
	<-done
}

func (p Profiles) save(ctx context.Context, node, ns, what, url string, timeout time.Duration, file string) {
	c := &http.Client{Transport: &http.Transport{DialContext: lab.NSDialer(ns), DisableKeepAlives: true}, Timeout: timeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		p.Progress("  %s: %v", what, err)
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		p.Progress("  %s on %s: %v", what, node, err)
		return
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		p.Progress("  %s on %s: status %d %v", what, node, resp.StatusCode, err)
		return
	}
	dir := p.Dir
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s-%s", p.Prefix, node, file))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.Progress("  %s: %v", what, err)
		return
	}
	p.Progress("  saved %s", path)
}

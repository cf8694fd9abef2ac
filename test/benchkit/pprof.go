package benchkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
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
// node, whose namespace is ns.
func (p Profiles) Save(ctx context.Context, node, ns string, names ...string) {
	for _, name := range names {
		url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/%s", p.Port, name)
		p.save(ctx, node, ns, "pprof "+name, url, 30*time.Second, name)
	}
}

// SaveCPU records node's CPU profile for d (at least a second).
func (p Profiles) SaveCPU(ctx context.Context, node, ns string, d time.Duration) {
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", p.Port, max(int(d.Seconds()), 1))
	p.save(ctx, node, ns, "cpu profile", url, d+30*time.Second, "cpu")
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
	path := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.pb.gz", p.Prefix, node, file))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.Progress("  %s: %v", what, err)
		return
	}
	p.Progress("  saved %s", path)
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/lab"
)

// statusField reads a size field (kB) of /proc/<pid>/status, in bytes.
func statusField(pid int, field string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusField(string(b), field)
}

func parseStatusField(status, field string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in the status", field)
}

// saveProfiles fetches each speaker's heap profile (and goroutine dump)
// from its pprof endpoint inside its node and writes them to
// o.profileDir. Failures are only reported.
func saveProfiles(ctx context.Context, l *lab.Lab, o options) {
	dir := o.profileDir
	if dir == "" {
		dir = "."
	}
	for _, nd := range l.Nodes {
		c := &http.Client{Transport: &http.Transport{DialContext: benchkit.NSDialer(nd.NS), DisableKeepAlives: true}, Timeout: 30 * time.Second}
		for _, prof := range []string{"heap", "goroutine"} {
			url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/%s", o.pprofPort, prof)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				progress("  pprof: %v", err)
				continue
			}
			resp, err := c.Do(req)
			if err != nil {
				progress("  pprof %s on %s: %v", prof, nd.Name, err)
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				progress("  pprof %s on %s: status %d %v", prof, nd.Name, resp.StatusCode, err)
				continue
			}
			path := filepath.Join(dir, fmt.Sprintf("speaker-bgp-%s-%s.pb.gz", nd.Name, prof))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				progress("  pprof: %v", err)
				continue
			}
			progress("  saved %s", path)
		}
	}
}

// saveCPUProfile records node1's speaker CPU profile for o.cpuProfile from
// the start of the scale workload into o.profileDir. Failures are only
// reported.
func saveCPUProfile(ctx context.Context, l *lab.Lab, o options) {
	nd := l.Nodes[0]
	c := &http.Client{Transport: &http.Transport{DialContext: benchkit.NSDialer(nd.NS), DisableKeepAlives: true}, Timeout: o.cpuProfile + 30*time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", o.pprofPort, max(int(o.cpuProfile.Seconds()), 1))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		progress("  cpu profile: %v", err)
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		progress("  cpu profile on %s: %v", nd.Name, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		progress("  cpu profile on %s: status %d %v", nd.Name, resp.StatusCode, err)
		return
	}
	dir := o.profileDir
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, fmt.Sprintf("speaker-bgp-%s-cpu.pb.gz", nd.Name))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		progress("  cpu profile: %v", err)
		return
	}
	progress("  saved %s", path)
}

// largestMappings lists the n mappings of a process with the most
// resident memory, from /proc/<pid>/smaps: "speaker r-xp 27.0 MiB, [heap]
// ...". A diagnostic: errors yield a note.
func largestMappings(pid, n int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return err.Error()
	}
	return summarizeSmaps(string(b), n)
}

// summarizeSmaps adds up the Rss of the mappings of an smaps text by
// file (base name) and permissions, anonymous ones as "anon", and lists
// the n largest.
func summarizeSmaps(smaps string, n int) string {
	type entry struct {
		name string
		kb   uint64
	}
	by := map[string]uint64{}
	cur := ""
	for _, line := range strings.Split(smaps, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.Contains(f[0], "-") && len(f) >= 5 && !strings.HasSuffix(f[0], ":") {
			name := "anon"
			if len(f) >= 6 {
				name = filepath.Base(f[5])
			}
			cur = name + " " + f[1]
			continue
		}
		if f[0] == "Rss:" && len(f) >= 2 {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			by[cur] += kb
		}
	}
	var all []entry
	for k, v := range by {
		if v > 0 {
			all = append(all, entry{k, v})
		}
	}
	slices.SortFunc(all, func(a, b entry) int {
		if a.kb != b.kb {
			if a.kb > b.kb {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	var parts []string
	for _, e := range all[:min(n, len(all))] {
		parts = append(parts, fmt.Sprintf("%s %s", e.name, mib(e.kb<<10)))
	}
	return strings.Join(parts, ", ")
}

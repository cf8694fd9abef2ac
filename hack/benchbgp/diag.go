package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ferrolb/ferrolb/test/benchkit"
	"github.com/ferrolb/ferrolb/test/lab"
)

// profiles saves the speakers' profiles into o.ProfileDir.
func profiles(o options) benchkit.Profiles {
	return benchkit.Profiles{Port: o.PprofPort, Dir: o.ProfileDir, Prefix: "speaker-bgp", Progress: progress}
}

// saveProfiles fetches each speaker's heap profile and goroutine dump
// from its pprof endpoint inside its node. Failures are only reported.
func saveProfiles(ctx context.Context, l *lab.Lab, o options) {
	for _, nd := range l.Nodes {
		profiles(o).Save(ctx, nd.Name, nd.NS, "heap", "goroutine", "heap?debug=1")
	}
}

// saveCPUProfile records node1's speaker CPU profile for o.CPUProfile from
// the start of the scale workload, and its heap halfway. Failures are only reported.
func saveCPUProfile(ctx context.Context, l *lab.Lab, o options) {
	profiles(o).SaveBurst(ctx, l.Nodes[0].Name, l.Nodes[0].NS, o.CPUProfile)
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
		parts = append(parts, fmt.Sprintf("%s %s", e.name, benchkit.MiB(e.kb<<10)))
	}
	return strings.Join(parts, ", ")
}

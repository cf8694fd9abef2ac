package benchkit

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTicks = 100

// CPUSample is the CPU time (user + system, in ticks) used so far by each
// child process of this program, by PID, with the process's name.
type CPUSample map[int]ProcCPU

type ProcCPU struct {
	name  string
	ticks uint64
}

// SampleChildren reads this process (named "bench": its clients, the
// lab's API bridges and probers compete for the same CPUs) and every
// direct child of it: the lab starts all its processes (API server, etcd,
// controller, kube-proxy, speakers) itself, `ip netns exec` exec'ing the
// program in place.
func SampleChildren() CPUSample {
	s := CPUSample{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return s
	}
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15); comm may hold spaces.
		line := string(b)
		open, close := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(line[close+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if ppid != me && pid != me {
			continue
		}
		ut, _ := strconv.ParseUint(f[11], 10, 64)
		st, _ := strconv.ParseUint(f[12], 10, 64)
		name := line[open+1 : close]
		if pid == me {
			name = "bench"
		}
		s[pid] = ProcCPU{name: name, ticks: ut + st}
	}
	return s
}

// CPUSummary returns, per process name, the CPU seconds used between two
// samples, largest first: "kube-apiserver 20.1 s, speaker ×3 27.0 s (9.1,
// 9.0, 8.9)".
func CPUSummary(before, after CPUSample) string {
	type agg struct {
		name  string
		total uint64
		each  []uint64
	}
	by := map[string]*agg{}
	for pid, a := range after {
		d := a.ticks - before[pid].ticks // a process new since before counts from 0
		if before[pid].ticks > a.ticks {
			d = a.ticks
		}
		g := by[a.name]
		if g == nil {
			g = &agg{name: a.name}
			by[a.name] = g
		}
		g.total += d
		g.each = append(g.each, d)
	}
	var all []*agg
	for _, g := range by {
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b *agg) int { return int(b.total) - int(a.total) })
	var parts []string
	for _, g := range all {
		if g.total == 0 {
			continue
		}
		s := fmt.Sprintf("%s %.1f s", g.name, float64(g.total)/clockTicks)
		if len(g.each) > 1 {
			var each []string
			for _, e := range g.each {
				each = append(each, fmt.Sprintf("%.1f", float64(e)/clockTicks))
			}
			s = fmt.Sprintf("%s ×%d %.1f s (%s)", g.name, len(g.each), float64(g.total)/clockTicks, strings.Join(each, ", "))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

const ipamPkg = "./internal/core/ipam"

// ipamRows runs the allocator's Go benchmarks and turns each result line
// into a row. Whatever goes wrong (package or benchmarks missing, build
// error) becomes a single "not available" row rather than an error: the
// allocator is optional for the rest of the table.
func ipamRows(ctx context.Context, timeout time.Duration) []row {
	out, err := runIPAMBench(ctx, timeout)
	var rows []row
	for _, line := range strings.Split(out, "\n") {
		if r, ok := benchRow(line); ok {
			rows = append(rows, r)
		}
	}
	if err == nil && len(rows) > 0 {
		return rows
	}
	why := "no benchmarks"
	if err != nil {
		why = firstLine(err.Error())
	}
	progress("  allocator benchmarks failed or missing: %s\n%s", why, out)
	if len(rows) > 0 {
		return append(rows, row{"ipam allocator benchmarks", "incomplete (" + why + ")", "", ""})
	}
	return []row{{"ipam allocator benchmarks", "not available (" + why + ")", "", ""}}
}

func runIPAMBench(ctx context.Context, timeout time.Duration) (string, error) {
	root, err := kubeapi.RepoRoot()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(root + "/" + ipamPkg); err != nil {
		return "", fmt.Errorf("%s missing", ipamPkg)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem",
		"-timeout", timeout.String(), ipamPkg)
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("go test: %w: %s", err, lastLine(string(b)))
	}
	return string(b), nil
}

// benchRow parses a result line such as
//
//	BenchmarkX/v4-2   1000000   1345 ns/op   288 B/op   4 allocs/op
//
// into a row whose value lists the metrics, ns/op shown in a readable unit.
func benchRow(line string) (row, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return row{}, false
	}
	name := f[0]
	if i := strings.LastIndex(name, "-"); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // the GOMAXPROCS suffix
		}
	}
	var metrics []string
	for i := 2; i+1 < len(f); i += 2 {
		v, unit := f[i], f[i+1]
		if unit == "ns/op" {
			v, unit = readableNs(v)
		}
		metrics = append(metrics, v+" "+unit)
	}
	return row{"ipam " + name, strings.Join(metrics, ", "), "", ""}, true
}

func readableNs(v string) (string, string) {
	ns, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || ns < 1e4:
		return v, "ns/op"
	case ns < 1e7:
		return strconv.FormatFloat(ns/1e3, 'f', 1, 64), "µs/op"
	default:
		return strconv.FormatFloat(ns/1e6, 'f', 1, 64), "ms/op"
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

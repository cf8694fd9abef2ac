package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBenchRow(t *testing.T) {
	tests := []struct {
		line string
		want row
		ok   bool
	}{
		{
			line: "BenchmarkAllocateRelease/v4-slash8-2         	 1000000	      1345 ns/op	     288 B/op	       4 allocs/op",
			want: row{"ipam BenchmarkAllocateRelease/v4-slash8", "1345 ns/op, 288 B/op, 4 allocs/op", "", ""},
			ok:   true,
		},
		{
			// Custom metrics kept in order; large ns/op in a readable unit.
			line: "BenchmarkPlace100k/v6-2   9   127409748 ns/op   351.4 B/service-live   1274 ns/service   46282968 B/op   401076 allocs/op",
			want: row{"ipam BenchmarkPlace100k/v6", "127.4 ms/op, 351.4 B/service-live, 1274 ns/service, 46282968 B/op, 401076 allocs/op", "", ""},
			ok:   true,
		},
		{
			// No GOMAXPROCS suffix (GOMAXPROCS=1): the name's own dash stays.
			line: "BenchmarkX/v4-slash8   100   25000 ns/op",
			want: row{"ipam BenchmarkX/v4-slash8", "25.0 µs/op", "", ""},
			ok:   true,
		},
		{line: "goos: linux"},
		{line: "PASS"},
		{line: "ok  	github.com/ferrolb/ferrolb/internal/core/ipam	18.595s"},
		{line: "BenchmarkBroken-2   --- FAIL"},
	}
	for _, tt := range tests {
		got, ok := benchRow(tt.line)
		if ok != tt.ok {
			t.Errorf("benchRow(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("benchRow(%q) (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		xs   []float64
		want string
	}{
		{[]float64{12.34}, "12.3 s"},
		{[]float64{3, 1, 2}, "2.0 s (median; runs: 3.0 s, 1.0 s, 2.0 s)"},
		{[]float64{4, 1, 2, 3}, "2.5 s (median; runs: 4.0 s, 1.0 s, 2.0 s, 3.0 s)"},
	}
	for _, tt := range tests {
		if got := summary(tt.xs, "%.1f s"); got != tt.want {
			t.Errorf("summary(%v) = %q, want %q", tt.xs, got, tt.want)
		}
	}
}

package benchkit

import (
	"testing"
	"time"
)

func TestMedianPercentileDurations(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		in          []time.Duration
		median, p90 time.Duration
	}{
		{ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{ms(30, 10, 20), 20 * time.Millisecond, 30 * time.Millisecond},
		{ms(10, 40, 20, 30), 25 * time.Millisecond, 40 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 10500 * time.Microsecond, 18 * time.Millisecond},
		{[]time.Duration{4, 1, 3, 2}, 2, 4}, // (2+3)/2 truncated to whole nanoseconds
	} {
		if got := Median(tc.in); got != tc.median {
			t.Errorf("Median(%v) = %v; want %v", tc.in, got, tc.median)
		}
		if got := Percentile(tc.in, 90); got != tc.p90 {
			t.Errorf("Percentile(%v, 90) = %v; want %v", tc.in, got, tc.p90)
		}
	}
}

func TestMedianFloats(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{12.34}, 12.34},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 2, 3}, 2.5},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestPercentileBounds(t *testing.T) {
	xs := []int{5, 1, 4, 2, 3}
	for p, want := range map[int]int{0: 1, 1: 1, 20: 1, 21: 2, 50: 3, 100: 5} {
		if got := Percentile(xs, p); got != want {
			t.Errorf("Percentile(%v, %d) = %d; want %d", xs, p, got, want)
		}
	}
}

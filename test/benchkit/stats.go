package benchkit

import "slices"

// Number is what Median and Percentile take: durations, counts, seconds.
type Number interface {
	~int | ~int64 | ~float64
}

// Median returns the median of xs (not empty): the middle value, or the
// mean of the two middle values (truncated for integer types).
func Median[T Number](xs []T) T {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentile returns the nearest-rank p-th percentile of xs (not empty):
// the smallest value with at least p% of xs at or below it.
func Percentile[T Number](xs []T, p int) T {
	s := slices.Sorted(slices.Values(xs))
	k := (p*len(s) + 99) / 100 // ceil(p/100 * n), 1-based
	return s[min(max(k, 1), len(s))-1]
}

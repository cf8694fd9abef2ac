package main

import "testing"

func TestMaxProcs(t *testing.T) {
	for _, c := range []struct {
		flag int
		env  string
		want int
	}{
		{1, "", 1},  // the default: one CPU
		{4, "", 4},  // as asked
		{0, "", 0},  // Go's default
		{-1, "", 0}, // likewise
		{1, "3", 0}, // the environment wins
	} {
		if got := maxProcs(c.flag, c.env); got != c.want {
			t.Errorf("maxProcs(%d, %q) = %d; want %d", c.flag, c.env, got, c.want)
		}
	}
}

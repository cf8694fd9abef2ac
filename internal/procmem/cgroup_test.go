package procmem

import "testing"

func TestParseCgroupLimit(t *testing.T) {
	for in, want := range map[string]int64{
		"max\n":                 0,
		"104857600\n":           100 << 20,
		"9223372036854771712\n": 0, // cgroup v1 "unlimited"
		"  268435456 ":          256 << 20,
	} {
		got, err := ParseCgroupLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseCgroupLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "1.5"} {
		if _, err := ParseCgroupLimit(bad); err == nil {
			t.Errorf("ParseCgroupLimit(%q) accepted", bad)
		}
	}
}

func TestGoMemoryLimit(t *testing.T) {
	for _, c := range []struct{ flag, cgroup, want int64 }{
		{64 << 20, 0, 64 << 20},         // explicit
		{64 << 20, 200 << 20, 64 << 20}, // explicit wins over the container's
		{0, 200 << 20, 0},               // off
		{-1, 200 << 20, 180 << 20},      // automatic: 90%
		{-1, 0, 0},                      // automatic without a container limit
	} {
		if got := GoMemoryLimit(c.flag, c.cgroup); got != c.want {
			t.Errorf("GoMemoryLimit(%d, %d) = %d, want %d", c.flag, c.cgroup, got, c.want)
		}
	}
}

// The process's own cgroup is readable (whatever its limit).
func TestCgroupMemoryLimitReads(t *testing.T) {
	n, err := CgroupMemoryLimit()
	if err != nil {
		t.Fatal(err)
	}
	if n < 0 {
		t.Fatalf("limit %d", n)
	}
	t.Logf("this process's cgroup memory limit: %d bytes (0: none)", n)
}

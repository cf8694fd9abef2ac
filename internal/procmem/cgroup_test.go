package procmem

import (
	"os"
	"path/filepath"
	"testing"
)

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

// The limit is read from the process's cgroup, v2 or v1, in a container
// (the cgroup mounted at its root) or on a host (the cgroup's own path).
func TestCgroupMemoryLimitFromTree(t *testing.T) {
	for _, c := range []struct {
		name  string
		self  string
		files map[string]string
		want  int64
	}{
		{"v2 container", "0::/\n", map[string]string{"memory.max": "104857600\n"}, 100 << 20},
		{"v2 unlimited", "0::/\n", map[string]string{"memory.max": "max\n"}, 0},
		{"v2 host path", "0::/kubepods/pod1/c1\n", map[string]string{"kubepods/pod1/c1/memory.max": "209715200\n"}, 200 << 20},
		{"v1", "4:memory:/kubepods/pod1\n1:cpu:/\n", map[string]string{"memory/kubepods/pod1/memory.limit_in_bytes": "268435456\n"}, 256 << 20},
		{"v1 unlimited", "4:memory:/x\n", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"no files", "0::/\n", nil, 0},
		{"the smaller of two", "0::/a\n", map[string]string{"memory.max": "300\n", "a/memory.max": "200\n"}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			self := filepath.Join(dir, "cgroup")
			root := filepath.Join(dir, "fs")
			if err := os.WriteFile(self, []byte(c.self), 0o600); err != nil {
				t.Fatal(err)
			}
			for name, v := range c.files {
				path := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := cgroupMemoryLimit(self, root)
			if err != nil || got != c.want {
				t.Errorf("limit %d, %v; want %d", got, err, c.want)
			}
		})
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte("0::/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte("lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cgroupMemoryLimit(filepath.Join(dir, "cgroup"), dir); err == nil {
		t.Error("a malformed memory.max was accepted")
	}
	if n, err := cgroupMemoryLimit(filepath.Join(dir, "absent"), dir); n != 0 || err != nil {
		t.Errorf("without /proc/self/cgroup: %d, %v; want no limit", n, err)
	}
}

package procmem

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CgroupMemoryLimit returns the memory limit of the cgroup this process
// runs in (a container's limit), 0 when there is none. It reads cgroup v2
// (memory.max) and falls back to cgroup v1 (memory.limit_in_bytes).
func CgroupMemoryLimit() (int64, error) {
	return cgroupMemoryLimit("/proc/self/cgroup", "/sys/fs/cgroup")
}

// cgroupMemoryLimit is CgroupMemoryLimit with the process's cgroup file
// and the cgroup file system's mount point as parameters.
func cgroupMemoryLimit(self, root string) (int64, error) {
	f, err := os.Open(self)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	v2, v1 := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case strings.Contains(","+parts[1]+",", ",memory,"):
			v1 = parts[2]
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	var files []string
	if v2 != "" {
		// In a container the cgroup is mounted at its own root; on a
		// host, at the hierarchy's root.
		files = append(files, filepath.Join(root, "memory.max"), filepath.Join(root, v2, "memory.max"))
	}
	if v1 != "" {
		files = append(files, filepath.Join(root, "memory", "memory.limit_in_bytes"), filepath.Join(root, "memory", v1, "memory.limit_in_bytes"))
	}
	limit := int64(0)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		n, err := ParseCgroupLimit(string(b))
		if err != nil {
			return 0, err
		}
		if n > 0 && (limit == 0 || n < limit) {
			limit = n
		}
	}
	return limit, nil
}

// ParseCgroupLimit reads a memory.max or memory.limit_in_bytes value: a
// number of bytes, or "max" (or cgroup v1's huge "unlimited" value) for
// no limit, returned as 0.
func ParseCgroupLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	// cgroup v1 reports "no limit" as the largest page-aligned int64.
	if n >= 1<<62 {
		return 0, nil
	}
	return int64(n), nil
}

// GoMemoryLimit works out the Go runtime's soft memory limit from a
// daemon's flag: a positive flag is used as it is, 0 means no limit, and
// a negative flag means automatic: 90% of the container's memory limit
// (the rest for the stacks, the binary and the runtime), or no limit
// without one.
func GoMemoryLimit(flag int64, cgroupLimit int64) int64 {
	switch {
	case flag >= 0:
		return flag
	case cgroupLimit > 0:
		return cgroupLimit / 10 * 9
	default:
		return 0
	}
}

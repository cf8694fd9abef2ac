package benchkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// StatusField reads a size field (in kB, such as "VmRSS:") of
// /proc/<pid>/status, in bytes.
func StatusField(pid int, field string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	v, err := ParseStatusField(string(b), field)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return v, nil
}

// ParseStatusField reads a size field (in kB, such as "VmRSS:") of the
// text of a /proc/<pid>/status file, in bytes.
func ParseStatusField(status, field string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in the status", field)
}

// Memory is a process's memory, in bytes, from /proc/<pid>/status.
type Memory struct {
	RSS  uint64 // VmRSS: resident now
	Peak uint64 // VmHWM: the largest RSS so far
	Anon uint64 // RssAnon: the anonymous part of RSS
	File uint64 // RssFile: the file-backed part of RSS (the binary)
}

// ReadMemory reads a process's Memory.
func ReadMemory(pid int) (Memory, error) {
	var m Memory
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"VmRSS:", &m.RSS}, {"VmHWM:", &m.Peak}, {"RssAnon:", &m.Anon}, {"RssFile:", &m.File}} {
		v, err := StatusField(pid, f.name)
		if err != nil {
			return Memory{}, err
		}
		*f.dst = v
	}
	return m, nil
}

// String is "VmRSS 50.0 MiB (anonymous 30.0 MiB, file 20.0 MiB), VmHWM
// 60.0 MiB".
func (m Memory) String() string {
	return fmt.Sprintf("VmRSS %s (anonymous %s, file %s), VmHWM %s", MiB(m.RSS), MiB(m.Anon), MiB(m.File), MiB(m.Peak))
}

package procmem

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// Mapping is one line of /proc/<pid>/maps.
type Mapping struct {
	Start, End uintptr
	Perms      string
	Path       string
}

// ParseMaps reads the /proc/<pid>/maps format.
func ParseMaps(r io.Reader) ([]Mapping, error) {
	var out []Mapping
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			return nil, fmt.Errorf("bad maps line %q", sc.Text())
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end < start {
			return nil, fmt.Errorf("bad maps range %q", f[0])
		}
		m := Mapping{Start: uintptr(start), End: uintptr(end), Perms: f[1]}
		if len(f) >= 6 {
			m.Path = strings.Join(f[5:], " ")
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// readOnlyImage returns the mappings of the executable at exe that can
// be dropped and refaulted from the file: private and not writable (text
// and read-only data). Writable mappings hold data the process changed
// and are never selected.
func readOnlyImage(maps []Mapping, exe string) []Mapping {
	var out []Mapping
	for _, m := range maps {
		if m.Path != exe || len(m.Perms) < 4 || m.Perms[1] == 'w' || m.Perms[3] != 'p' {
			continue
		}
		out = append(out, m)
	}
	return out
}

// TrimExecutable applies to the current process: its executable's
// read-only mappings get no huge pages from now on and their resident
// pages are dropped. It returns the number of bytes of address space
// treated.
func TrimExecutable() (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	maps, err := ParseMaps(f)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, m := range readOnlyImage(maps, exe) {
		if err := trim(m.Start, m.End-m.Start); err != nil {
			return total, fmt.Errorf("%x-%x: %w", m.Start, m.End, err)
		}
		total += int(m.End - m.Start)
	}
	return total, nil
}

// TrimLogged is TrimExecutable for a daemon: a failure is a warning in
// log, not an error (the process runs the same, with more pages mapped).
func TrimLogged(log *slog.Logger) {
	if n, err := TrimExecutable(); err != nil {
		log.Warn("cannot trim the executable's resident pages", "error", err)
	} else {
		log.Debug("executable's read-only mappings trimmed", "bytes", n)
	}
}

package procmem

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

const sample = `00400000-01fd7000 r-xp 00000000 fe:00 123 /opt/bin/speaker
01fd7000-0401a000 r--p 01bd7000 fe:00 123 /opt/bin/speaker
0401b000-040e2000 rw-p 03c1b000 fe:00 123 /opt/bin/speaker
040e2000-04200000 rw-p 00000000 00:00 0
7fdc40059000-7fdc401af000 r-xp 00028000 fe:00 99 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd1000-7ffd2000 r--p 00000000 00:00 0 [vvar]
7ffe1000-7ffe2000 r-xp 00000000 fe:00 124 /opt/bin/speaker (deleted)
`

func TestReadOnlyImageSelectsTextAndRodataOnly(t *testing.T) {
	maps, err := ParseMaps(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 7 || maps[3].Path != "" || maps[6].Path != "/opt/bin/speaker (deleted)" {
		t.Fatalf("parsed %+v", maps)
	}
	got := readOnlyImage(maps, "/opt/bin/speaker")
	if len(got) != 2 || got[0].Start != 0x400000 || got[0].End != 0x1fd7000 || got[1].Perms != "r--p" {
		t.Fatalf("selected %+v", got)
	}
	if _, err := ParseMaps(strings.NewReader("zz-yy r-xp 0 0 0 /x\n")); err == nil {
		t.Fatal("bad range accepted")
	}
}

// TestTrimExecutableKeepsRunning trims this test binary: the process keeps
// working (code refaults from the file), its read-only image is no longer
// huge-page mapped, and its file-backed resident set does not grow.
func TestTrimExecutableKeepsRunning(t *testing.T) {
	before := rssFile(t)
	n, err := TrimExecutable()
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 {
		t.Fatalf("treated %d bytes: the executable's mappings were not found", n)
	}
	after := rssFile(t)
	if after > before {
		t.Errorf("RssFile grew from %d to %d kB", before, after)
	}
	// Code still runs after its pages were dropped.
	if s := strconv.Itoa(12345); s != "12345" {
		t.Fatal(s)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	var inExe, marked bool
	for _, line := range strings.Split(string(smaps), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && strings.Contains(f[0], "-") {
			inExe = f[5] == exe && f[1][1] != 'w'
		}
		if inExe && strings.HasPrefix(line, "VmFlags:") {
			if !strings.Contains(line, " nh") {
				t.Errorf("read-only mapping of the executable without the no-huge-page flag: %s", line)
			}
			marked = true
		}
	}
	if !marked {
		t.Error("no read-only mapping of the executable in smaps")
	}
}

func rssFile(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

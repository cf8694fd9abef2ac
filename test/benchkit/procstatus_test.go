package benchkit

import (
	"os"
	"testing"
)

func TestParseStatusField(t *testing.T) {
	status := "Name:\tspeaker\nVmHWM:\t  61440 kB\nVmRSS:\t   51200 kB\nRssAnon:\t 30000 kB\n"
	for _, tc := range []struct {
		field string
		want  uint64
	}{{"VmRSS:", 50 << 20}, {"VmHWM:", 60 << 20}, {"RssAnon:", 30000 << 10}} {
		got, err := ParseStatusField(status, tc.field)
		if err != nil || got != tc.want {
			t.Errorf("ParseStatusField(%s) = %d, %v; want %d", tc.field, got, err, tc.want)
		}
	}
	if _, err := ParseStatusField(status, "RssFile:"); err == nil {
		t.Error("a missing field gave no error")
	}
}

func TestReadMemoryOfSelf(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS == 0 || m.Peak < m.RSS || m.Anon+m.File > m.RSS+(1<<20) {
		t.Errorf("implausible memory of this test: %+v", m)
	}
}

func TestMemoryString(t *testing.T) {
	m := Memory{RSS: 50 << 20, Peak: 60 << 20, Anon: 30 << 20, File: 20 << 20}
	want := "VmRSS 50.0 MiB (anonymous 30.0 MiB, file 20.0 MiB), VmHWM 60.0 MiB"
	if got := m.String(); got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}

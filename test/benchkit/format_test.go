package benchkit

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	PrintTable(&b, []Row{
		{"failover, median", "0.41 s", "< 1 s", "5-7 s median"},
		{"scale, IPs per node", "node1 334, node2 333", "", ""},
	})
	want := "\n| measurement | value | target | MetalLB |\n|---|---|---|---|\n" +
		"| failover, median | 0.41 s | < 1 s | 5-7 s median |\n" +
		"| scale, IPs per node | node1 334, node2 333 | - | - |\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("PrintTable (-want +got):\n%s", diff)
	}
	b.Reset()
	PrintTable(&b, nil)
	if b.Len() != 0 {
		t.Errorf("PrintTable(nil) wrote %q; want nothing", b.String())
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 3000: "3,000", 65000: "65,000", 1234567: "1,234,567"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q; want %q", n, got, want)
		}
	}
}

func TestMiB(t *testing.T) {
	for b, want := range map[uint64]string{0: "0.0 MiB", 1 << 20: "1.0 MiB", 51 << 20: "51.0 MiB", 3 << 19: "1.5 MiB"} {
		if got := MiB(b); got != want {
			t.Errorf("MiB(%d) = %q; want %q", b, got, want)
		}
	}
}

func TestNewProgress(t *testing.T) {
	var b bytes.Buffer
	NewProgress(&b, "benchx", "2006")("%d Services in %s", 3, "bench")
	want := time.Now().Format("2006") + " benchx: 3 Services in bench\n"
	if got := b.String(); got != want {
		t.Errorf("progress line %q; want %q", got, want)
	}
}

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferrolb/ferrolb/internal/metrics"
)

// capture is a prometheus.Registerer that keeps what is registered.
type capture struct{ collectors []prometheus.Collector }

func (c *capture) Register(col prometheus.Collector) error {
	c.collectors = append(c.collectors, col)
	return nil
}

func (c *capture) MustRegister(cols ...prometheus.Collector) {
	c.collectors = append(c.collectors, cols...)
}

func (c *capture) Unregister(prometheus.Collector) bool { return false }

type metricDoc struct {
	typ    string
	labels []string
}

var (
	descName   = regexp.MustCompile(`fqName: "([^"]+)"`)
	descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
	docRow     = regexp.MustCompile("^\\| `(metallb_[a-z0-9_]+)` \\| ([a-z]+) \\|([^|]*)\\|")
	codeSpan   = regexp.MustCompile("`([^`]+)`")
)

// registered lists every metallb_* metric the recorders of
// internal/metrics define, with type and labels.
func registered(t *testing.T) map[string]metricDoc {
	t.Helper()
	reg := &capture{}
	metrics.NewK8sClient(reg)
	metrics.NewAllocator(reg)
	metrics.NewSpeaker(reg)
	metrics.NewBGP(reg)
	out := map[string]metricDoc{}
	for _, col := range reg.collectors {
		var typ string
		switch col.(type) {
		case prometheus.Gauge, *prometheus.GaugeVec:
			typ = "gauge"
		case prometheus.Counter, *prometheus.CounterVec:
			typ = "counter"
		default:
			t.Fatalf("collector %T: unknown metric type", col)
		}
		ch := make(chan *prometheus.Desc, 16)
		col.Describe(ch)
		close(ch)
		for d := range ch {
			s := d.String()
			name := descName.FindStringSubmatch(s)
			labels := descLabels.FindStringSubmatch(s)
			if name == nil || labels == nil {
				t.Fatalf("cannot read descriptor %s", s)
			}
			var ls []string
			if labels[1] != "" {
				ls = strings.Split(labels[1], ",")
			}
			slices.Sort(ls)
			out[name[1]] = metricDoc{typ: typ, labels: ls}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d metrics registered: capture is broken", len(out))
	}
	return out
}

// TestMetricsPageMatchesCode checks that docs/metrics.md lists exactly the
// metallb_* metrics the code exports, each with its type and labels.
func TestMetricsPageMatchesCode(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]metricDoc{}
	for _, line := range strings.Split(string(data), "\n") {
		m := docRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var ls []string
		for _, c := range codeSpan.FindAllStringSubmatch(m[3], -1) {
			ls = append(ls, c[1])
		}
		slices.Sort(ls)
		if _, dup := documented[m[1]]; dup {
			t.Errorf("docs/metrics.md lists %s twice", m[1])
		}
		documented[m[1]] = metricDoc{typ: m[2], labels: ls}
	}
	code := registered(t)
	for name, want := range code {
		got, ok := documented[name]
		switch {
		case !ok:
			t.Errorf("docs/metrics.md does not list %s (%s, labels %v)", name, want.typ, want.labels)
		case got.typ != want.typ:
			t.Errorf("docs/metrics.md: %s is a %s, not a %s", name, want.typ, got.typ)
		case !slices.Equal(got.labels, want.labels):
			t.Errorf("docs/metrics.md: %s has labels %v, not %v", name, want.labels, got.labels)
		}
	}
	for name := range documented {
		if _, ok := code[name]; !ok {
			t.Errorf("docs/metrics.md lists %s, which the code does not export", name)
		}
	}
}

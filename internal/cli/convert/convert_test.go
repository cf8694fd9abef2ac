package convert

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta2"
	"github.com/ferrolb/ferrolb/internal/core/config"
	"github.com/ferrolb/ferrolb/internal/k8s/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCases maps each testdata/<name>.in.yaml to the options it is
// converted with; the expected output is testdata/<name>.out.yaml.
var goldenCases = map[string]Options{
	"layer2":        {},
	"bgp":           {OnlyData: true},
	"bgp-configmap": {},
	"dualstack":     {OnlyData: true, Namespace: "lb"},
	"sanitize":      {OnlyData: true},
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != len(goldenCases) {
		t.Fatalf("testdata has %d inputs, the test knows %d cases: keep them in step", len(inputs), len(goldenCases))
	}
	for name, opts := range goldenCases {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", name+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Convert(in, opts)
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			var out bytes.Buffer
			if err := res.WriteYAML(&out); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".out.yaml")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
			checkOutputCompiles(t, out.Bytes(), res.Namespace)
		})
	}
}

// checkOutputCompiles reads the printed YAML back, strictly, into the API
// types and compiles it: what we print must be what we validated.
func checkOutputCompiles(t *testing.T, out []byte, namespace string) {
	t.Helper()
	var objs snapshot.Objects
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	docs := 0
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var tm struct{ Kind, APIVersion string }
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatal(err)
		}
		if tm.Kind == "" {
			continue // the header comment
		}
		docs++
		var meta struct {
			Metadata struct{ Namespace string }
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil || meta.Metadata.Namespace != namespace {
			t.Errorf("%s has namespace %q, want %q", tm.Kind, meta.Metadata.Namespace, namespace)
		}
		switch tm.Kind {
		case "IPAddressPool":
			appendStrict(t, tm.Kind, doc, &objs.Pools)
		case "L2Advertisement":
			appendStrict(t, tm.Kind, doc, &objs.L2Advertisements)
		case "BGPAdvertisement":
			appendStrict(t, tm.Kind, doc, &objs.BGPAdvertisements)
		case "BGPPeer":
			if tm.APIVersion != v1beta2.GroupVersion.String() {
				t.Errorf("BGPPeer apiVersion %q, want %q", tm.APIVersion, v1beta2.GroupVersion)
			}
			appendStrict(t, tm.Kind, doc, &objs.BGPPeers)
		case "BFDProfile":
			appendStrict(t, tm.Kind, doc, &objs.BFDProfiles)
		case "Community":
			appendStrict(t, tm.Kind, doc, &objs.Communities)
		default:
			t.Errorf("unexpected kind %q", tm.Kind)
		}
	}
	if docs == 0 {
		t.Fatal("the output holds no object")
	}
	if _, errs := config.Compile(snapshot.Build(objs)); len(errs) > 0 {
		t.Errorf("the printed objects do not compile:\n%v", errs)
	}
}

// appendStrict decodes doc strictly into a new item of list.
func appendStrict[T any](t *testing.T, kind string, doc []byte, list *[]T) {
	t.Helper()
	var o T
	if err := yaml.UnmarshalStrict(doc, &o); err != nil {
		t.Fatalf("%s does not decode strictly: %v\n%s", kind, err, doc)
	}
	*list = append(*list, o)
}

// TestConfigMapEqualsOnlyData: a ConfigMap and its bare data convert to
// the same objects (namespace aside).
func TestConfigMapEqualsOnlyData(t *testing.T) {
	cm, err := os.ReadFile("testdata/bgp-configmap.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/bgp.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	render := func(in []byte, o Options) string {
		t.Helper()
		res, err := Convert(in, o)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := res.WriteYAML(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	a := render(cm, Options{Namespace: "x"})
	b := render(data, Options{OnlyData: true, Namespace: "x"})
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("ConfigMap and bare data differ (-configmap +data):\n%s", diff)
	}
	if !strings.Contains(a, "namespace: x\n") {
		t.Error("Options.Namespace did not override the ConfigMap's namespace")
	}
}

func TestNamespaceSource(t *testing.T) {
	const data = "address-pools:\n- name: p\n  protocol: layer2\n  addresses: [192.0.2.0/28]\n"
	cm := func(ns string) string {
		s := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n"
		if ns != "" {
			s += "  namespace: " + ns + "\n"
		}
		return s + "data:\n  config: |\n    " + strings.ReplaceAll(strings.TrimSpace(data), "\n", "\n    ") + "\n"
	}
	tests := []struct {
		name  string
		input string
		opts  Options
		want  string
	}{
		{"ConfigMap namespace reused", cm("lb"), Options{}, "lb"},
		{"ConfigMap without namespace", cm(""), Options{}, DefaultNamespace},
		{"flag wins over ConfigMap", cm("lb"), Options{Namespace: "other"}, "other"},
		{"bare data, default", data, Options{OnlyData: true}, DefaultNamespace},
		{"bare data, flag", data, Options{OnlyData: true, Namespace: "other"}, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Convert([]byte(tt.input), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Namespace != tt.want {
				t.Errorf("namespace %q, want %q", res.Namespace, tt.want)
			}
			for _, o := range res.Objects {
				if o.GetNamespace() != tt.want {
					t.Errorf("%s %q in namespace %q, want %q", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), o.GetNamespace(), tt.want)
				}
			}
		})
	}
}

func TestSanitizeNotes(t *testing.T) {
	in, err := os.ReadFile("testdata/sanitize.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(in, Options{OnlyData: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`bfd-profiles[0].name: BFDProfile "Fast_BFD" renamed to "fast-bfd" (not a valid object name)`,
		`address-pools[0].name: IPAddressPool "Production_Pool" renamed to "production-pool" (not a valid object name)`,
		`address-pools[1].name: IPAddressPool "42-Test Pool!" renamed to "test-pool" (not a valid object name)`,
		`address-pools[2].name: IPAddressPool "a-very-long-pool-name-that-goes-on-and-on-well-past-the-DNS-label-limit-of-63" renamed to "a-very-long-pool-name-that-goes-on-and-on-well-past-the-dns-lab" (not a valid object name)`,
	}
	if diff := cmp.Diff(want, res.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	var names []string
	for _, o := range res.Objects {
		names = append(names, o.GetName())
	}
	for _, n := range []string{"fast-bfd", "production-pool", "test-pool", "already.valid-name"} {
		if !slices.Contains(names, n) {
			t.Errorf("no object named %q among %v", n, names)
		}
	}
	for _, o := range res.Objects {
		if p, ok := o.(*v1beta2.BGPPeer); ok && p.Spec.BFDProfile != "fast-bfd" {
			t.Errorf("peer's bfdProfile %q does not follow the renamed profile", p.Spec.BFDProfile)
		}
	}
}

func TestObjectName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"pool", "pool", true},
		{"my.pool-1", "my.pool-1", true},
		{"1pool", "1pool", true}, // valid as is: left alone
		{"My_Pool", "my-pool", true},
		{"__x__", "x", true},
		{"9_lives", "lives", true},
		{"trailing_", "trailing", true},
		{strings.Repeat("A", 70), strings.Repeat("a", 63), true},
		{"___", "", false},
		{"123", "123", true},
		{"_123", "", false},
	}
	for _, tt := range tests {
		got, ok := objectName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("objectName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

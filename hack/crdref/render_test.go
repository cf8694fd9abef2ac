package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/widget.golden.md")

// loadFixture reads testdata/widgets.yaml and renders its one CRD as if
// the page went to testdata/out.
func loadFixture(t *testing.T) (*crd, string) {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	crds, err := loadCRDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != 1 {
		t.Fatalf("loadCRDs found %d CRDs in testdata, want 1 (the ConfigMap is not one)", len(crds))
	}
	return crds[0], string(renderCRD(crds[0], filepath.Join(dir, "out")))
}

func TestRenderGolden(t *testing.T) {
	_, got := loadFixture(t)
	golden := filepath.Join("testdata", "widget.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./hack/crdref -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("rendering of testdata/widgets.yaml changed (go test ./hack/crdref -update if intended): %s", firstDiff(want, []byte(got)))
	}
}

// section returns the text of the "#### `path`" section of a version's
// fields (up to the next heading).
func section(t *testing.T, page, version, path string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, "\n## example.com/"+version+"\n")
	if !ok {
		t.Fatalf("no section for version %s", version)
	}
	if next := strings.Index(rest, "\n## "); next >= 0 {
		rest = rest[:next]
	}
	_, body, ok := strings.Cut(rest, "\n#### "+code(path)+"\n")
	if !ok {
		t.Fatalf("version %s: no field section for %s", version, path)
	}
	if next := strings.Index(body, "\n#### "); next >= 0 {
		body = body[:next]
	}
	return body
}

func TestRenderContent(t *testing.T) {
	c, page := loadFixture(t)

	if !strings.HasPrefix(page, generatedMarker+"\n") {
		t.Errorf("page does not start with the generated marker")
	}
	// Versions: storage first, unserved only mentioned.
	v1 := strings.Index(page, "\n## example.com/v1\n")
	v1beta1 := strings.Index(page, "\n## example.com/v1beta1\n")
	if v1 < 0 || v1beta1 < 0 || v1 > v1beta1 {
		t.Errorf("want the storage version v1 before v1beta1; positions %d, %d", v1, v1beta1)
	}
	if strings.Contains(page, "## example.com/v1alpha1") || !strings.Contains(page, "- Not served: `v1alpha1`") {
		t.Errorf("an unserved version must be listed, not rendered")
	}
	if got := c.orderedVersions(); len(got) != 2 || got[0].Name != "v1" {
		t.Errorf("orderedVersions = %v", got)
	}
	for _, want := range []string{
		"- Served versions: `v1` (storage), `v1beta1` (deprecated)",
		"Deprecated; the API server warns: “v1beta1 is going away, use v1”.",
		"short names `wd`",
		"- Conversion between versions: None",
		"- Source: [widgets.yaml](../widgets.yaml)",
		// Description escaped: <node> stays visible, a*b*c is no emphasis.
		"It lives on node &lt;node&gt;\nand uses a\\*b\\*c.",
		// Printer columns: '|' escaped inside a cell, priority means -o wide.
		"| Size | integer | `.spec.size` | always | How big \\| how small. |",
		"| Phase | string | `.status.phase` | with `-o wide` |  |",
		// Summary table.
		"| `spec.size` | `integer (int32)` | yes | `10` |",
		"| `spec.parts[].name` | `string` | yes |  |",
		"| `spec.parts[].weights` | `[]integer` |  |  |",
		"| `spec.labels` | `map[string]string` |  |  |",
		"| `spec.free` | `object (free-form)` |  |  |",
		"| `spec.port` | `int or string` |  |  |",
		"| `spec.options` | `object` |  | `{\"a\":1}` |",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Standard fields are left out.
	for _, absent := range []string{"`apiVersion` |", "`kind` |", "`metadata` |"} {
		if strings.Contains(page, absent) {
			t.Errorf("page lists a standard field: %q", absent)
		}
	}

	checks := []struct {
		path string
		want []string
	}{
		{"spec", []string{
			"- Type: `object`, **required**",
			"- Rule: colored widgets need a size above 1 — `!has(self.color) || self.size > 1`",
			"- Rule: message from `'size ' + string(self.size) + ' is too big'` — `self.size < 100` (reason `FieldValueInvalid`, reported on `.size`)",
		}},
		{"spec.size", []string{"Size in units.", "- Type: `integer (int32)`, **required**", "- Default: `10`", "- Value: ≥ 1 and < 100"}},
		{"spec.color", []string{"- Type: `string`, optional", "- Allowed values: `red`, `True`, `blue`"}},
		{"spec.code", []string{"- Pattern: `` ^(a|b)`c$ ``", "- String length: 1 to 8"}},
		{"spec.labels", []string{"- Map type: `atomic`", "- Each value: string length: at most 63"}},
		{"spec.parts", []string{"- Items: at least 1", "- List type: `map` (keys: `name`)", "- Each item: rule: `self.name != 'x'`"}},
		{"spec.parts[].weights", []string{"- Each item: value: ≥ 0"}},
		{"spec.free", []string{"- Unknown fields are preserved"}},
		{"spec.port", []string{"- Further schema constraints (`anyOf`): see the CRD"}},
	}
	for _, c := range checks {
		body := section(t, page, "v1", c.path)
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("section %s lacks %q; it is:\n%s", c.path, w, body)
			}
		}
	}
	if got := section(t, page, "v1beta1", "spec.size"); !strings.Contains(got, "- Type: `integer`, optional") {
		t.Errorf("v1beta1 spec.size: %s", got)
	}
}

func TestFieldsOrderAndPaths(t *testing.T) {
	c, _ := loadFixture(t)
	var paths []string
	for _, f := range fields(c.orderedVersions()[0].root()) {
		paths = append(paths, f.path)
	}
	want := []string{
		"spec", "spec.code", "spec.color", "spec.free", "spec.labels", "spec.options",
		"spec.parts", "spec.parts[].name", "spec.parts[].weights", "spec.port", "spec.size",
		"status", "status.phase",
	}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths:\n got %v\nwant %v", paths, want)
	}
}

func TestLoadCRDsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadCRDs(dir); err == nil || !strings.Contains(err.Error(), "no CustomResourceDefinition") {
		t.Errorf("empty directory: err = %v", err)
	}
	fixture, err := os.ReadFile(filepath.Join("testdata", "widgets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.yaml", "b.yml"} {
		if err := os.WriteFile(filepath.Join(dir, name), fixture, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := loadCRDs(dir); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("same kind twice: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.yml"), []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadCRDs(dir); err == nil || !strings.Contains(err.Error(), "b.yml") {
		t.Errorf("broken YAML: err = %v, want the file named", err)
	}
}

func TestMarkdownHelpers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "`plain`"},
		{"a`b", "`` a`b ``"},
		{"a``b`", "``` a``b` ```"},
		{" x ", "`  x  `"},
	} {
		if got := code(c.in); got != c.want {
			t.Errorf("code(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"a <b> c", "a &lt;b&gt; c"},
		{"keep `<x>` and `*` in code", "keep `<x>` and `*` in code"},
		{"2*3", `2\*3`},
		{"# title\nx # y", `\# title` + "\nx # y"},
	} {
		if got := prose(c.in); got != c.want {
			t.Errorf("prose(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := cell("a | b\n  c"); got != `a \| b c` {
		t.Errorf("cell = %q", got)
	}
	if got := firstSentence("One two.\nThree. Four"); got != "One two." {
		t.Errorf("firstSentence = %q", got)
	}
	if got := firstSentence("No stop 1.5 here"); got != "No stop 1.5 here" {
		t.Errorf("firstSentence = %q", got)
	}
}

func TestWriteAndCompare(t *testing.T) {
	out := t.TempDir()
	o := options{outDir: out}
	files := map[string][]byte{
		"README.md": []byte(generatedMarker + "\n\n# index\n"),
		"a.md":      []byte(generatedMarker + "\n\n# a\n"),
	}
	if p := compare(o, files); len(p) != 2 || !strings.Contains(p[0], "README.md is missing") {
		t.Errorf("compare before write = %q", p)
	}
	// A stale generated page, a generated flags page (kept when flags are
	// not generated) and a hand-written page (never touched).
	stale := filepath.Join(out, "gone.md")
	flagsFile := filepath.Join(out, flagsPage)
	hand := filepath.Join(out, "notes.md")
	for path, content := range map[string]string{
		stale:     generatedMarker + "\nold\n",
		flagsFile: generatedMarker + "\nflags\n",
		hand:      "# notes\n" + generatedMarker + "\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := write(o, files, io.Discard); err != nil {
		t.Fatal(err)
	}
	if p := compare(o, files); len(p) != 0 {
		t.Errorf("compare after write = %q", p)
	}
	for path, exists := range map[string]bool{stale: false, flagsFile: true, hand: true} {
		if _, err := os.Stat(path); (err == nil) != exists {
			t.Errorf("%s: exists = %v, want %v", path, err == nil, exists)
		}
	}
	// With flags on, a flags page that is not generated is stale.
	o.flags = true
	if p := compare(o, files); len(p) != 1 || !strings.Contains(p[0], flagsPage+" is no longer generated") {
		t.Errorf("compare with flags = %q", p)
	}
	// A changed page is reported with its first differing line.
	if err := os.WriteFile(filepath.Join(out, "a.md"), []byte(generatedMarker+"\n\n# b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.flags = false
	p := compare(o, files)
	if len(p) != 1 || !strings.Contains(p[0], `a.md differs: line 3: committed "# b", generated "# a"`) {
		t.Errorf("compare after edit = %q", p)
	}
	if err := staleError(p); !strings.Contains(err.Error(), "run `go run ./hack/crdref`") {
		t.Errorf("staleError = %v", err)
	}
}

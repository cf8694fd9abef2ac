package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseHelp(t *testing.T) {
	// The flag package's PrintDefaults format, as a Go binary prints it.
	out := "Usage of /tmp/x/prog:\n" +
		"  -count int\n    \tnumber of things (default 3)\n" +
		"  -dir string\n    \twhere to look (default: the current one)\n" +
		"  -enabled\n    \tturn it on (default true)\n" +
		"  -name string\n    \ta name\n    \tover two lines (default \"a \\\"b\\\"\")\n" +
		"  -off\n    \tturn it off\n" +
		"  -v\tverbose\n" +
		"  -wait duration\n    \thow long (default 1m30s)\n"
	got, err := parseHelp(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []flagDoc{
		{Name: "count", Type: "int", Default: "3", Usage: "number of things"},
		{Name: "dir", Type: "string", Usage: "where to look (default: the current one)"},
		{Name: "enabled", Type: "bool", Default: "true", Usage: "turn it on"},
		{Name: "name", Type: "string", Default: `a "b"`, Usage: "a name\nover two lines"},
		{Name: "off", Type: "bool", Default: "false", Usage: "turn it off"},
		{Name: "v", Type: "bool", Default: "false", Usage: "verbose"},
		{Name: "wait", Type: "duration", Default: "1m30s", Usage: "how long"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseHelp:\n got %+v\nwant %+v", got, want)
	}
	if _, err := parseHelp("Usage of x:\n"); err == nil {
		t.Errorf("no flags: want an error")
	}
	if _, err := parseHelp("    \tstray usage\n"); err == nil {
		t.Errorf("usage before a flag: want an error")
	}
}

func TestFlagEnv(t *testing.T) {
	dir := t.TempDir()
	src := `package main

import (
	"flag"
	"os"
)

func envInt(name string, def int) int { return def }

func parse() {
	var s string
	var n int
	flag.StringVar(&s, "namespace", os.Getenv("APP_NAMESPACE"), "usage")
	flag.IntVar(&n, "port", envInt("APP_PORT", 7946), "usage")
	flag.StringVar(&s, "plain", "default", "usage")
	flag.StringVar(&s, "lower", os.Getenv("not_an_env"), "usage")
	_ = flag.String("both", first(os.Getenv("APP_A"), os.Getenv("APP_B")), "usage")
}

func first(a, b string) string { return a }
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// Test files are not read.
	if err := os.WriteFile(filepath.Join(dir, "main_test.go"), []byte("package main\nimport (\"flag\";\"os\")\nvar _ = flag.String(\"t\", os.Getenv(\"APP_TEST\"), \"\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := flagEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"namespace": {"APP_NAMESPACE"},
		"port":      {"APP_PORT"},
		"both":      {"APP_A", "APP_B"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flagEnv = %v, want %v", got, want)
	}
}

func TestRenderFlags(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "docs", "reference")
	page := string(renderFlags([]command{{
		Name: "tool",
		Dir:  filepath.Join(root, "cmd", "tool"),
		Flags: []flagDoc{
			{Name: "mode", Type: "string", Default: "a|b", Usage: "one of a|b for <x>", Env: []string{"TOOL_MODE"}},
			{Name: "quiet", Type: "bool", Default: "false", Usage: "say less"},
		},
	}}, out))
	for _, want := range []string{
		generatedMarker + "\n",
		"## tool\n\nSource: [cmd/tool](../../cmd/tool)\n",
		"| `--mode` | string | `a\\|b` | `TOOL_MODE` | one of a\\|b for &lt;x&gt; |\n",
		"| `--quiet` | bool | `false` |  | say less |\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("flags page lacks %q:\n%s", want, page)
		}
	}
}

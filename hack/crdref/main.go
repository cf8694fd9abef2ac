package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
)

// flagsPage is the name of the generated flags reference.
const flagsPage = "flags.md"

// options says what to generate and where.
type options struct {
	root   string // repository root (holds go.mod)
	crdDir string // CRD manifests, absolute
	outDir string // docs/reference, absolute
	// flags generates flags.md from the binaries in cmds (directories
	// relative to root); without it flags.md is left alone.
	flags bool
	cmds  []string
}

// defaultOptions are the repository's own locations.
func defaultOptions(root string) options {
	return options{
		root:   root,
		crdDir: filepath.Join(root, "config", "crd", "bases"),
		outDir: filepath.Join(root, "docs", "reference"),
		flags:  true,
		cmds:   []string{"cmd/controller", "cmd/speaker"},
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crdref:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	def := defaultOptions(root)
	crdDir := flag.String("crds", def.crdDir, "directory of CRD manifests (*.yaml)")
	outDir := flag.String("out", def.outDir, "output directory of the reference pages")
	withFlags := flag.Bool("flags", def.flags, "also write "+flagsPage+" from the -h output of the commands (builds them)")
	cmds := flag.String("cmds", strings.Join(def.cmds, ","), "comma-separated command directories, relative to the repository root, for "+flagsPage)
	check := flag.Bool("check", false, "write nothing; exit 1 if the committed pages differ from the generated ones")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	o := options{root: root, flags: *withFlags}
	if o.crdDir, err = filepath.Abs(*crdDir); err != nil {
		return err
	}
	if o.outDir, err = filepath.Abs(*outDir); err != nil {
		return err
	}
	for _, c := range strings.Split(*cmds, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.cmds = append(o.cmds, c)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	files, err := generate(ctx, o)
	if err != nil {
		return err
	}
	if *check {
		if problems := compare(o, files); len(problems) > 0 {
			return staleError(problems)
		}
		fmt.Printf("%s is up to date\n", o.outDir)
		return nil
	}
	return write(o, files, os.Stdout)
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run inside the repository")
		}
		dir = parent
	}
}

// generate renders every page: file name in outDir -> content.
func generate(ctx context.Context, o options) (map[string][]byte, error) {
	crds, err := loadCRDs(o.crdDir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"README.md": renderIndex(crds)}
	for _, c := range crds {
		name := c.pageName()
		if _, dup := files[name]; dup || name == flagsPage {
			return nil, fmt.Errorf("kind %s: page name %s is taken", c.Spec.Names.Kind, name)
		}
		files[name] = renderCRD(c, o.outDir)
	}
	if o.flags {
		var cmds []command
		for _, rel := range o.cmds {
			dir := filepath.Join(o.root, rel)
			fl, err := captureFlags(ctx, o.root, dir)
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, command{Name: filepath.Base(dir), Dir: dir, Flags: fl})
		}
		files[flagsPage] = renderFlags(cmds, o.outDir)
	}
	return files, nil
}

// generatedPages lists the files in dir that this tool wrote (first line
// is the marker).
func generatedPages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if first, _, _ := bytes.Cut(data, []byte("\n")); string(first) == generatedMarker {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// stalePages lists the generated pages in outDir that files no longer
// holds; flags.md only counts when o.flags is set.
func stalePages(o options, files map[string][]byte) ([]string, error) {
	existing, err := generatedPages(o.outDir)
	var out []string
	for _, name := range existing {
		if _, ok := files[name]; !ok && (o.flags || name != flagsPage) {
			out = append(out, name)
		}
	}
	return out, err
}

// compare lists the differences between the generated files and outDir:
// missing, different and stale pages. flags.md is only compared when
// o.flags is set.
func compare(o options, files map[string][]byte) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		got, err := os.ReadFile(filepath.Join(o.outDir, name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, name+" is missing")
		case err != nil:
			problems = append(problems, name+": "+err.Error())
		case !bytes.Equal(got, files[name]):
			problems = append(problems, name+" differs: "+firstDiff(got, files[name]))
		}
	}
	stale, err := stalePages(o, files)
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, name := range stale {
		problems = append(problems, name+" is no longer generated")
	}
	return problems
}

// firstDiff describes the first differing line of two texts.
func firstDiff(committed, generated []byte) string {
	a := strings.Split(string(committed), "\n")
	b := strings.Split(string(generated), "\n")
	for i := 0; i < max(len(a), len(b)); i++ {
		var la, lb string
		if i < len(a) {
			la = a[i]
		}
		if i < len(b) {
			lb = b[i]
		}
		if la != lb || i >= len(a) || i >= len(b) {
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, la, lb)
		}
	}
	return "no line differs"
}

func staleError(problems []string) error {
	return fmt.Errorf("docs/reference is stale: run `go run ./hack/crdref`\n  %s", strings.Join(problems, "\n  "))
}

// write puts the pages in outDir, rewriting only those that changed, and
// removes generated pages that are no longer produced.
func write(o options, files map[string][]byte, log io.Writer) error {
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(o.outDir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, files[name]) {
			continue
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
		fmt.Fprintln(log, "wrote", path)
	}
	stale, err := stalePages(o, files)
	if err != nil {
		return err
	}
	for _, name := range stale {
		if err := os.Remove(filepath.Join(o.outDir, name)); err != nil {
			return err
		}
		fmt.Fprintln(log, "removed", filepath.Join(o.outDir, name))
	}
	return nil
}

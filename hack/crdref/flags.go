package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// flagDoc is one command-line flag as the reference shows it.
type flagDoc struct {
	Name    string
	Type    string
	Default string
	Usage   string
	// Env lists the environment variables the flag's default is read
	// from.
	Env []string
}

// command is one binary of the repository and its flags.
type command struct {
	Name  string // binary name, e.g. "controller"
	Dir   string // package directory, absolute
	Flags []flagDoc
}

var (
	// flagLine matches the first line of a flag in PrintDefaults output:
	// "  -name type" or, for one-letter flags, "  -x\tusage".
	flagLine   = regexp.MustCompile(`^  -([^ \t]+)(?: ([^\t]+))?(?:\t(.*))?$`)
	defaultEnd = regexp.MustCompile(`^(?s)(.*) \(default (.*)\)$`)
	envName    = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
)

// parseHelp reads the flags out of a Go program's -h output (the flag
// package's PrintDefaults format).
func parseHelp(out string) ([]flagDoc, error) {
	var flags []flagDoc
	var usage []string
	flush := func() {
		if len(flags) == 0 {
			return
		}
		f := &flags[len(flags)-1]
		u := strings.Join(usage, "\n")
		if m := defaultEnd.FindStringSubmatch(u); m != nil {
			u = m[1]
			f.Default = m[2]
			if f.Type == "string" {
				if s, err := strconv.Unquote(m[2]); err == nil {
					f.Default = s
				}
			}
		}
		if f.Default == "" && f.Type == "bool" {
			f.Default = "false"
		}
		f.Usage = strings.TrimSpace(u)
		usage = nil
	}
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "    \t"):
			if len(flags) == 0 {
				return nil, fmt.Errorf("usage line before any flag: %q", line)
			}
			usage = append(usage, strings.TrimPrefix(line, "    \t"))
		case flagLine.MatchString(line):
			flush()
			m := flagLine.FindStringSubmatch(line)
			typ := m[2]
			if typ == "" {
				typ = "bool"
			}
			flags = append(flags, flagDoc{Name: m[1], Type: typ})
			if m[3] != "" {
				usage = append(usage, m[3])
			}
		}
	}
	flush()
	if len(flags) == 0 {
		return nil, errors.New("no flags found in the -h output")
	}
	return flags, nil
}

// flagEnv finds, in the Go files of a command's package, the flags whose
// default is read from an environment variable: a flag definition
// (flag.StringVar(&v, "name", os.Getenv("X"), ...), flag.Int("name",
// envInt("X", 1), ...)) whose default expression calls a function with a
// string literal that looks like an environment variable name.
func flagEnv(dir string) (map[string][]string, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "flag" {
				return true
			}
			nameIdx := 0
			if strings.HasSuffix(sel.Sel.Name, "Var") {
				nameIdx = 1
			}
			if len(call.Args) < nameIdx+2 {
				return true
			}
			lit, ok := call.Args[nameIdx].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			name, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			ast.Inspect(call.Args[nameIdx+1], func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if !ok || len(c.Args) == 0 {
					return true
				}
				if l, ok := c.Args[0].(*ast.BasicLit); ok && l.Kind == token.STRING {
					if v, err := strconv.Unquote(l.Value); err == nil && envName.MatchString(v) && !slices.Contains(out[name], v) {
						out[name] = append(out[name], v)
					}
				}
				return true
			})
			return true
		})
	}
	return out, nil
}

// captureFlags builds the command in pkgDir (a directory of the module
// rooted at root) into a temporary directory, runs it with -h and an
// environment without the variables its flags read, and returns its flags.
func captureFlags(ctx context.Context, root, pkgDir string) ([]flagDoc, error) {
	tmp, err := os.MkdirTemp("", "crdref-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, filepath.Base(pkgDir))
	rel, err := filepath.Rel(root, pkgDir)
	if err != nil {
		return nil, err
	}

	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(bctx, "go", "build", "-o", bin, "./"+filepath.ToSlash(rel))
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./%s: %w\n%s", rel, err, out)
	}

	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	run := exec.CommandContext(rctx, bin, "-h")
	// A clean environment: defaults must not depend on who runs this.
	run.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + tmp}
	run.Dir = tmp
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	if err := run.Run(); err != nil {
		return nil, fmt.Errorf("%s -h: %w\n%s", filepath.Base(pkgDir), err, out.String())
	}
	flags, err := parseHelp(out.String())
	if err != nil {
		return nil, fmt.Errorf("%s -h: %w", filepath.Base(pkgDir), err)
	}
	env, err := flagEnv(pkgDir)
	if err != nil {
		return nil, err
	}
	for i := range flags {
		flags[i].Env = env[flags[i].Name]
	}
	return flags, nil
}

// renderFlags writes the flags page.
func renderFlags(cmds []command, outDir string) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("%s\n\n# Command-line flags\n\n", generatedMarker)
	p("Captured from each binary's %s output by %s. ", code("-h"), code("go run ./hack/crdref"))
	p("Flags may be written with one or two dashes. Where a flag lists an environment variable, ")
	p("the variable sets the default and the flag, when given, wins.\n")
	for _, c := range cmds {
		p("\n## %s\n\n", c.Name)
		if rel, err := filepath.Rel(outDir, c.Dir); err == nil {
			p("Source: [%s](%s)\n\n", filepath.ToSlash(filepath.Join("cmd", filepath.Base(c.Dir))), filepath.ToSlash(rel))
		}
		p("| Flag | Type | Default | Environment | Description |\n|---|---|---|---|---|\n")
		for _, f := range c.Flags {
			def := ""
			if f.Default != "" {
				def = code(f.Default)
			}
			p("| %s | %s | %s | %s | %s |\n", cell(code("--"+f.Name)), cell(f.Type), cell(def), cell(codes(f.Env)), cell(prose(f.Usage)))
		}
	}
	return b.Bytes()
}

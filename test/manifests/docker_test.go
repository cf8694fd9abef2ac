package manifests

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// dockerfile is the parsed part of the Dockerfile the tests check.
type dockerfile struct {
	args   map[string]string            // ARG defaults
	stages map[string]string            // stage name -> base image
	env    map[string]map[string]string // stage -> ENV
	runs   map[string][][]string        // stage -> RUN commands, split into words
	copies map[string][]string          // stage -> COPY lines
	entry  map[string]string            // stage -> ENTRYPOINT
}

// parseDockerfile reads the instructions the tests need (one per line,
// no continuation lines).
func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	d := dockerfile{args: map[string]string{}, stages: map[string]string{}, env: map[string]map[string]string{},
		runs: map[string][][]string{}, copies: map[string][]string{}, entry: map[string]string{}}
	stage := ""
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, "Dockerfile")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			t.Fatalf("Dockerfile: continuation lines are not supported by this test: %s", line)
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "ARG":
			k, v, _ := strings.Cut(rest, "=")
			if _, set := d.args[k]; !set || stage == "" {
				d.args[k] = v
			}
		case "FROM":
			f := strings.Fields(rest)
			if len(f) != 3 || !strings.EqualFold(f[1], "AS") {
				t.Fatalf("Dockerfile: FROM without a stage name: %s", line)
			}
			stage = f[2]
			d.stages[stage] = f[0]
			d.env[stage] = map[string]string{}
		case "ENV":
			for _, kv := range splitWords(t, rest) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("Dockerfile: ENV wants key=value: %s", line)
				}
				d.env[stage][k] = v
			}
		case "RUN":
			d.runs[stage] = append(d.runs[stage], splitWords(t, rest))
		case "COPY":
			d.copies[stage] = append(d.copies[stage], rest)
		case "ENTRYPOINT":
			d.entry[stage] = rest
		}
	}
	return d
}

// splitWords splits like a shell: spaces separate words, double quotes
// group.
func splitWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case r == ' ' && !inQuote:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inQuote {
		t.Fatalf("unbalanced quotes: %s", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// goBuild returns the build stage's `go build` command.
func (d dockerfile) goBuild(t *testing.T) []string {
	t.Helper()
	var found []string
	for _, words := range d.runs["build"] {
		if len(words) >= 2 && words[0] == "go" && words[1] == "build" {
			if found != nil {
				t.Fatalf("Dockerfile: more than one go build")
			}
			found = words
		}
		for _, w := range words {
			if w == "&&" || w == ";" || w == "|" {
				t.Fatalf("Dockerfile: RUN %v chains commands; the test runs the go build alone", words)
			}
		}
	}
	if found == nil {
		t.Fatalf("Dockerfile: no go build in stage build")
	}
	return found
}

// TestDockerfile checks the stages and the build flags the images rely on.
func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t)
	for _, s := range []string{"build", "controller", "speaker"} {
		if _, ok := d.stages[s]; !ok {
			t.Fatalf("Dockerfile has no stage %q (stages %v)", s, d.stages)
		}
	}
	for _, s := range []string{"controller", "speaker"} {
		base := d.stages[s]
		if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
			t.Errorf("stage %s is based on %s; want gcr.io/distroless/static or scratch", s, base)
		}
		if !slices.ContainsFunc(d.copies[s], func(c string) bool {
			return slices.Equal(strings.Fields(c), []string{"--from=build", "/out/" + s, "/" + s})
		}) {
			t.Errorf("stage %s does not copy /out/%s to /%s: %v", s, s, s, d.copies[s])
		}
		if d.entry[s] != `["/`+s+`"]` {
			t.Errorf("stage %s ENTRYPOINT %s; want [\"/%s\"]", s, d.entry[s], s)
		}
	}
	if got := d.env["build"]["CGO_ENABLED"]; got != "0" {
		t.Errorf("build stage CGO_ENABLED=%q; want 0", got)
	}
	words := d.goBuild(t)
	if !slices.Contains(words, "-trimpath") {
		t.Errorf("go build %v lacks -trimpath", words)
	}
	if i := slices.Index(words, "-ldflags"); i < 0 || i+1 >= len(words) || words[i+1] != "-s -w" {
		t.Errorf(`go build %v lacks -ldflags "-s -w"`, words)
	}
	for _, pkg := range []string{"./cmd/controller", "./cmd/speaker"} {
		if !slices.Contains(words, pkg) {
			t.Errorf("go build %v does not build %s", words, pkg)
		}
	}
	if i := slices.Index(words, "-o"); i < 0 || i+1 >= len(words) || words[i+1] != "/out/" {
		t.Errorf("go build %v does not write to /out/", words)
	}
	// The build context holds what the build copies.
	ignore := string(readFile(t, ".dockerignore"))
	for _, keep := range []string{"!go.mod", "!go.sum", "!api/", "!cmd/", "!internal/"} {
		if !strings.Contains(ignore, keep+"\n") {
			t.Errorf(".dockerignore does not keep %s", strings.TrimPrefix(keep, "!"))
		}
	}
}

// TestDockerfileBuildsStaticBinaries runs the Dockerfile's go build (same
// flags and environment, output to a temporary directory) and checks both
// binaries are statically linked, stripped and free of build paths, as
// distroless/static needs.
func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	d := parseDockerfile(t)
	words := d.goBuild(t)
	out := t.TempDir()
	args := slices.Clone(words[1:])
	i := slices.Index(args, "-o")
	args[i+1] = out + string(filepath.Separator)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	root := repoRoot(t)
	cmd.Dir = root
	env := []string{"GOOS=linux", "GOARCH=" + runtime.GOARCH}
	for k, v := range d.env["build"] {
		if k == "GOOS" || k == "GOARCH" {
			continue // set from TARGETOS/TARGETARCH; here: this machine
		}
		env = append(env, k+"="+v)
	}
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	t.Logf("built with: %s go %q", strings.Join(env, " "), args)

	for _, name := range []string{"controller", "speaker"} {
		path := filepath.Join(out, name)
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s has a %v program header: dynamically linked", name, p.Type)
			}
		}
		if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v (%v)", name, libs, err)
		}
		for _, s := range f.Sections {
			if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
				t.Errorf("%s has section %s: not stripped (-s -w)", name, s.Name)
			}
		}
		f.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(root+"/")) {
			t.Errorf("%s contains the build directory %s: not built with -trimpath", name, root)
		}
		fi, _ := os.Stat(path)
		t.Logf("%s: %d bytes, static", name, fi.Size())
	}
}

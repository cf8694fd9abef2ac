package main

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var (
	// inlineLink matches [text](target) and ![alt](target), with an
	// optional title; the text may hold one level of brackets.
	inlineLink = regexp.MustCompile(`!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^()\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// refDef matches a reference definition: [id]: target.
	refDef   = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s+<?([^\s>]+)>?`)
	htmlLink = regexp.MustCompile(`(?i)<(?:a|img)\s[^>]*(?:href|src)="([^"]+)"`)
	htmlID   = regexp.MustCompile(`(?i)<a\s[^>]*(?:id|name)="([^"]+)"`)
	heading  = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	scheme   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// outsideFences returns the lines of a Markdown text with those of fenced
// code blocks (fences included) emptied, so that indexes stay line numbers.
func outsideFences(text string) []string {
	lines := strings.Split(text, "\n")
	fence := ""
	for i, line := range lines {
		trim := strings.TrimLeft(line, " ")
		switch {
		case fence != "":
			if strings.HasPrefix(trim, fence) {
				fence = ""
			}
		case strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~"):
			fence = trim[:3]
		default:
			continue
		}
		lines[i] = ""
	}
	return lines
}

// mdLines returns the lines of a Markdown file (index i is line i+1) with
// fenced code blocks emptied and inline code spans blanked out, so that
// examples are not taken for links or headings.
func mdLines(text string) []string {
	lines := outsideFences(text)
	for i, line := range lines {
		lines[i] = blankCode(line)
	}
	return lines
}

// blankCode replaces inline code spans (any backtick fence length) with
// spaces.
func blankCode(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		end := strings.Index(line[i+n:], fence)
		if end < 0 {
			b.WriteString(line[i:])
			break
		}
		b.WriteString(strings.Repeat(" ", n+end+n))
		i += n + end + n
	}
	return b.String()
}

// slug is GitHub's anchor for a heading: lower case, punctuation other
// than '-' and '_' removed, spaces turned into '-'.
func slug(text string) string {
	text = mdLink.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// anchors lists the fragment targets of a Markdown file: heading slugs
// (duplicates numbered as GitHub does) and explicit HTML ids.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range outsideFences(text) {
		if m := heading.FindStringSubmatch(line); m != nil {
			s := slug(m[2])
			if n := seen[s]; n > 0 {
				out[fmt.Sprintf("%s-%d", s, n)] = true
			} else {
				out[s] = true
			}
			seen[s]++
		}
		for _, m := range htmlID.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
	}
	return out
}

// checkLinks checks every relative link of the Markdown files under
// docsDir: the target must exist inside root and, for a fragment into a
// Markdown file, name a heading or an id there. It returns the problems
// and the number of links checked.
func checkLinks(root, docsDir string) ([]string, int, error) {
	var problems []string
	checked := 0
	cache := map[string]map[string]bool{}
	anchorsOf := func(path string) (map[string]bool, error) {
		if a, ok := cache[path]; ok {
			return a, nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		cache[path] = anchors(string(data))
		return cache[path], nil
	}
	err := filepath.WalkDir(docsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for i, line := range mdLines(string(data)) {
			var targets []string
			for _, re := range []*regexp.Regexp{inlineLink, refDef, htmlLink} {
				for _, m := range re.FindAllStringSubmatch(line, -1) {
					targets = append(targets, m[1])
				}
			}
			for _, target := range targets {
				if scheme.MatchString(target) {
					continue
				}
				checked++
				where := fmt.Sprintf("%s:%d: %s", rel, i+1, target)
				pathPart, frag, _ := strings.Cut(target, "#")
				dest := path
				if pathPart != "" {
					p, err := url.PathUnescape(pathPart)
					if err != nil {
						problems = append(problems, where+": bad escape")
						continue
					}
					dest = filepath.Join(filepath.Dir(path), filepath.FromSlash(p))
					if r, err := filepath.Rel(root, dest); err != nil || strings.HasPrefix(r, "..") {
						problems = append(problems, where+": points outside the repository")
						continue
					}
					if _, err := os.Stat(dest); err != nil {
						problems = append(problems, where+": no such file")
						continue
					}
				}
				if frag != "" && strings.HasSuffix(dest, ".md") {
					a, err := anchorsOf(dest)
					if err != nil {
						return err
					}
					if !a[frag] {
						problems = append(problems, where+": no heading or id #"+frag)
					}
				}
			}
		}
		return nil
	})
	return problems, checked, err
}

// TestDocsLinks checks the relative links of every page under docs/.
func TestDocsLinks(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	docs := filepath.Join(root, "docs")
	for _, page := range []string{
		"README.md", "concepts.md", "installation.md", "configuration.md", "troubleshooting.md",
		"migration.md", "metrics.md", "cli.md", "reference/README.md", "reference/flags.md",
	} {
		if _, err := os.Stat(filepath.Join(docs, page)); err != nil {
			t.Errorf("docs/%s is missing", page)
		}
	}
	problems, checked, err := checkLinks(root, docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	// The pages link to each other and to the reference: far more than
	// this many links means the extraction works at all.
	if checked < 40 {
		t.Errorf("only %d relative links found under docs/: link extraction is broken", checked)
	}
}

// TestCheckLinksFindsBrokenLinks runs the checker on a small tree with
// known good and bad links.
func TestCheckLinksFindsBrokenLinks(t *testing.T) {
	root := t.TempDir()
	docs := filepath.Join(root, "docs")
	if err := os.MkdirAll(filepath.Join(docs, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"docs/a.md": "# Page A\n\n## Set-up `x` [now](sub/b.md)\n\n## Set-up `x` [now](sub/b.md)\n\n" +
			"Good: [b](sub/b.md), [b sec](sub/b.md#second-part), [self](#page-a), [dup](#set-up-x-now-1), " +
			"[dir](sub), [go.mod](../go.mod), [web](https://example.com/x), [id](sub/b.md#custom), [spaces](sub/with%20space.md).\n\n" +
			"Bad: [missing](nope.md), [anchor](sub/b.md#nope), [out](../../etc/passwd), [self](#nothing).\n\n" +
			"Ignored: `[code](nope1.md)` and\n\n```\n[fenced](nope2.md)\n```\n\n" +
			"[ref]: missing-ref.md\n" +
			`<a href="missing-html.md">x</a>` + "\n",
		"docs/sub/b.md":          "# B\n\n## Second part\n\n<a id=\"custom\"></a>\n",
		"docs/sub/with space.md": "x\n",
		"go.mod":                 "module x\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	problems, checked, err := checkLinks(root, docs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"nope.md: no such file",
		"sub/b.md#nope: no heading or id #nope",
		"../../etc/passwd: points outside the repository",
		"#nothing: no heading or id #nothing",
		"missing-ref.md: no such file",
		"missing-html.md: no such file",
	}
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(problems), len(want), strings.Join(problems, "\n"))
	}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.HasSuffix(p, w)
		}
		if !found {
			t.Errorf("missing problem %q in:\n%s", w, strings.Join(problems, "\n"))
		}
	}
	for _, p := range problems {
		if strings.Contains(p, "nope1") || strings.Contains(p, "nope2") {
			t.Errorf("a link in code was checked: %s", p)
		}
	}
	// 2 in headings, 8 good ones (the https link is not counted), 4 bad,
	// the reference definition and the HTML link.
	if checked != 16 {
		t.Errorf("checked %d links, want 16", checked)
	}
}

package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the repository's top folder, seen from this package.
const repoRoot = ".."

// markdownFiles are the repository's Markdown files, as paths relative to
// the root, testdata left out.
func markdownFiles(t *testing.T) []string {
	return filesWith(t, ".md")
}

// filesWith walks the repository for files with the extension ext.
func filesWith(t *testing.T, ext string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "bin", "runs", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ext) {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the repository: %v", err)
	}
	return out
}

// prose splits Markdown into lines and tells, for each, whether it lies in
// a fenced code block (where a "#" starts a shell comment, not a heading).
func prose(text string) (lines []string, inCode []bool) {
	lines = strings.Split(text, "\n")
	inCode = make([]bool, len(lines))
	fenced := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			inCode[i] = true
			fenced = !fenced
			continue
		}
		inCode[i] = fenced
	}
	return lines, inCode
}

var headingRE = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)

// headings returns the ATX headings of a Markdown text, outside code, as
// "## text" with the text trimmed, each with its line number.
func headings(text string) (hs []string, lineNo []int) {
	lines, inCode := prose(text)
	for i, l := range lines {
		if inCode[i] {
			continue
		}
		if m := headingRE.FindStringSubmatch(l); m != nil {
			hs = append(hs, m[1]+" "+m[2])
			lineNo = append(lineNo, i+1)
		}
	}
	return hs, lineNo
}

// duplicateHeadings reports a heading whose text repeats at the same level
// in one file: two "## Systems" sections are one too many.
func duplicateHeadings(name, text string) []string {
	var out []string
	seen := map[string]int{}
	hs, lineNo := headings(text)
	for i, h := range hs {
		if first, ok := seen[h]; ok {
			out = append(out, fmt.Sprintf("%s:%d: heading %q repeats the one on line %d", name, lineNo[i], h, first))
			continue
		}
		seen[h] = lineNo[i]
	}
	return out
}

var (
	// placeholderRE is a token of capitals and underscores (at least one
	// underscore, so "RTO" or "HTTP" alone in a cell is not one), like
	// ETCD_TABLE.
	placeholderRE = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$`)
	todoRE        = regexp.MustCompile(`\b(TODO|TBD|XXX)\b`)
)

// placeholders reports a placeholder token standing alone on a line or
// alone in a table cell, and the words TODO, TBD and XXX anywhere.
func placeholders(name, text string) []string {
	var out []string
	lines, _ := prose(text)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		cells := []string{t}
		if strings.HasPrefix(t, "|") {
			cells = strings.Split(strings.Trim(t, "|"), "|")
		}
		for _, c := range cells {
			if c = strings.TrimSpace(c); placeholderRE.MatchString(c) {
				out = append(out, fmt.Sprintf("%s:%d: placeholder %s", name, i+1, c))
			}
		}
		if m := todoRE.FindString(l); m != "" {
			out = append(out, fmt.Sprintf("%s:%d: %s", name, i+1, m))
		}
	}
	return out
}

var (
	linkRE   = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	// designRE finds a mention of a design document, linked or not: a
	// DESIGN.md or CONTRACTS.md, or any Markdown file under docs/, with the
	// path written before it.
	designRE = regexp.MustCompile(`[\w./-]*(?:(?:DESIGN|CONTRACTS)\.md|docs/[\w./-]*\.md)`)
	codeRE   = regexp.MustCompile("`[^`]*`")
	// linkTextRE is a whole Markdown link, its target captured.
	linkTextRE = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
)

// anchor is GitHub's id for a heading: lower case, punctuation dropped,
// spaces turned into dashes.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the ids of a Markdown file's headings.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	hs, _ := headings(text)
	for _, h := range hs {
		_, txt, _ := strings.Cut(h, " ")
		out[anchor(txt)] = true
	}
	return out
}

// resolver tells whether a path named in one file exists inside the
// repository. read returns a repository file's text (nil when absent).
type resolver struct {
	root string
	read func(rel string) ([]byte, bool)
}

// resolve finds target, as written in file from, inside the repository:
// relative to from's folder, or else to the root. It returns the path from
// the root and false when neither exists or the path leaves the repository.
func (r resolver) resolve(from, target string) (string, bool) {
	if filepath.IsAbs(target) {
		return target, false
	}
	for _, base := range []string{filepath.Dir(from), "."} {
		p := filepath.ToSlash(filepath.Clean(filepath.Join(base, target)))
		if p == ".." || strings.HasPrefix(p, "../") {
			continue
		}
		if _, ok := r.read(p); ok {
			return p, true
		}
	}
	return filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(from), target))), false
}

// badLinks reports a relative Markdown link whose file or heading does not
// exist, in the Markdown file name.
func (r resolver) badLinks(name, text string) []string {
	var out []string
	lines, inCode := prose(text)
	for i, l := range lines {
		if inCode[i] {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(codeRE.ReplaceAllString(l, ""), -1) {
			target := m[1]
			if schemeRE.MatchString(target) {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path, body := name, []byte(text)
			if file != "" {
				p, ok := r.resolve(name, file)
				if !ok {
					out = append(out, fmt.Sprintf("%s:%d: link to %s: no such file in the repository", name, i+1, target))
					continue
				}
				path = p
				body, _ = r.read(p)
			}
			if frag != "" && strings.HasSuffix(path, ".md") && !anchors(string(body))[frag] {
				out = append(out, fmt.Sprintf("%s:%d: link to %s: %s has no heading #%s", name, i+1, target, path, frag))
			}
		}
	}
	return out
}

// badMentions reports a design document named in a file (Markdown or Go,
// linked or in prose) that does not resolve inside the repository.
func (r resolver) badMentions(name, text string) []string {
	var out []string
	for i, l := range strings.Split(text, "\n") {
		// A link's text names its target ("[CONTRACTS.md](../CONTRACTS.md)"):
		// only the target, which says where the file is, is judged.
		l = linkTextRE.ReplaceAllString(l, "($1)")
		for _, m := range designRE.FindAllString(l, -1) {
			if _, ok := r.resolve(name, m); ok {
				continue
			}
			out = append(out, fmt.Sprintf("%s:%d: %s does not resolve to a file in the repository", name, i+1, m))
		}
	}
	return out
}

// repoResolver reads files from the checkout.
func repoResolver() resolver {
	return resolver{root: repoRoot, read: func(rel string) ([]byte, bool) {
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
		return b, err == nil
	}}
}

func readRepo(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// TestMarkdownHasNoDuplicateHeadingOrPlaceholder checks every Markdown file
// of the repository: no heading twice at one level, no unfilled placeholder.
func TestMarkdownHasNoDuplicateHeadingOrPlaceholder(t *testing.T) {
	files := markdownFiles(t)
	if !slices.Contains(files, "README.md") || !slices.Contains(files, "docs/DESIGN.md") {
		t.Fatalf("the walk missed README.md or docs/DESIGN.md: %v", files)
	}
	for _, f := range files {
		text := readRepo(t, f)
		for _, p := range append(duplicateHeadings(f, text), placeholders(f, text)...) {
			t.Error(p)
		}
	}
}

// TestLinksAndDesignReferencesResolve checks that every relative link in the
// Markdown files, and every design document named in Markdown or Go, is a
// file inside the repository (and a linked heading exists).
func TestLinksAndDesignReferencesResolve(t *testing.T) {
	r := repoResolver()
	for _, f := range markdownFiles(t) {
		text := readRepo(t, f)
		for _, p := range append(r.badLinks(f, text), r.badMentions(f, text)...) {
			t.Error(p)
		}
	}
	for _, f := range filesWith(t, ".go") {
		if f == "docs/docs_test.go" {
			continue // names the patterns it looks for
		}
		for _, p := range r.badMentions(f, readRepo(t, f)) {
			t.Error(p)
		}
	}
}

// TestCheckersCatchPlantedProblems shows each check failing on a planted
// case and passing on its corrected form, so a check that can never fail
// cannot pass for one that works.
func TestCheckersCatchPlantedProblems(t *testing.T) {
	files := map[string]string{
		"README.md":            "# T\n\n## Systems\n\n### etcd\n",
		"docs/DESIGN.md":       "# Design\n\n## Floors\n",
		"docs/systems/etcd.md": "# etcd\n",
	}
	r := resolver{root: ".", read: func(rel string) ([]byte, bool) {
		s, ok := files[rel]
		return []byte(s), ok
	}}
	cases := []struct {
		name, file, text string
		check            func(name, text string) []string
		want             int
	}{
		{"duplicate heading", "README.md", "## Systems\n\ntext\n\n## Systems\n", duplicateHeadings, 1},
		{"same text at another level", "README.md", "## Systems\n\n### Systems\n", duplicateHeadings, 0},
		{"hash in a code block", "README.md", "## Set-up\n\n```sh\n## Set-up\n```\n", duplicateHeadings, 0},
		{"placeholder alone on a line", "README.md", "hadrill's drills agree:\n\nETCD_TABLE\n", placeholders, 1},
		{"placeholder alone in a cell", "README.md", "| etcd | 3.4.23 | ETCD_RTO |\n", placeholders, 1},
		{"capitals without underscore", "README.md", "| RTO | RPO |\n\nHTTP\n", placeholders, 0},
		{"constant in a sentence", "README.md", "set HADRILL_KEEP_FAILED to keep them\n", placeholders, 0},
		{"TODO, TBD, XXX", "docs/DESIGN.md", "TODO: write\nfigures TBD\nXXX\n", placeholders, 3},
		{"link to a missing file", "README.md", "see [faults](docs/nothing.md)\n", r.badLinks, 1},
		{"link to a missing heading", "README.md", "see [floors](docs/DESIGN.md#layout)\n", r.badLinks, 1},
		{"link to a page and heading", "README.md", "## Systems\n\nsee [floors](docs/DESIGN.md#floors) and [x](#systems)\n", r.badLinks, 0},
		{"relative link from docs/", "docs/systems/etcd.md", "[design](../DESIGN.md#floors)\n", r.badLinks, 0},
		{"link outside the repository", "docs/DESIGN.md", "[shared](../../shared/DESIGN.md)\n", r.badLinks, 1},
		{"web link", "README.md", "[porcupine](https://github.com/anishathalye/porcupine)\n", r.badLinks, 0},
		{"design outside the repository", "docs/CONTRACTS.md", "Read ../shared/DESIGN.md first\n", r.badMentions, 1},
		{"absolute design path", "docs/CONTRACTS.md", "beside the checkout at /work/shared/DESIGN.md\n", r.badMentions, 1},
		{"bare DESIGN.md from a Go file", "cmd/hadrill/exit.go", "// Exit codes of the CLI contract (DESIGN.md).\n", r.badMentions, 1},
		{"docs/DESIGN.md from a Go file", "cmd/hadrill/exit.go", "// Exit codes of the CLI contract (docs/DESIGN.md).\n", r.badMentions, 0},
		{"missing docs page", "cmd/hadrill/exit.go", "// see docs/exit-codes.md\n", r.badMentions, 1},
		{"link text naming its target", "docs/systems/etcd.md", "see [DESIGN.md](../DESIGN.md#floors)\n", r.badMentions, 0},
		{"link text with a bad target", "docs/systems/etcd.md", "see [DESIGN.md](DESIGN.md)\n", r.badMentions, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.check(c.file, c.text)
			if len(got) != c.want {
				t.Errorf("got %d problems, want %d: %q", len(got), c.want, got)
			}
		})
	}
}

package docs

import (
	"bufio"
	"bytes"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// module is the import path every project package starts with.
const module = "github.com/hadrill/hadrill/"

// floorOf gives a package (its path inside the module) the floor that
// DESIGN.md's "Floors" section draws: 1 is the top (the CLI), 6 the bottom
// (the Docker backend and the leaves). The longest matching prefix wins.
func floorOf(pkg string) int {
	floors := []struct {
		prefix string
		floor  int
	}{
		{"cmd/", 1},
		{"drill", 2},
		{"scenarios", 3},
		{"systems/hakv/store", 6},
		{"systems", 4},
		{"results", 4},
		{"faults/kind", 6},
		{"faults", 5},
		{"workload", 5},
		{"checker", 5},
		{"cluster", 6},
		{"history", 6},
		{"internal/", 6},
	}
	best, floor := -1, 0
	for _, f := range floors {
		if (pkg == f.prefix || strings.HasPrefix(pkg, strings.TrimSuffix(f.prefix, "/")+"/") ||
			strings.HasSuffix(f.prefix, "/") && strings.HasPrefix(pkg, f.prefix)) && len(f.prefix) > best {
			best, floor = len(f.prefix), f.floor
		}
	}
	return floor
}

// projectPackages maps each package of the module (its path inside the
// module) to its non-test imports of the module and its non-test files.
func projectPackages(t *testing.T) map[string]*build.Package {
	t.Helper()
	out := map[string]*build.Package{}
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != repoRoot {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			return nil
		}
		p, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here, or only tests
		}
		rel, _ := filepath.Rel(repoRoot, path)
		if rel == "docs" {
			return nil // this package: documentation and its tests, no code
		}
		out[filepath.ToSlash(rel)] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("found %d packages under %s: is the walk broken?", len(out), repoRoot)
	}
	return out
}

// TestFloors holds the code to DESIGN.md's floors: every project import
// points to the same floor or one below, never up, and the "Never" rules
// hold.
func TestFloors(t *testing.T) {
	pkgs := projectPackages(t)
	for name, p := range pkgs {
		from := floorOf(name)
		if from == 0 {
			t.Errorf("%s has no floor in DESIGN.md (add it to the Floors section and to floorOf)", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if to := floorOf(dep); to < from {
				t.Errorf("%s (floor %d) imports %s (floor %d): an import points up", name, from, dep, to)
			}
			for _, rule := range neverRules {
				if rule.from(name) && rule.to(dep) {
					t.Errorf("%s imports %s: never %s", name, dep, rule.why)
				}
			}
		}
	}
}

// under matches a package and everything below it.
func under(prefixes ...string) func(string) bool {
	return func(pkg string) bool {
		for _, p := range prefixes {
			if pkg == p || strings.HasPrefix(pkg, p+"/") {
				return true
			}
		}
		return false
	}
}

// neverRules are DESIGN.md's "Never" list.
var neverRules = []struct {
	from, to func(string) bool
	why      string
}{
	{under("checker"), under("cluster", "faults", "systems"), "checker → cluster, faults or systems"},
	{under("cluster", "faults", "workload"), under("systems"), "cluster, faults, workload → a system or the registry"},
	{under("systems/hakv/store"), func(string) bool { return true }, "the reference store → the harness"},
	{func(p string) bool { return !strings.HasPrefix(p, "cmd/") }, under("drill"), "anything but cmd/ → drill"},
	{under("history"), func(string) bool { return true }, "history → the project (it is the leaf)"},
	{under("faults/kind"), func(string) bool { return true }, "faults/kind → the project (it is a leaf)"},
}

// TestSizes keeps files and packages readable: no non-test Go file over
// 500 lines, no package over 2,500 lines of non-test code, except the node
// agent (one binary's many fault appliers).
func TestSizes(t *testing.T) {
	pkgs := projectPackages(t)
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		p := pkgs[name]
		total := 0
		for _, f := range p.GoFiles {
			n := countLines(t, filepath.Join(p.Dir, f))
			total += n
			if n > 500 {
				t.Errorf("%s/%s has %d lines, over 500", name, f, n)
			}
		}
		if total > 2500 && name != "faults/agent" {
			t.Errorf("%s has %d lines of non-test code, over 2,500", name, total)
		}
	}
}

func countLines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for s := bufio.NewScanner(bytes.NewReader(b)); s.Scan(); {
		n++
	}
	return n
}

// TestFloorRulesCanFail plants an upward import and a rule breach, so
// that TestFloors is known to catch them.
func TestFloorRulesCanFail(t *testing.T) {
	if floorOf("checker") <= floorOf("results") {
		t.Fatal("checker must sit below results")
	}
	if to, from := floorOf("drill"), floorOf("faults"); to >= from {
		t.Errorf("faults → drill is not seen as upward (floors %d → %d)", from, to)
	}
	caught := false
	for _, rule := range neverRules {
		if rule.from("checker") && rule.to("cluster/engine") {
			caught = true
		}
	}
	if !caught {
		t.Error("checker → cluster/engine breaks no rule")
	}
	if floorOf("systems/hakv/store") != 6 || floorOf("systems/etcd") != 4 || floorOf("cmd/hadrill") != 1 {
		t.Error("floorOf gets the longest prefix wrong")
	}
}

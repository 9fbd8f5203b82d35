package testsupport

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Engines starts two Docker engines of the test's own, each in a network
// namespace of its own (scripts/engines.sh), and removes them when the test
// ends, so that Swarm changes never touch the main engine. Their names (and
// docker contexts) are prefix, a random hex id, and a or b: the prefix says
// which tests made them. Without root or dockerd the test skips, or fails
// under CI=true. The caller checks the main engine first.
func Engines(tb testing.TB, prefix string) []string {
	tb.Helper()
	NeedRoot(tb, "the engine test bed (network namespaces)")
	NeedTool(tb, "dockerd")
	script := filepath.Join(moduleRoot(tb), "scripts", "engines.sh")
	var b [3]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	names := []string{prefix + id + "a", prefix + id + "b"}
	tb.Cleanup(func() {
		if out, err := exec.Command(script, append([]string{"down"}, names...)...).CombinedOutput(); err != nil {
			tb.Errorf("engines down: %v: %s", err, out)
		}
	})
	if out, err := exec.Command(script, append([]string{"up"}, names...)...).CombinedOutput(); err != nil {
		tb.Fatalf("engines up: %v: %s", err, out)
	}
	return names
}

// moduleRoot is the folder holding go.mod above the test's working
// directory (its package's folder), wherever in the tree the test is.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			tb.Fatalf("no go.mod above %s", dir)
		}
	}
}

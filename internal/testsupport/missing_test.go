package testsupport

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// stopTB records whether a helper skipped or failed the test, and stops
// its goroutine as testing.T does.
type stopTB struct {
	testing.TB
	skipped, failed string
}

func (s *stopTB) Helper() {}

func (s *stopTB) Skipf(format string, args ...any) {
	s.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (s *stopTB) Fatalf(format string, args ...any) {
	s.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs f on its own goroutine, as a test body, and waits for it.
func call(tb *stopTB, f func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
}

// TestMissingSkipsOnALaptopAndFailsUnderCI checks the CI rule: the same
// lack skips without CI=true and fails with it, saying what is missing.
func TestMissingSkipsOnALaptopAndFailsUnderCI(t *testing.T) {
	for _, ci := range []string{"", "false", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			tb := &stopTB{TB: t}
			call(tb, func(tb testing.TB) { Missing(tb, "no %s in PATH", "nsenter") })
			got, other := tb.skipped, tb.failed
			if ci == "true" {
				got, other = tb.failed, tb.skipped
			}
			if !strings.Contains(got, "no nsenter in PATH") || other != "" {
				t.Errorf("skipped %q, failed %q: want only a %s naming the lack", tb.skipped, tb.failed,
					map[bool]string{true: "failure", false: "skip"}[ci == "true"])
			}
		})
	}
}

// TestNeedToolPassesWhenPresent checks that a tool in PATH neither skips
// nor fails the test, under CI=true or not.
func TestNeedToolPassesWhenPresent(t *testing.T) {
	t.Setenv("CI", "true")
	tb := &stopTB{TB: t}
	call(tb, func(tb testing.TB) { NeedTool(tb, "go") })
	if tb.skipped != "" || tb.failed != "" {
		t.Errorf("skipped %q, failed %q: go is in PATH", tb.skipped, tb.failed)
	}
}

// TestRunIDNamesTheTest checks that a run ID carries the test's name
// (subtests included), in lower case with no slash.
func TestRunIDNamesTheTest(t *testing.T) {
	t.Run("Sub Test", func(t *testing.T) {
		id := RunID(t)
		if !strings.HasPrefix(id, "test-testrunidnamesthetest-sub_test-") || strings.ContainsAny(id, "/ ") {
			t.Errorf("run ID %q does not name the test", id)
		}
	})
}

// TestModuleRootHoldsTheEnginesScript checks that the engine test bed
// finds scripts/engines.sh from a package's folder.
func TestModuleRootHoldsTheEnginesScript(t *testing.T) {
	if _, err := os.Stat(filepath.Join(moduleRoot(t), "scripts", "engines.sh")); err != nil {
		t.Fatal(err)
	}
}

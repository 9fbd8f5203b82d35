package testsupport

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Missing skips the test because of what it lacks (an engine, a tool, a
// privilege), except under CI=true, where the lack is a failure: CI must
// not pass by skipping what it was meant to run.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	what := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true and %s", what)
	}
	tb.Skipf("skip: %s", what)
}

// NeedTool applies the CI rule to a program the test runs: without name
// in PATH the test skips, or fails under CI=true.
func NeedTool(tb testing.TB, name string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		Missing(tb, "no %s in PATH", name)
	}
}

// NeedRoot applies the CI rule to root: what names what needs it (network
// namespaces, FUSE, debootstrap), so the skip says why.
func NeedRoot(tb testing.TB, what string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		Missing(tb, "%s needs root", what)
	}
}

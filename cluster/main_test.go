package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// hakvBinary is the static hakv binary TestMain built from ./cmd/hakv, and
// hakvErr why there is none.
var (
	hakvBinary string
	hakvErr    error
)

// TestMain builds hakv once for every Docker test, the way CI will: a static
// binary from this module's ./cmd/hakv.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hadrill-cluster-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir:", err)
		os.Exit(2)
	}
	hakvBinary, hakvErr = buildTestHAKV(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildTestHAKV compiles ../cmd/hakv with the flags HAKV.SourceDir uses, so
// both ways of getting the binary give the same bytes.
func buildTestHAKV(dir string) (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "hakv")); err != nil {
		return "", fmt.Errorf("./cmd/hakv is not in the tree: %w", err)
	}
	out := filepath.Join(dir, "hakv")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", out, "./cmd/hakv")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hakv: %w: %s", err, msg)
	}
	return out, nil
}

// needDocker skips a test that needs a Docker engine and the hakv binary
// when either is missing, except under CI=true, where that is a failure.
func needDocker(tb testing.TB) {
	tb.Helper()
	testsupport.NeedDocker(tb)
	if hakvErr != nil {
		testsupport.Missing(tb, "no hakv binary: %v", hakvErr)
	}
}

// hakvSpec is a fast-failover hakv cluster of three nodes.
func hakvSpec(tb testing.TB) Spec {
	return Spec{
		RunID:        testsupport.RunID(tb),
		System:       testHakv{Binary: hakvBinary, Args: fastFailover},
		Nodes:        3,
		LogDir:       tb.TempDir(),
		StartTimeout: 30 * time.Second,
	}
}

// startCluster starts spec and registers its Teardown, failing the test
// (after tearing down) if Start fails.
func startCluster(tb testing.TB, spec Spec) *Cluster {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, spec)
	tb.Cleanup(func() {
		if err := c.Teardown(context.Background()); err != nil {
			tb.Errorf("teardown: %v", err)
		}
	})
	if err != nil {
		tb.Fatalf("start: %v", err)
	}
	return c
}

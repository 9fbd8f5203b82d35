package cluster

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/cluster/cleanup"
	"github.com/hadrill/hadrill/cluster/engine"
)

// TestNoEngineIsErrNoDocker runs this test again in a mount namespace where
// /var/run is an empty tmpfs, so no engine can be found, and expects
// engine.Available, Start and cleanup.Sweep to fail with engine.ErrNoDocker
// (exit code 3 in the CLI) and a message naming the socket, and Teardown of
// that Cluster to be a no-op. It skips where unshare is not permitted.
func TestNoEngineIsErrNoDocker(t *testing.T) {
	if os.Getenv("HADRILL_TEST_NO_ENGINE") == "1" {
		assertNoEngine(t)
		return
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skip: no unshare to hide the engine")
	}
	script := `mount -t tmpfs none /var/run && exec "$0" -test.run '^TestNoEngineIsErrNoDocker$' -test.v`
	cmd := exec.Command("unshare", "-m", "sh", "-c", script, os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_HOST=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HADRILL_TEST_NO_ENGINE=1")
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "unshare failed") {
		t.Skipf("skip: cannot make a mount namespace here: %s", strings.TrimSpace(string(out)))
	}
	t.Logf("without an engine:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoEngineIsErrNoDocker") {
		t.Fatalf("child test: %v", err)
	}
}

func assertNoEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := engine.Available(ctx)
	t.Logf("Available: %v", err)
	if !errors.Is(err, engine.ErrNoDocker) || !strings.HasPrefix(err.Error(), "no Docker engine reachable at unix:///var/run/docker.sock (default socket): ") {
		t.Errorf("Available = %v, want engine.ErrNoDocker naming the socket", err)
	}
	c, err := Start(ctx, Spec{System: testHakv{Binary: hakvBinary, Args: fastFailover}, Nodes: 1})
	if !errors.Is(err, engine.ErrNoDocker) {
		t.Errorf("Start = %v, want engine.ErrNoDocker", err)
	}
	if err := c.Teardown(ctx); err != nil {
		t.Errorf("Teardown after Start found no engine: %v", err)
	}
	if _, err := cleanup.Sweep(ctx, cleanup.Options{}); !errors.Is(err, engine.ErrNoDocker) {
		t.Errorf("cleanup.Sweep = %v, want engine.ErrNoDocker", err)
	}
}

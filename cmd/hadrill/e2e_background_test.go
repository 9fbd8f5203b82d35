package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"

	"github.com/hadrill/hadrill/cluster/label"
)

// backgroundRun is hadrill running while a test watches the cluster from
// outside (docker stats, the node agent).
type backgroundRun struct {
	cmd  *exec.Cmd
	out  testsupport.Buffer
	done chan struct{}
}

// startHadrill starts hadrill with args in the background.
func startHadrill(ctx context.Context, t *testing.T, args ...string) *backgroundRun {
	t.Helper()
	keepResultsOnFailure(t, args)
	r := &backgroundRun{done: make(chan struct{})}
	r.cmd = exec.CommandContext(ctx, filepath.Join(binDir, "hadrill"), args...)
	r.cmd.Env = append(os.Environ(), "TESTCONTAINERS_RYUK_DISABLED=true")
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	return r
}

// own are docker filter arguments that match only this run's containers:
// other drills may share the engine. Every container records the host and
// pid of the hadrill process that made it.
func (r *backgroundRun) own() []string {
	host, _ := os.Hostname()
	return []string{
		"--filter", fmt.Sprintf("label=%s=%d", label.OwnerPID, r.cmd.Process.Pid),
		"--filter", fmt.Sprintf("label=%s=%s", label.OwnerHost, host),
	}
}

// sample calls fn every interval until the run ends, then returns the
// run's exit code.
func (r *backgroundRun) sample(every time.Duration, fn func()) int {
	for {
		select {
		case <-r.done:
			return r.cmd.ProcessState.ExitCode()
		case <-time.After(every):
			fn()
		}
	}
}

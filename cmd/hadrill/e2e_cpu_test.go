package main

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestCPUBurnShowsInContainerCPU proves the cpu fault by its effect as
// Docker sees it: while the run burns node n1's CPUs, `docker stats` shows
// n1's container far busier than its peers.
func TestCPUBurnShowsInContainerCPU(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := t.TempDir()
	run := startHadrill(ctx, t, "run", "testdata/cpu-burn.yaml", "--results", root)
	peak := map[string]float64{} // node -> highest CPU % seen
	code := run.sample(100*time.Millisecond, func() {
		for node, pct := range containerCPU(ctx, run.own()) {
			peak[node] = max(peak[node], pct)
		}
	})
	if code != exitOK {
		t.Fatalf("cpu-burn exit %d:\n%s", code, run.out.String())
	}
	t.Logf("peak CPU %% by node: %v", peak)
	others := max(peak["n2"], peak["n3"])
	// Relative to its peers, measured over the same window on the same
	// machine: a busy machine lowers every figure alike, so no absolute floor.
	if peak["n1"] <= 0 || peak["n1"] < 3*others {
		t.Fatalf("peak CPU: n1 %.0f%%, others %.0f%%: want n1 busy and at least 3 times its peers", peak["n1"], others)
	}
	assertNothingLeft(t, root)
}

// containerCPU samples `docker stats` once for the run's containers and
// returns each node's CPU percentage (100 = one core).
func containerCPU(ctx context.Context, own []string) map[string]float64 {
	ids, err := exec.CommandContext(ctx, "docker", append([]string{"ps", "-q"}, own...)...).Output()
	if err != nil || len(bytes.TrimSpace(ids)) == 0 {
		time.Sleep(200 * time.Millisecond)
		return nil
	}
	args := append([]string{"stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}}"}, strings.Fields(string(ids))...)
	b, err := exec.CommandContext(ctx, "docker", args...).Output()
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		name := f[0][strings.LastIndex(f[0], "-")+1:] // hadrill-<run>-n1
		if pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64); err == nil {
			out[name] = pct
		}
	}
	return out
}

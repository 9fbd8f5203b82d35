package testsupport

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
)

// NeedDocker applies the CI rule to the Docker engine, reached the way
// hadrill reaches it (engine.Available): without one the test skips, or
// fails under CI=true.
func NeedDocker(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := engine.Available(ctx); err != nil {
		Missing(tb, "%v", err)
	}
}

// NeedDockerCLI applies the CI rule to the docker command and its engine,
// for tests that drive the engine through the CLI (docker exec, nsenter
// into a container's pid): `docker info` must succeed.
func NeedDockerCLI(tb testing.TB) {
	tb.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		Missing(tb, "no Docker engine (docker info): %v", err)
	}
}

// RunID makes a run ID that names the test, so that whatever the run
// leaves behind is traceable to it.
func RunID(tb testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(tb.Name())
	return fmt.Sprintf("test-%s-%d", strings.ToLower(name), time.Now().UnixNano()%1e6)
}

// Leftovers counts the containers (running or not) and networks on the
// engine labelled with runID, and with nothing else: other drills may
// share the engine.
func Leftovers(tb testing.TB, runID string) (containers, networks int) {
	tb.Helper()
	ctrs, nets := labelled(tb, runID)
	return len(ctrs), len(nets)
}

// AssertRunGone fails the test (without stopping it) when a container or
// network labelled with runID is still on the engine, naming them.
func AssertRunGone(tb testing.TB, runID string) {
	tb.Helper()
	ctrs, nets := labelled(tb, runID)
	if len(ctrs) > 0 {
		tb.Errorf("run %s left containers behind: %s", runID, strings.Join(ctrs, " "))
	}
	if len(nets) > 0 {
		tb.Errorf("run %s left networks behind: %s", runID, strings.Join(nets, " "))
	}
}

// labelled lists the IDs of the containers and networks labelled with
// runID, stopping the test when the engine cannot be asked.
func labelled(tb testing.TB, runID string) (containers, networks []string) {
	tb.Helper()
	ctx := context.Background()
	cli, err := engine.Connect(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", label.Run+"="+runID)
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		tb.Fatal(err)
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range ctrs.Items {
		containers = append(containers, c.ID)
	}
	for _, n := range nets.Items {
		networks = append(networks, n.ID)
	}
	return containers, networks
}

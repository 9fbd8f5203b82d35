// Package dockertest holds the helpers that the tests of the cluster
// packages share to run against the real Docker engine: skipping when there
// is none (failing under CI=true), naming a test's run, and counting what a
// run left behind.
package dockertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
)

// Need skips a test that needs a Docker engine when none is reachable.
func Need(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := engine.Available(ctx); err != nil {
		Missing(tb, err)
	}
}

// Missing skips the test because of what is missing, except under CI=true,
// where a missing engine or tool is a failure: CI must not pass by skipping.
func Missing(tb testing.TB, missing error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true and %v", missing)
	}
	tb.Skipf("skip: %v", missing)
}

// RunID makes a run ID that names the test, so leftovers are traceable.
func RunID(tb testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(tb.Name())
	return fmt.Sprintf("test-%s-%d", strings.ToLower(name), time.Now().UnixNano()%1e6)
}

// Leftovers counts the containers and networks labelled with the run ID.
func Leftovers(tb testing.TB, runID string) (containers, networks int) {
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
	return len(ctrs.Items), len(nets.Items)
}

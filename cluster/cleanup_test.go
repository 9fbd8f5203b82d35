package cluster

import (
	"context"
	"testing"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/cleanup"
	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/cluster/label"
	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestCleanupRemovesLeaks leaks a labelled container and network the way a
// crashed run would (created behind Cluster's back) and expects
// cleanup.Sweep, given the run, to remove exactly those and report them.
func TestCleanupRemovesLeaks(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	runID := testsupport.RunID(t)
	cli, err := engine.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	spec, err := testHakv{Binary: hakvBinary}.Image(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.EnsureOn(ctx, cli, spec)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{label.Run: runID, label.Node: "n1"}
	net, err := cli.NetworkCreate(ctx, "hadrill-"+runID, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.RemoveNetwork(ctx, cli, net.ID) })
	ctr, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:           containerConfig(img.Ref, labels, "--id", "n1", "--peers", "n1=n1:7000"),
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"hadrill-" + runID: {}}},
		Name:             "hadrill-" + runID + "-n1",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.RemoveContainer(ctx, cli, ctr.ID) })
	if _, err := cli.ContainerStart(ctx, ctr.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	removed, err := cleanup.Sweep(ctx, cleanup.Options{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	if removed.Containers != 1 || removed.Networks != 1 {
		t.Errorf("removed %+v, want 1 container and 1 network", removed)
	}
	if ctrs, nets := testsupport.Leftovers(t, runID); ctrs != 0 || nets != 0 {
		t.Errorf("after cleanup: %d containers, %d networks left", ctrs, nets)
	}
}

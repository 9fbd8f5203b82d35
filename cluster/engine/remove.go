package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// RemoveContainer force-removes a container. A paused container is thawed
// first: not every engine version removes a frozen one.
func RemoveContainer(ctx context.Context, cli client.APIClient, id string) error {
	opts := client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}
	_, err := cli.ContainerRemove(ctx, id, opts)
	if err == nil || errdefs.IsNotFound(err) {
		return nil
	}
	if _, uerr := cli.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{}); uerr != nil {
		return err
	}
	if _, err := cli.ContainerRemove(ctx, id, opts); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}

// RemoveNetwork removes a network, retrying while the engine still counts
// endpoints of containers that were just removed.
func RemoveNetwork(ctx context.Context, cli client.APIClient, name string) error {
	for attempt := 1; ; attempt++ {
		_, err := cli.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
		if err == nil || errdefs.IsNotFound(err) {
			return nil
		}
		if attempt == 10 {
			return fmt.Errorf("remove network %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("remove network %s: %w", name, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

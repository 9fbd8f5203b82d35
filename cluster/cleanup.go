package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Removed counts what Cleanup removed, for `hadrill cleanup` to report.
type Removed struct {
	Containers int
	Networks   int
	Images     int
}

// Cleanup removes what runs left behind when they could not tear down (a
// crash, a SIGKILL, a lost engine connection): every container and network
// labelled hadrill.run=runID, or labelled hadrill.run at all when runID is
// "". It also removes dangling images from hadrill builds (labelled
// hadrill.build, untagged because a newer build took their tag); the tagged
// images are the build cache and stay. Containers go before networks, which
// cannot be removed while in use.
func Cleanup(ctx context.Context, runID string) (Removed, error) {
	var r Removed
	cli, err := connect(ctx)
	if err != nil {
		return r, err
	}
	defer cli.Close()
	label := LabelRun
	if runID != "" {
		label += "=" + runID
	}
	var errs []error
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", label),
	})
	if err != nil {
		return r, fmt.Errorf("list leftover containers: %w", err)
	}
	for _, ctr := range ctrs.Items {
		if err := removeContainer(ctx, cli, ctr.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", ctr.ID[:12], err))
			continue
		}
		r.Containers++
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return r, errors.Join(append(errs, fmt.Errorf("list leftover networks: %w", err))...)
	}
	for _, nw := range nets.Items {
		if err := removeNetwork(ctx, cli, nw.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		r.Networks++
	}
	n, err := removeDanglingImages(ctx, cli)
	r.Images = n
	return r, errors.Join(append(errs, err)...)
}

// removeDanglingImages removes untagged images that hadrill built. An image
// still used by a container is kept (not forced), and that is not an error.
func removeDanglingImages(ctx context.Context, cli client.APIClient) (int, error) {
	imgs, err := cli.ImageList(ctx, client.ImageListOptions{
		Filters: make(client.Filters).Add("label", LabelBuild).Add("dangling", "true"),
	})
	if err != nil {
		return 0, fmt.Errorf("list dangling images: %w", err)
	}
	n := 0
	var errs []error
	for _, img := range imgs.Items {
		_, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{PruneChildren: true})
		switch {
		case err == nil:
			n++
		case errdefs.IsConflict(err) || errdefs.IsNotFound(err):
		default:
			errs = append(errs, fmt.Errorf("remove image %s: %w", img.ID, err))
		}
	}
	return n, errors.Join(errs...)
}

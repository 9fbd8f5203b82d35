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
	// Swarms counts the Swarms hadrill had created that CleanupEngines
	// dissolved.
	Swarms int
}

// Cleanup removes what runs left behind when they could not tear down (a
// crash, a SIGKILL, a lost engine connection): every container and network
// labelled hadrill.run=runID, or labelled hadrill.run at all when runID is
// "". It also removes dangling images from hadrill builds (labelled
// hadrill.build, untagged because a newer build took their tag); the tagged
// images are the build cache and stay. Containers go before networks, which
// cannot be removed while in use.
func Cleanup(ctx context.Context, runID string) (Removed, error) {
	cli, err := connect(ctx)
	if err != nil {
		return Removed{}, err
	}
	defer cli.Close()
	return cleanupOn(ctx, cli, runID)
}

// cleanupOn is Cleanup on one engine.
func cleanupOn(ctx context.Context, cli client.APIClient, runID string) (Removed, error) {
	n, err := cleanContainers(ctx, cli, runLabel(runID))
	if err != nil {
		return Removed{Containers: n}, err
	}
	r, err := cleanNetworks(ctx, cli, runLabel(runID), true)
	r.Containers = n
	return r, err
}

// runLabel is the label filter of one run, or of every run for "".
func runLabel(runID string) string {
	if runID == "" {
		return LabelRun
	}
	return LabelRun + "=" + runID
}

// cleanContainers removes the containers with the label.
func cleanContainers(ctx context.Context, cli client.APIClient, label string) (int, error) {
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", label),
	})
	if err != nil {
		return 0, fmt.Errorf("list leftover containers: %w", err)
	}
	n := 0
	var errs []error
	for _, ctr := range ctrs.Items {
		if err := removeContainer(ctx, cli, ctr.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", ctr.ID[:12], err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// cleanNetworks removes the networks with the label (Swarm-scoped ones only
// when the engine is a manager: a worker cannot), then dangling build
// images.
func cleanNetworks(ctx context.Context, cli client.APIClient, label string, manager bool) (Removed, error) {
	var r Removed
	var errs []error
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return r, fmt.Errorf("list leftover networks: %w", err)
	}
	for _, nw := range nets.Items {
		if nw.Scope == "swarm" && !manager {
			continue
		}
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

// CleanupEngines does what Cleanup does on each named engine (see
// Spec.Engines), and, when runID is "", also dissolves every Swarm that
// hadrill created (labelled hadrill.swarm) and a crashed run left behind:
// the listed engines that are its workers leave, then its manager. A Swarm
// hadrill found is never touched, but an engine a crashed run joined to it
// stays joined: `docker swarm leave` on that engine undoes it.
func CleanupEngines(ctx context.Context, runID string, names []string) (Removed, error) {
	var total Removed
	var errs []error
	var engines []*Engine
	defer func() {
		for _, e := range engines {
			e.Close()
		}
	}()
	for _, name := range names {
		e, err := openEngine(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		engines = append(engines, e)
	}
	// Every engine's containers go before any network: an overlay network
	// is in use while a container on any engine is attached to it.
	for _, e := range engines {
		n, err := cleanContainers(ctx, e.cli, runLabel(runID))
		total.Containers += n
		if err != nil {
			errs = append(errs, fmt.Errorf("clean up engine %s: %w", e.Name, err))
		}
	}
	for _, e := range engines {
		info, err := e.cli.Info(ctx, client.InfoOptions{})
		manager := err == nil && info.Info.Swarm.ControlAvailable
		r, err := cleanNetworks(ctx, e.cli, runLabel(runID), manager)
		total.Networks += r.Networks
		total.Images += r.Images
		if err != nil {
			errs = append(errs, fmt.Errorf("clean up engine %s: %w", e.Name, err))
		}
	}
	if runID == "" {
		n, err := dissolveCreatedSwarms(ctx, engines)
		total.Swarms = n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// dissolveCreatedSwarms dissolves the Swarms labelled hadrill.swarm whose
// manager is among the engines.
func dissolveCreatedSwarms(ctx context.Context, engines []*Engine) (int, error) {
	n := 0
	var errs []error
	for _, mgr := range engines {
		insp, err := mgr.cli.SwarmInspect(ctx, client.SwarmInspectOptions{})
		if err != nil || insp.Swarm.Spec.Annotations.Labels[LabelSwarm] == "" {
			continue // not a manager, or not a Swarm hadrill created
		}
		for _, e := range engines {
			if e == mgr {
				continue
			}
			info, err := e.cli.Info(ctx, client.InfoOptions{})
			if err != nil || info.Info.Swarm.NodeID == "" {
				continue
			}
			if _, err := mgr.cli.NodeInspect(ctx, info.Info.Swarm.NodeID, client.NodeInspectOptions{}); err != nil {
				continue // in another Swarm
			}
			if _, err := e.cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
				errs = append(errs, fmt.Errorf("leave swarm on %s: %w", e.Name, err))
			}
			removeNetwork(ctx, e.cli, gwBridge) // kept if containers still use it
		}
		if _, err := mgr.cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("dissolve swarm on %s: %w", mgr.Name, err))
			continue
		}
		removeNetwork(ctx, mgr.cli, gwBridge)
		n++
	}
	return n, errors.Join(errs...)
}

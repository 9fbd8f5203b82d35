package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Removed counts what Cleanup removed, and names the runs it left alone, for
// `hadrill cleanup` to report.
type Removed struct {
	Containers int
	Networks   int
	Images     int
	// Skipped are the runs Cleanup did not touch because their owner may
	// still be running, sorted by run ID.
	Skipped []Skipped
}

// Skipped is a run that Cleanup left in place, and why.
type Skipped struct {
	RunID  string
	Reason string
}

// CleanupOptions say what Cleanup may remove.
type CleanupOptions struct {
	// RunID, when set, removes that run's resources whoever owns them: the
	// user named it.
	RunID string
	// Force removes every run's resources, live or not.
	Force bool
	// DryRun removes nothing: Removed counts what would go.
	DryRun bool
}

// Cleanup removes what runs left behind when they could not tear down (a
// crash, a SIGKILL, a lost engine connection). With no RunID and no Force it
// removes only runs whose owning hadrill process is gone (see Owner): an
// engine is often shared by several drills, and a clean-up must never pull
// a live drill's containers from under it. Runs owned by a live process, by
// a process on another host, or recorded without an owner are skipped and
// listed in Removed.Skipped.
//
// It also removes dangling images from hadrill builds (labelled
// hadrill.build, untagged because a newer build took their tag); the tagged
// images are the build cache and stay. Containers go before networks, which
// cannot be removed while in use.
func Cleanup(ctx context.Context, opt CleanupOptions) (Removed, error) {
	var r Removed
	cli, err := connect(ctx)
	if err != nil {
		return r, err
	}
	defer cli.Close()
	label := LabelRun
	if opt.RunID != "" {
		label += "=" + opt.RunID
	}
	filter := make(client.Filters).Add("label", label)
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return r, fmt.Errorf("list leftover containers: %w", err)
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return r, fmt.Errorf("list leftover networks: %w", err)
	}
	j := judge{opt: opt, skip: map[string]string{}}
	var errs []error
	for _, ctr := range ctrs.Items {
		if !j.mayRemove(ctr.Labels) {
			continue
		}
		if opt.DryRun {
			r.Containers++
			continue
		}
		if err := removeContainer(ctx, cli, ctr.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", ctr.ID[:12], err))
			continue
		}
		r.Containers++
	}
	for _, nw := range nets.Items {
		if !j.mayRemove(nw.Labels) {
			continue
		}
		if opt.DryRun {
			r.Networks++
			continue
		}
		if err := removeNetwork(ctx, cli, nw.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		r.Networks++
	}
	r.Skipped = j.skipped()
	if opt.DryRun {
		return r, errors.Join(errs...)
	}
	n, err := removeDanglingImages(ctx, cli)
	r.Images = n
	return r, errors.Join(append(errs, err)...)
}

// judge decides, resource by resource, what Cleanup may remove, and
// remembers the runs it kept.
type judge struct {
	opt  CleanupOptions
	skip map[string]string // run ID -> reason
}

func (j *judge) mayRemove(labels map[string]string) bool {
	if j.opt.Force || j.opt.RunID != "" {
		return true
	}
	run := labels[LabelRun]
	o, ok := ownerOf(labels)
	if !ok {
		j.skip[run] = "no owner recorded (use --run or --force)"
		return false
	}
	switch o.Alive() {
	case OwnerAlive:
		j.skip[run] = "owner " + o.String() + " is still running"
		return false
	case OwnerUnknown:
		j.skip[run] = "owner " + o.String() + " is on another host"
		return false
	}
	return true
}

func (j *judge) skipped() []Skipped {
	var out []Skipped
	for run, why := range j.skip {
		out = append(out, Skipped{RunID: run, Reason: why})
	}
	slices.SortFunc(out, func(a, b Skipped) int { return strings.Compare(a.RunID, b.RunID) })
	return out
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

// Package cleanup removes what hadrill runs left behind in Docker when they
// could not tear down (a crash, a SIGKILL, a lost engine connection), and
// judges whose it is first: every run's containers and networks carry the
// labels of the process that created them (Owner), and only the runs whose
// owner is gone are removed, unless the user names a run or forces it. An
// engine is often shared by several drills, and a clean-up must never pull
// a live drill's containers from under it.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
)

// Removed counts what Sweep removed, and names the runs it left alone, for
// `hadrill cleanup` to report.
type Removed struct {
	Containers int
	Networks   int
	Images     int
	// Swarms counts the Swarms hadrill had created that SweepEngines
	// dissolved.
	Swarms int
	// Skipped are the runs Sweep did not touch because their owner may
	// still be running, sorted by run ID.
	Skipped []Skipped
}

// Skipped is a run that Sweep left in place, and why.
type Skipped struct {
	RunID  string
	Reason string
}

// Options say what Sweep may remove.
type Options struct {
	// RunID, when set, removes that run's resources whoever owns them: the
	// user named it.
	RunID string
	// Force removes every run's resources, live or not.
	Force bool
	// DryRun removes nothing: Removed counts what would go.
	DryRun bool
}

// Sweep removes what runs left behind when they could not tear down (a
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
func Sweep(ctx context.Context, opt Options) (Removed, error) {
	cli, err := engine.Connect(ctx)
	if err != nil {
		return Removed{}, err
	}
	defer cli.Close()
	j := &judge{opt: opt, skip: map[string]string{}}
	n, err := j.cleanContainers(ctx, cli)
	if err != nil {
		return Removed{Containers: n, Skipped: j.skipped()}, err
	}
	r, err := j.cleanNetworks(ctx, cli, true)
	r.Containers, r.Skipped = n, j.skipped()
	return r, err
}

// label is the label filter of the runs the options name.
func (o Options) label() string {
	if o.RunID == "" {
		return label.Run
	}
	return label.Run + "=" + o.RunID
}

// cleanContainers removes the containers the judge lets go.
func (j *judge) cleanContainers(ctx context.Context, cli client.APIClient) (int, error) {
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", j.opt.label()),
	})
	if err != nil {
		return 0, fmt.Errorf("list leftover containers: %w", err)
	}
	n := 0
	var errs []error
	for _, ctr := range ctrs.Items {
		if !j.mayRemove(ctr.Labels) {
			continue
		}
		if !j.opt.DryRun {
			if err := engine.RemoveContainer(ctx, cli, ctr.ID); err != nil {
				errs = append(errs, fmt.Errorf("remove container %s: %w", ctr.ID[:12], err))
				continue
			}
		}
		n++
	}
	return n, errors.Join(errs...)
}

// cleanNetworks removes the networks the judge lets go (Swarm-scoped ones
// only when the engine is a manager: a worker cannot), then dangling build
// images.
func (j *judge) cleanNetworks(ctx context.Context, cli client.APIClient, manager bool) (Removed, error) {
	var r Removed
	var errs []error
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", j.opt.label())})
	if err != nil {
		return r, fmt.Errorf("list leftover networks: %w", err)
	}
	for _, nw := range nets.Items {
		if (nw.Scope == "swarm" && !manager) || !j.mayRemove(nw.Labels) {
			continue
		}
		if !j.opt.DryRun {
			if err := engine.RemoveNetwork(ctx, cli, nw.ID); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		r.Networks++
	}
	if j.opt.DryRun {
		return r, errors.Join(errs...)
	}
	n, err := removeDanglingImages(ctx, cli)
	r.Images = n
	return r, errors.Join(append(errs, err)...)
}

// judge decides, resource by resource, what Sweep may remove, and
// remembers the runs it kept.
type judge struct {
	opt  Options
	skip map[string]string // run ID -> reason
}

func (j *judge) mayRemove(labels map[string]string) bool {
	if j.opt.Force || j.opt.RunID != "" {
		return true
	}
	run := labels[label.Run]
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
		Filters: make(client.Filters).Add("label", label.Build).Add("dangling", "true"),
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

// SweepEngines does what Sweep does on each named engine (see
// cluster.Spec.Engines), and, when no run is named, also dissolves every Swarm that
// hadrill created (labelled hadrill.swarm) and a crashed run left behind:
// the listed engines that are its workers leave, then its manager. A Swarm
// hadrill found is never touched, but an engine a crashed run joined to it
// stays joined: `docker swarm leave` on that engine undoes it.
func SweepEngines(ctx context.Context, opt Options, names []string) (Removed, error) {
	var total Removed
	var errs []error
	var engines []*engine.Engine
	defer func() {
		for _, e := range engines {
			e.Close()
		}
	}()
	for _, name := range names {
		e, err := engine.Open(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		engines = append(engines, e)
	}
	j := &judge{opt: opt, skip: map[string]string{}}
	// Every engine's containers go before any network: an overlay network
	// is in use while a container on any engine is attached to it.
	for _, e := range engines {
		n, err := j.cleanContainers(ctx, e.Client())
		total.Containers += n
		if err != nil {
			errs = append(errs, fmt.Errorf("clean up engine %s: %w", e.Name, err))
		}
	}
	for _, e := range engines {
		info, err := e.Client().Info(ctx, client.InfoOptions{})
		manager := err == nil && info.Info.Swarm.ControlAvailable
		r, err := j.cleanNetworks(ctx, e.Client(), manager)
		total.Networks += r.Networks
		total.Images += r.Images
		if err != nil {
			errs = append(errs, fmt.Errorf("clean up engine %s: %w", e.Name, err))
		}
	}
	total.Skipped = j.skipped()
	if opt.RunID == "" && !opt.DryRun && len(total.Skipped) == 0 {
		// A Swarm is dissolved only when no live run may still use it.
		n, err := engine.DissolveCreatedSwarms(ctx, engines)
		total.Swarms = n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/cluster/label"
)

// prepareEngines opens every engine of Spec.Engines, joins them into a
// Swarm, puts the image on each, and creates the run's attachable overlay
// network on the manager (the first engine). A single engine needs no
// Swarm: its nodes share a bridge network, as on the default engine.
func (c *Cluster) prepareEngines(ctx context.Context) error {
	for _, name := range c.spec.Engines {
		e, err := engine.Open(ctx, name)
		if err != nil {
			return err
		}
		c.engines = append(c.engines, e)
	}
	if len(c.engines) > 1 {
		s, err := engine.AcquireSwarm(ctx, c.engines)
		if err != nil {
			return err
		}
		c.swarm = s
	}
	var err error
	if c.Image, err = c.ensureImage(ctx, c.engines[0].Client()); err != nil {
		return err
	}
	errs := make([]error, len(c.engines))
	var wg sync.WaitGroup
	for i, e := range c.engines[1:] {
		wg.Go(func() { errs[i+1] = image.Ship(ctx, c.engines[0], e, c.Image) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.createEngineNetwork(ctx)
}

// createEngineNetwork creates the run's network on the first engine: an
// overlay network, attachable so that plain containers (not Swarm
// services) on every engine can join it, or a bridge on a single engine.
func (c *Cluster) createEngineNetwork(ctx context.Context) error {
	opts := client.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{label.Run: c.RunID}}
	if len(c.engines) > 1 {
		opts.Driver, opts.Attachable = "overlay", true
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create network %s: %w", c.Network, err)
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	defer cancel()
	mgr := c.manager()
	_, err := mgr.Client().NetworkCreate(nctx, c.Network, opts)
	if err != nil {
		return fmt.Errorf("create %s network %s on %s: %w", opts.Driver, c.Network, mgr.Name, err)
	}
	return nil
}

// manager is the engine that manages the Swarm, where Swarm networks are
// created and removed: the first engine, unless a parallel run on the same
// engines listed them in another order and made another one the manager.
func (c *Cluster) manager() *engine.Engine {
	if c.swarm != nil {
		for _, e := range c.engines {
			if e.Host == c.swarm.Manager() {
				return e
			}
		}
	}
	return c.engines[0]
}

// engine returns the open engine of that name.
func (c *Cluster) engine(name string) *engine.Engine {
	for _, e := range c.engines {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// teardownEngines removes the run's containers from every engine, then its
// overlay network, then gives the Swarm back as it was found.
func (c *Cluster) teardownEngines(ctx context.Context) error {
	errs := make([][]error, len(c.engines))
	var wg sync.WaitGroup
	for i, e := range c.engines {
		wg.Go(func() { errs[i] = c.removeContainers(ctx, e.Client()) })
	}
	wg.Wait()
	var all []error
	for _, es := range errs {
		all = append(all, es...)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	if err := engine.RemoveNetwork(ctx, c.manager().Client(), c.Network); err != nil {
		return err
	}
	if err := c.swarm.Release(ctx, c.engines); err != nil {
		return err
	}
	c.swarm = nil
	return nil
}

// closeEngines closes every engine's client.
func (c *Cluster) closeEngines() error {
	var errs []error
	for _, e := range c.engines {
		errs = append(errs, e.Close())
	}
	slog.Debug("engines closed", "run", c.RunID)
	return errors.Join(errs...)
}

// Engines maps every node to the name of the engine it runs on ("local" on
// a one-engine cluster), for the verdict and the report.
func (c *Cluster) Engines() map[string]string {
	m := make(map[string]string, len(c.all))
	for _, n := range c.all {
		m[n.name] = n.Engine()
	}
	return m
}

package faults

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// The container-level kinds act through the Docker API on whole containers,
// from outside the system under test.
func init() {
	Register(kill{})
	Register(stop{})
	Register(pause{})
}

// kill SIGKILLs each target's container; healing starts it again.
type kill struct{}

func (kill) Kind() string { return string(kind.Kill) }

// Inject kills each node's process through its agent first, when the node
// runs one: the agent's SIGKILL takes effect in about a millisecond, and its
// effective time is what RTO is measured from, while the engine's kill of
// the container takes another 150 to 300 ms to return. The container is
// killed right after, so the node goes down as a whole, as before.
func (kill) Inject(ctx context.Context, h Hit) (Heal, error) {
	var done []Node
	for _, n := range h.Nodes {
		if an, ok := n.(AgentNode); ok {
			f := agent.Fault{ID: "kill-f" + strconv.Itoa(h.ID), Kind: kind.Crash}
			if a, err := an.Agent().Apply(ctx, f); err == nil && h.Effective != nil {
				h.Effective(n.Name(), time.Unix(0, a.EffectiveNS))
			}
		}
		if err := n.Kill(ctx); err != nil {
			return restart(done), fmt.Errorf("kill %s: %w", n.Name(), err)
		}
		done = append(done, n)
	}
	return restart(done), nil
}

// stop sends SIGTERM with a grace period (param "grace", default 10s).
type stop struct{}

func (stop) Kind() string { return string(kind.Stop) }

func (stop) Inject(ctx context.Context, h Hit) (Heal, error) {
	grace := 10 * time.Second
	if h.Params.Grace > 0 {
		grace = h.Params.Grace.Std()
	}
	var done []Node
	for _, n := range h.Nodes {
		if err := n.Stop(ctx, grace); err != nil {
			return restart(done), fmt.Errorf("stop %s: %w", n.Name(), err)
		}
		done = append(done, n)
	}
	return restart(done), nil
}

func restart(nodes []Node) Heal {
	return func(ctx context.Context) (map[string]float64, error) {
		var errs []error
		for _, n := range nodes {
			if err := n.Start(ctx); err != nil {
				errs = append(errs, fmt.Errorf("start %s: %w", n.Name(), err))
			}
		}
		return nil, errors.Join(errs...)
	}
}

// pause freezes each target's container with the cgroup freezer; healing
// thaws it. Unlike kill, the process keeps its memory and sockets, so a
// paused primary wakes up believing it is still primary: the classic
// GC-pause / VM-stall scenario that fencing must handle.
type pause struct{}

func (pause) Kind() string { return string(kind.Pause) }

func (pause) Inject(ctx context.Context, h Hit) (Heal, error) {
	var done []Node
	heal := func(ctx context.Context) (map[string]float64, error) {
		var errs []error
		for _, n := range done {
			if err := n.Unpause(ctx); err != nil {
				errs = append(errs, fmt.Errorf("unpause %s: %w", n.Name(), err))
			}
		}
		return nil, errors.Join(errs...)
	}
	for _, n := range h.Nodes {
		if err := n.Pause(ctx); err != nil {
			return heal, fmt.Errorf("pause %s: %w", n.Name(), err)
		}
		done = append(done, n)
	}
	return heal, nil
}

// Package faults injects hadrill's fault kinds (declared in package
// faults/kind), resolves their targets and runs their schedules (the
// nemesis). A fault is a value: a kind, a target and a window. The
// nemesis applies a schedule of such values to a running cluster, records
// every stage in faults.jsonl, and heals everything it did on every path.
//
// Container-level kinds (kill, stop, pause) act through the Docker API on the
// node's container. Network, disk, resource and process kinds are applied by
// the node agent (package faults/agent) inside the node's namespaces.
package faults

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hadrill/hadrill/faults/kind"
)

// Node is what faults need from a cluster node. It is declared here, where it
// is used; the cluster package's node handle satisfies it through a thin
// adapter in the runner.
type Node interface {
	Name() string
	// Kill sends SIGKILL to the node's container.
	Kill(ctx context.Context) error
	// Stop sends SIGTERM and kills after grace.
	Stop(ctx context.Context, grace time.Duration) error
	// Pause freezes every process of the node (cgroup freezer).
	Pause(ctx context.Context) error
	// Unpause thaws a paused node.
	Unpause(ctx context.Context) error
	// Start starts a stopped or killed node and waits until it is healthy.
	Start(ctx context.Context) error
}

// Params are a fault's kind-specific parameters (percent, delay, grace, ...),
// typed, as package kind declares them.
type Params = kind.Params

// Spec is one fault as a scenario or the nemesis describes it. Params holds
// the kind's parameters.
type Spec struct {
	Kind   string
	Target Target
	// At is the scheduled start, from the run's start.
	At time.Duration
	// Duration is how long the fault stays in force. For kill and stop it is
	// the time until the node is started again (restart_after); zero means
	// the node is only started again at the final heal.
	Duration time.Duration
	Params   Params
}

// Hit is what one injection acts on: the targeted nodes, every node of the
// cluster, and for partitions the sides to cut apart.
type Hit struct {
	// ID is the fault's number in the schedule; injectors use it to name
	// the fault where it is applied (the agent's fault id).
	ID     int
	Nodes  []Node
	All    []Node
	Sides  [][]Node
	OneWay bool
	Params Params
	// Effective, when set, receives the wall-clock time at which the fault
	// took effect on a node, as the node itself reported it. Injectors that
	// cannot tell leave it uncalled; the nemesis then uses the time Inject
	// returned.
	Effective func(node string, at time.Time)
}

// Heal undoes a fault. It returns what the injector measured while the fault
// was in force (packets dropped, I/O stalled, ...), keyed by name. It runs
// with its own context, so an interrupted run can still heal.
type Heal func(ctx context.Context) (measured map[string]float64, err error)

// Injector applies one kind of fault. Inject returns once the effect is in
// place. On error it still returns a Heal for whatever it did apply.
type Injector interface {
	Kind() string
	Inject(ctx context.Context, h Hit) (Heal, error)
}

// registry maps a kind to its injector.
var registry = map[string]Injector{}

// Register makes an injector available by its kind. Packages that add kinds
// (the node agent's network and disk faults) call it from the runner.
func Register(in Injector) { registry[in.Kind()] = in }

// Lookup returns the injector for a kind.
func Lookup(kind string) (Injector, error) {
	in, ok := registry[kind]
	if !ok {
		return nil, fmt.Errorf("unknown fault kind %q (known: %v)", kind, Kinds())
	}
	return in, nil
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

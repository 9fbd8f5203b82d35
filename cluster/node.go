package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/hadrill/hadrill/cluster/engine"
)

// Node is one member of a running cluster: a handle on its container that the
// fault injector and the workload share. Its methods act on the container
// through the Docker API, from outside the node's process, as docs/DESIGN.md
// requires of faults. A Node is safe for concurrent use.
type Node struct {
	name    string
	role    string
	port    int        // the port it serves on (the client port for data nodes)
	ip      netip.Addr // fixed address on the run network, if planned
	health  HealthCheck
	cluster *Cluster
	spec    ContainerSpec
	// eng is the node's engine in a multi-engine cluster; nil on one
	// engine, where testcontainers manages the container.
	eng *engine.Engine

	mu    sync.Mutex
	ctr   testcontainers.Container
	id    string
	ports map[int]int // container port -> host port on 127.0.0.1
}

// NodeState is a container's state as the fault injector cares about it.
type NodeState string

// The states a node can be in. A paused node is not Running: its processes
// exist but cannot run. A container being removed, or dead, is Missing.
const (
	StateRunning NodeState = "running"
	StatePaused  NodeState = "paused"
	StateExited  NodeState = "exited"
	StateCreated NodeState = "created"
	StateMissing NodeState = "missing"
)

// errNotCreated is returned by a Node whose container was never created.
var errNotCreated = errors.New("container not created")

// Name is the node's name (n1..nN): its host name, its alias on the run
// network and its hadrill.node label. It is a method so that *Node satisfies
// the small node interfaces its users declare (faults.Node).
func (n *Node) Name() string { return n.name }

// Port is the port the node serves on inside the run's network (the
// client port for data nodes, the role's port for auxiliary ones).
func (n *Node) Port() int { return n.port }

// Role is the node's role: cluster.DataRole, or one of the system's Roles.
func (n *Node) Role() string { return n.role }

// ContainerID is the Docker container ID, for tools that act on the
// container directly (docker logs, the node agent's setup).
func (n *Node) ContainerID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// Engine names the engine the node runs on: "local" on a one-engine
// cluster, else the name cluster.engines gives it.
func (n *Node) Engine() string {
	if n.eng == nil {
		return engine.LocalEngine
	}
	return n.eng.Name
}

// api is the client of the node's engine.
func (n *Node) api() client.APIClient {
	if n.eng != nil {
		return n.eng.Client()
	}
	return n.cluster.docker
}

// publishIP is where the node's ports are published and reached.
func (n *Node) publishIP() netip.Addr {
	if n.eng != nil {
		return n.eng.PublishIP
	}
	return netip.MustParseAddr("127.0.0.1")
}

// ClientAddr is where clients reach the node: "127.0.0.1:<port>". The host
// port is chosen once and bound explicitly, so it survives Kill/Stop and
// Start and clients may cache it. Should the engine ever assign a different
// port on a restart, Start re-reads it from the container, and ClientAddr
// returns the new one from then on. If another process takes the port while
// the node is down, Start fails ("port is already allocated") rather than
// move the node behind its clients' backs.
func (n *Node) ClientAddr() string {
	return n.Addr(n.port)
}

// Addr is the host address of any published container port (the client port
// or a ContainerSpec.Ports entry such as the node agent's), or "" when the
// port is not published.
func (n *Node) Addr(containerPort int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if hp, ok := n.ports[containerPort]; ok {
		return net.JoinHostPort(n.publishIP().String(), strconv.Itoa(hp))
	}
	return ""
}

// Kill sends SIGKILL to the node's process through the Docker API: the crash
// fault. The container stays, with its data, ready for Start.
func (n *Node) Kill(ctx context.Context) error {
	return n.signal(ctx, "KILL", "kill")
}

// Stop sends SIGTERM and, if the node has not exited after grace, SIGKILL:
// the clean-shutdown fault. The grace is honoured to the millisecond, unlike
// `docker stop`, whose timeout is whole seconds.
func (n *Node) Stop(ctx context.Context, grace time.Duration) error {
	if err := n.signal(ctx, "TERM", "stop"); err != nil {
		return err
	}
	exited, err := n.waitExit(ctx, grace)
	if err != nil || exited {
		return err
	}
	if err := n.signal(ctx, "KILL", "stop"); err != nil && !errdefs.IsConflict(err) {
		return err
	}
	_, err = n.waitExit(ctx, 10*time.Second)
	return err
}

// waitExit waits up to d for the container to stop running.
func (n *Node) waitExit(ctx context.Context, d time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		st, err := n.State(ctx)
		if err != nil && ctx.Err() == nil {
			return false, fmt.Errorf("stop node %s: %w", n.name, err)
		}
		if st != StateRunning && st != StatePaused && err == nil {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (n *Node) signal(ctx context.Context, sig, verb string) error {
	id := n.ContainerID()
	if id == "" {
		return fmt.Errorf("%s node %s: %w", verb, n.name, errNotCreated)
	}
	if _, err := n.api().ContainerKill(ctx, id, client.ContainerKillOptions{Signal: sig}); err != nil {
		return fmt.Errorf("%s node %s: %w", verb, n.name, err)
	}
	return nil
}

// Pause freezes every process of the node (docker pause, the cgroup freezer):
// the node keeps its sockets but answers nothing, like a long GC pause or a
// hung VM. Health probes and client requests time out until Unpause. Kill
// and Stop still work on a paused node: the engine thaws it to deliver the
// signal.
func (n *Node) Pause(ctx context.Context) error {
	id := n.ContainerID()
	if id == "" {
		return fmt.Errorf("pause node %s: %w", n.name, errNotCreated)
	}
	if _, err := n.api().ContainerPause(ctx, id, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause node %s: %w", n.name, err)
	}
	return nil
}

// Unpause thaws a paused node; its processes resume where they were.
func (n *Node) Unpause(ctx context.Context) error {
	id := n.ContainerID()
	if id == "" {
		return fmt.Errorf("unpause node %s: %w", n.name, errNotCreated)
	}
	if _, err := n.api().ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("unpause node %s: %w", n.name, err)
	}
	return nil
}

// Start starts a stopped or killed node again, in the same container (same
// data folder, same network alias, same host port), and returns once it is
// healthy, or with an error after Spec.StartTimeout. Starting a running node
// only waits for it to be healthy.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	ctr := n.ctr
	n.mu.Unlock()
	if n.eng != nil && n.ContainerID() != "" {
		if err := n.startOnEngine(ctx); err != nil {
			return fmt.Errorf("start node %s: %w", n.name, err)
		}
		return nil
	}
	if ctr == nil {
		return fmt.Errorf("start node %s: %w", n.name, errNotCreated)
	}
	if err := ctr.Start(ctx); err != nil {
		return fmt.Errorf("start node %s: %w", n.name, err)
	}
	return nil
}

// Running reports whether the node's process is running and not paused. An
// error (the container is gone, the engine is unreachable) counts as not
// running; use State to tell these apart.
func (n *Node) Running(ctx context.Context) bool {
	st, err := n.State(ctx)
	return err == nil && st == StateRunning
}

// State is the container's state now, from the engine.
func (n *Node) State(ctx context.Context) (NodeState, error) {
	id := n.ContainerID()
	if id == "" {
		return StateMissing, nil
	}
	res, err := n.api().ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if errdefs.IsNotFound(err) {
		return StateMissing, nil
	}
	if err != nil {
		return "", fmt.Errorf("inspect node %s: %w", n.name, err)
	}
	st := res.Container.State
	switch {
	case st == nil:
		return StateMissing, nil
	case st.Paused:
		return StatePaused, nil
	case st.Running:
		return StateRunning, nil
	case st.Status == container.StateCreated:
		return StateCreated, nil
	case st.Status == container.StateRemoving || st.Status == container.StateDead:
		// Being removed, or left dead by a failed removal: as good as gone.
		return StateMissing, nil
	default:
		return StateExited, nil
	}
}

// Healthy runs the system's health check once against the node, bounded by
// the check's timeout: nil when the node answers.
func (n *Node) Healthy(ctx context.Context) error {
	if err := n.health.probe(ctx, n.ClientAddr()); err != nil {
		return fmt.Errorf("check health of node %s: %w", n.name, err)
	}
	return nil
}

// IP is the node's address on the run's network, where the other nodes
// reach it. Network faults (partitions, per-peer loss) name peers by it.
// It is read from the engine each time, because a restarted container may
// get a new address.
func (n *Node) IP(ctx context.Context) (netip.Addr, error) {
	id := n.ContainerID()
	if id == "" {
		return netip.Addr{}, fmt.Errorf("find address of node %s: %w", n.name, errNotCreated)
	}
	res, err := n.api().ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find address of node %s: %w", n.name, err)
	}
	if ns := res.Container.NetworkSettings; ns != nil {
		if ep, ok := ns.Networks[n.cluster.Network]; ok && ep != nil && ep.IPAddress.IsValid() {
			return ep.IPAddress, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("find address of node %s: not attached to network %s", n.name, n.cluster.Network)
}

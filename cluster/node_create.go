package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/hadrill/hadrill/cluster/cleanup"
	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
)

// Creating a node's container on the one engine testcontainers manages:
// its name, labels and host ports, the request, and the wait until the
// system's health check passes. (engine_node.go does the same on one of
// several engines.)

// withOwner adds this process's owner labels to labels and returns it, so
// that a clean-up can tell a live run's resources from a crashed one's.
func withOwner(labels map[string]string) map[string]string {
	for k, v := range cleanup.Self().Labels() {
		labels[k] = v
	}
	return labels
}

// containerName is the Docker name of a node's container.
func (c *Cluster) containerName(node string) string {
	return "hadrill-" + c.RunID + "-" + node
}

// labels are the labels of a node's container.
func (c *Cluster) labels(node string) map[string]string {
	return withOwner(map[string]string{label.Run: c.RunID, label.Node: node, label.System: c.spec.System.Name()})
}

// createTimeout bounds a container or network creation, the copy of its
// files included: on a busy shared engine copying the agent binary into
// three containers at once was seen to take over 30 s.
const createTimeout = 2 * time.Minute

// createSlots bounds how many containers this process creates at once.
// Creating one copies the node agent's binary (tens of MB) into it; with
// two parallel runs on a busy engine with a slow storage driver
// (fuse-overlayfs), six copies at once went past createTimeout while three
// did not. The wait for a slot is not part of createTimeout.
var createSlots = make(chan struct{}, 3)

// acquireCreateSlot waits for a creation slot, or for ctx to end.
func acquireCreateSlot(ctx context.Context) (release func(), err error) {
	select {
	case createSlots <- struct{}{}:
		return func() { <-createSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// create creates and starts the node's container, retrying with new host
// ports when one was taken after it was chosen.
//
// The creation itself ignores the cancellation of ctx: a create request
// cancelled on the client side may still complete in the engine after
// Teardown has looked for containers, leaking one. Waiting for the container
// to become healthy does honour ctx.
func (n *Node) create(ctx context.Context) error {
	if n.eng != nil {
		return n.createOnEngine(ctx)
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("start node %s: %w", n.name, err)
		}
		if err := n.pickPorts(); err != nil {
			return fmt.Errorf("start node %s: %w", n.name, err)
		}
		release, err := acquireCreateSlot(ctx)
		if err != nil {
			return fmt.Errorf("start node %s: %w", n.name, err)
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
		ctr, err := testcontainers.GenericContainer(cctx, n.request())
		cancel()
		release()
		if ctr != nil {
			n.setContainer(ctr)
		}
		if err == nil {
			err = ctr.Start(ctx)
		}
		if err == nil {
			return nil
		}
		if attempt < 3 && ctr != nil && isPortTaken(err) {
			if rmErr := engine.RemoveContainer(context.WithoutCancel(ctx), n.api(), n.ContainerID()); rmErr == nil {
				continue
			}
		}
		return fmt.Errorf("start node %s: %w", n.name, err)
	}
}

// setContainer records the created container.
func (n *Node) setContainer(ctr testcontainers.Container) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ctr, n.id = ctr, ctr.GetContainerID()
}

// published lists the container ports to publish: the client port first.
func (n *Node) published() []int {
	return append([]int{n.port}, n.spec.Ports...)
}

// pickPorts chooses a fresh host port for every published container port.
func (n *Node) pickPorts() error {
	ports := map[int]int{}
	for _, p := range n.published() {
		hp, err := freePort()
		if err != nil {
			return err
		}
		ports[p] = hp
	}
	n.mu.Lock()
	n.ports = ports
	n.mu.Unlock()
	return nil
}

// refreshPorts re-reads the host ports from the engine after a start.
func (n *Node) refreshPorts(info *container.InspectResponse) {
	if info.NetworkSettings == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.published() {
		for _, b := range info.NetworkSettings.Ports[tcpPort(p)] {
			if hp, err := strconv.Atoi(b.HostPort); err == nil && hp > 0 {
				n.ports[p] = hp
			}
		}
	}
}

func tcpPort(p int) network.Port {
	port, _ := network.PortFrom(uint16(p), network.TCP)
	return port
}

// request is the testcontainers request for this node's container.
func (n *Node) request() testcontainers.GenericContainerRequest {
	c, cs := n.cluster, n.spec
	exposed := []string{}
	bindings := network.PortMap{}
	loopback := netip.MustParseAddr("127.0.0.1")
	for _, p := range n.published() {
		exposed = append(exposed, tcpPort(p).String())
		bindings[tcpPort(p)] = []network.PortBinding{{HostIP: loopback, HostPort: strconv.Itoa(n.ports[p])}}
	}
	files := make([]testcontainers.ContainerFile, len(cs.Files))
	for i, f := range cs.Files {
		files[i] = testcontainers.ContainerFile{HostFilePath: f.HostPath, ContainerFilePath: f.Path, FileMode: f.Mode}
		if f.Content != nil {
			files[i].Reader = bytes.NewReader(f.Content)
		}
		if f.Mode == 0 {
			files[i].FileMode = 0o644
		}
	}
	devices := make([]container.DeviceMapping, len(cs.Devices))
	for i, d := range cs.Devices {
		devices[i] = container.DeviceMapping{PathOnHost: d, PathInContainer: d, CgroupPermissions: "rwm"}
	}
	return testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          c.Image.Ref,
			Name:           c.containerName(n.name),
			Entrypoint:     cs.Entrypoint,
			Cmd:            cs.Cmd,
			Env:            cs.Env,
			Labels:         c.labels(n.name),
			ExposedPorts:   exposed,
			Networks:       []string{c.Network},
			NetworkAliases: map[string][]string{c.Network: {n.name}},
			Files:          files,
			WaitingFor:     healthWait{n},
			ConfigModifier: func(cfg *container.Config) {
				cfg.Hostname = n.name
				if cs.User != "" { // without the agent, the container itself runs as the user
					cfg.User = cs.User
				}
			},
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.PortBindings = bindings
				hc.CapAdd = cs.CapAdd
				hc.Resources.Devices = devices
				hc.Sysctls = cs.Sysctls
			},
			EndpointSettingsModifier: n.fixAddress,
		},
		Started: false, // see create
		// No Logger: testcontainers then uses its default, which
		// engine.Connect set to slog at debug level before any node.
	}
}

// fixAddress gives the node its planned address on the run network, which
// it keeps across restarts; without a plan Docker assigns one.
func (n *Node) fixAddress(eps map[string]*network.EndpointSettings) {
	if !n.ip.IsValid() {
		return
	}
	ep := eps[n.cluster.Network]
	if ep == nil {
		ep = &network.EndpointSettings{}
		eps[n.cluster.Network] = ep
	}
	ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: n.ip}
}

// healthWait is the testcontainers wait strategy for a node: the system's
// health check against the node's 127.0.0.1 address, polled until it passes,
// the container exits, or Spec.StartTimeout passes. testcontainers' own
// wait.ForHTTP is not used because, inside a container (as in CI), it
// addresses the bridge gateway rather than the 127.0.0.1 binding.
type healthWait struct{ n *Node }

// String describes the wait in testcontainers' debug log.
func (w healthWait) String() string {
	return w.n.health.Describe(w.n.ClientAddr())
}

// WaitUntilReady implements wait.Strategy; it also runs on every Node.Start.
func (w healthWait) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	n := w.n
	ctx, cancel := context.WithTimeout(ctx, n.cluster.spec.StartTimeout)
	defer cancel()
	info, err := target.Inspect(ctx)
	if err != nil {
		return fmt.Errorf("inspect node %s: %w", n.name, err)
	}
	n.refreshPorts(info)
	check := n.health
	for {
		last := check.probe(ctx, n.ClientAddr())
		if last == nil {
			return nil
		}
		if st, err := target.State(ctx); err == nil && !st.Running {
			tail := n.cluster.tailLogs(context.WithoutCancel(ctx), n.api(), info.ID, 5)
			return fmt.Errorf("wait healthy: container exited with code %d: %s", st.ExitCode, tail)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait healthy: %w (last probe: %w)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. The port is
// bound explicitly when the container is created, so it stays the same when
// the node is restarted: clients cache addresses. Another process may take it
// between here and then; Start retries with a new port when that happens.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// isPortTaken tells whether a container start failed because its host port
// was taken after freePort chose it.
func isPortTaken(err error) bool {
	s := err.Error()
	return strings.Contains(s, "port is already allocated") ||
		strings.Contains(s, "address already in use")
}

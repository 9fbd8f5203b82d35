package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
)

// The nodes of a multi-engine cluster are created with the moby client
// directly, on their own engine: testcontainers talks to one engine per
// process. The container is the same as on one engine (see request), except
// that it joins the run's overlay network and publishes its ports on the
// engine's publish address.

// createOnEngine creates and starts the node's container on its engine and
// waits until it is healthy, retrying with new host ports when one was
// taken after it was chosen.
func (n *Node) createOnEngine(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("start node %s on %s: %w", n.name, n.eng.Name, err)
		}
		if err := n.pickPorts(); err != nil {
			return fmt.Errorf("start node %s: %w", n.name, err)
		}
		release, err := acquireCreateSlot(ctx)
		if err != nil {
			return fmt.Errorf("start node %s: %w", n.name, err)
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
		err = n.createContainer(cctx)
		cancel()
		release()
		if err == nil {
			err = n.startOnEngine(ctx)
		}
		if err == nil {
			return nil
		}
		if attempt < 3 && n.ContainerID() != "" && isPortTaken(err) {
			if rmErr := engine.RemoveContainer(context.WithoutCancel(ctx), n.api(), n.ContainerID()); rmErr == nil {
				continue
			}
		}
		return fmt.Errorf("start node %s on %s: %w", n.name, n.eng.Name, err)
	}
}

// createContainer creates the container and copies the spec's files in.
func (n *Node) createContainer(ctx context.Context) error {
	cfg, hc, nc := n.containerConfig()
	res, err := n.api().ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: cfg, HostConfig: hc, NetworkingConfig: nc, Name: n.cluster.containerName(n.name),
	})
	if err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	n.mu.Lock()
	n.id = res.ID
	n.mu.Unlock()
	if len(n.spec.Files) == 0 {
		return nil
	}
	archive, err := filesTar(n.spec.Files)
	if err != nil {
		return err
	}
	if _, err := n.api().CopyToContainer(ctx, res.ID, client.CopyToContainerOptions{
		DestinationPath: "/", Content: archive,
	}); err != nil {
		return fmt.Errorf("copy files into container: %w", err)
	}
	return nil
}

// containerConfig is the node's container as the engine API takes it.
func (n *Node) containerConfig() (*container.Config, *container.HostConfig, *network.NetworkingConfig) {
	c, cs := n.cluster, n.spec
	exposed := network.PortSet{}
	bindings := network.PortMap{}
	for _, p := range n.published() {
		exposed[tcpPort(p)] = struct{}{}
		bindings[tcpPort(p)] = []network.PortBinding{{HostIP: n.publishIP(), HostPort: strconv.Itoa(n.ports[p])}}
	}
	env := make([]string, 0, len(cs.Env))
	for k, v := range cs.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	devices := make([]container.DeviceMapping, len(cs.Devices))
	for i, d := range cs.Devices {
		devices[i] = container.DeviceMapping{PathOnHost: d, PathInContainer: d, CgroupPermissions: "rwm"}
	}
	cfg := &container.Config{
		Image: c.Image.Ref, Hostname: n.name, Entrypoint: cs.Entrypoint, Cmd: cs.Cmd,
		Env: env, Labels: c.labels(n.name), ExposedPorts: exposed, User: cs.User,
	}
	hc := &container.HostConfig{PortBindings: bindings, CapAdd: cs.CapAdd, Sysctls: cs.Sysctls}
	hc.Resources.Devices = devices
	nc := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		c.Network: {Aliases: []string{n.name}},
	}}
	return cfg, hc, nc
}

// filesTar packs files into a tar archive rooted at "/".
func filesTar(files []image.File) (*bytes.Reader, error) {
	loaded, err := image.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("read files for the container: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range loaded {
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: strings.TrimPrefix(f.Path, "/"), Mode: mode, Size: int64(len(f.Content)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("pack %s: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Content); err != nil {
			return nil, fmt.Errorf("pack %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("pack files: %w", err)
	}
	return bytes.NewReader(buf.Bytes()), nil
}

// startOnEngine starts the container and waits until it is healthy.
func (n *Node) startOnEngine(ctx context.Context) error {
	id := n.ContainerID()
	if _, err := n.api().ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start container: %w", err)
	}
	return n.waitHealthy(ctx)
}

// waitHealthy polls the system's health check until it passes, the
// container exits, or Spec.StartTimeout passes: healthWait for nodes that
// testcontainers does not manage.
func (n *Node) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.cluster.spec.StartTimeout)
	defer cancel()
	id := n.ContainerID()
	res, err := n.api().ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect node %s: %w", n.name, err)
	}
	n.refreshPorts(&res.Container)
	for {
		last := n.health.probe(ctx, n.ClientAddr())
		if last == nil {
			return nil
		}
		res, err := n.api().ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err == nil && res.Container.State != nil && !res.Container.State.Running {
			tail := n.cluster.tailLogs(context.WithoutCancel(ctx), n.api(), id, 5)
			return fmt.Errorf("wait healthy: container exited with code %d: %s", res.Container.State.ExitCode, tail)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait healthy: %w (last probe: %w)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

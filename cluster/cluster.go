// Package cluster starts, drives and tears down clusters of a system under
// test in Docker containers, through testcontainers-go and the moby client,
// and declares the contract a system gives the backend (System and its
// optional capabilities).
//
// A System (described by its plug-in under systems/) gives its image and its
// nodes, auxiliary roles included; Start gets the image, creates one Docker
// network and one container per node, and waits until every node is
// healthy. Node handles inject the process-level faults (kill, stop, pause)
// and tell clients where to connect; Cluster.Primary finds the primary for
// systems that have one. Teardown saves each node's log and removes
// everything, on every path.
//
// What it builds on lives below it: cluster/image builds the images,
// cluster/engine reaches the Docker engines (and a Swarm of several), and
// cluster/cleanup removes what a crashed run left behind, judged by the
// owner labels (cluster/label) that Start puts on everything it creates.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"sync"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/cluster/label"
)

// DefaultStartTimeout is how long a node may take to become healthy. A
// PostgreSQL node of pg_auto_failover starts after its monitor, runs initdb
// or a base backup, and registers: on a busy 2-core runner (stress-ng beside
// a make test) that chain took over 60 s, the former bound, through a
// fuse-overlayfs storage driver. A node that exits is noticed at once, so a
// longer bound only delays the report of a node that hangs.
const DefaultStartTimeout = 3 * time.Minute

// Spec is what to start: a plain value, so that a scenario maps onto it
// field by field.
type Spec struct {
	// RunID names the run in Docker: the network is hadrill-<RunID>, the
	// containers hadrill-<RunID>-<node>, and both carry hadrill.run=<RunID>.
	// Empty means NewRunID().
	RunID string
	// System is the system to run.
	System System
	// Nodes is how many data nodes to start, named n1..nN.
	Nodes int
	// Options are the system's options (the scenario's cluster.options).
	Options map[string]string
	// Image, when set, is used instead of building the system's image. It must
	// already exist in the local engine: there is no registry to pull from.
	Image string
	// LogDir is where Teardown writes each node's log as <node>.log. Empty
	// means logs are not kept.
	LogDir string
	// StartTimeout bounds the wait for each node to become healthy, at Start
	// and at every Node.Start. Zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// Engines, when set, lists the Docker engines to spread the nodes over
	// ("local", a docker context name, or a unix:// or tcp:// endpoint). The
	// first is the Swarm manager: Start joins the engines into a Swarm when
	// they are not in one, creates an attachable overlay network for the run,
	// builds the image on the first engine and ships it to the others.
	// Teardown leaves the Swarm state as it was found. Empty means the one
	// engine testcontainers finds.
	Engines []string
	// Placement maps node names to engine names; the nodes it leaves out are
	// spread round robin over Engines in order.
	Placement map[string]string
	// Customize, when set, may change each node's container after the system
	// described it. It is the seam for the node agent: add its binary as a
	// File, wrap the Entrypoint, publish its port in Ports, add NET_ADMIN (and
	// SYS_ADMIN with /dev/fuse for disk faults).
	Customize func(node string, cs *ContainerSpec) error
}

// Cluster is a running (or partly started) cluster. Start returns it even on
// error, and Teardown is safe on nil and safe to repeat, so callers can
// always `defer c.Teardown(ctx)` right after Start.
type Cluster struct {
	// RunID is the run's ID, as given or generated.
	RunID string
	// Network is the name of the run's Docker network.
	Network string
	// Image is the image the nodes run.
	Image image.Image

	spec   Spec
	docker *testcontainers.DockerClient
	nodes  []*Node   // data nodes
	all    []*Node   // every node, data nodes first
	plan   *addrPlan // fixed addresses, for an AddressReserver; else nil

	engines []*engine.Engine // multi-engine clusters only; docker is nil then
	swarm   *engine.Swarm    // the Swarm the engines share, while in use

	mu   sync.Mutex
	done bool // torn down successfully
}

// runIDPattern keeps run IDs usable inside Docker names.
var runIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// NewRunID returns a run ID that sorts by time and does not collide between
// runs started in the same second: 20261121T100000-3fa2.
func NewRunID() string {
	var b [2]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Validate checks the spec without touching Docker, so `hadrill validate`
// can reject a bad node count or an unknown system option up front.
func (s Spec) Validate() error {
	_, err := s.placed()
	return err
}

// placed checks the spec on a placeholder address plan and maps each node to
// its engine (nil on one engine).
func (s Spec) placed() (map[string]string, error) {
	plan, err := s.placeholderPlan()
	if err != nil {
		return nil, err
	}
	ms, err := s.members(plan)
	if err != nil {
		return nil, err
	}
	return s.placement(ms)
}

// placeholderPlan lays out addresses on a never-routed subnet, to check a
// spec before a network exists; nil when the system reserves none.
func (s Spec) placeholderPlan() (*addrPlan, error) {
	if s.System == nil {
		return nil, nil
	}
	reserve := s.reserveCount()
	if reserve == 0 {
		return nil, nil
	}
	plan, err := newAddrPlan(placeholderSubnet, reserve)
	if err != nil {
		return nil, fmt.Errorf("check cluster spec: %w", err)
	}
	return plan, nil
}

// placement maps each member to its engine name; nil on one engine.
func (s Spec) placement(ms []member) (map[string]string, error) {
	if len(s.Engines) == 0 {
		if len(s.Placement) > 0 {
			return nil, errors.New("check cluster spec: placement without engines")
		}
		return nil, nil
	}
	seen := map[string]bool{}
	for _, e := range s.Engines {
		if e == "" || seen[e] {
			return nil, fmt.Errorf("check cluster spec: engine %q is empty or listed twice", e)
		}
		seen[e] = true
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return engine.PlaceNodes(names, s.Engines, s.Placement)
}

// member is one node to create: its name, role, serving port and health
// check, and its container.
type member struct {
	Peer
	health HealthCheck
	spec   ContainerSpec
}

// members describes every node's container, data nodes first, checking the
// spec first. With a plan, every node gets its fixed address.
func (s Spec) members(plan *addrPlan) ([]member, error) {
	switch {
	case s.System == nil:
		return nil, errors.New("check cluster spec: no system")
	case s.Nodes < 1:
		return nil, fmt.Errorf("check cluster spec: want at least 1 node, got %d", s.Nodes)
	case s.RunID != "" && !runIDPattern.MatchString(s.RunID):
		return nil, fmt.Errorf("check cluster spec: run ID %q: want letters, digits, '_', '.', '-'", s.RunID)
	}
	var ms []member
	var peers, all []Peer
	for i := range s.Nodes {
		p := Peer{Name: nodeName(i), Role: DataRole, Host: nodeName(i), Port: s.System.ClientPort()}
		ms = append(ms, member{Peer: p, health: s.System.Health()})
		peers = append(peers, p)
	}
	if r, ok := s.System.(Roler); ok {
		for _, role := range r.Roles(s.Options) {
			if role.Prefix == "" || role.Prefix == "n" || role.Name == DataRole {
				return nil, fmt.Errorf("check cluster spec: role %q: prefix %q or name is taken by the data nodes", role.Name, role.Prefix)
			}
			for i := range role.Count {
				name := fmt.Sprintf("%s%d", role.Prefix, i+1)
				ms = append(ms, member{Peer: Peer{Name: name, Role: role.Name, Host: name, Port: role.Port}, health: role.Health})
			}
		}
	}
	if plan != nil {
		if len(ms) > maxPlannedNodes {
			return nil, fmt.Errorf("check cluster spec: at most %d nodes on a network with reserved addresses, got %d", maxPlannedNodes, len(ms))
		}
		for i := range ms {
			ms[i].IP = plan.node(i)
		}
		for i := range peers {
			peers[i].IP = plan.node(i)
		}
	}
	for _, m := range ms {
		all = append(all, m.Peer)
	}
	var reserved []netip.Addr
	if plan != nil {
		reserved = plan.reserved
	}
	for i := range ms {
		cfg := NodeConfig{Name: ms[i].Name, Role: ms[i].Role, Peers: peers, Members: all, Options: s.Options, DataDir: DataDir, Reserved: reserved}
		cs, err := s.System.Container(cfg)
		if err != nil {
			return nil, fmt.Errorf("describe node %s: %w", cfg.Name, err)
		}
		if s.Customize != nil {
			if err := s.Customize(cfg.Name, &cs); err != nil {
				return nil, fmt.Errorf("customize node %s: %w", cfg.Name, err)
			}
		}
		if len(cs.Sidecars) > 0 {
			return nil, fmt.Errorf("describe node %s: %s runs sidecars %q beside its main process, and only the node agent can supervise them: run with the agent (hadrill run finds it in its own binary)", cfg.Name, s.System.Name(), cs.Sidecars)
		}
		ms[i].spec = cs
	}
	return ms, nil
}

func nodeName(i int) string { return fmt.Sprintf("n%d", i+1) }

// Start builds the system's image if it is not cached, creates the run's
// network, starts every node at once and waits until all are healthy. It
// does not wait for a primary: see WaitPrimary.
//
// Start returns the Cluster even when it fails part way, so that the caller's
// Teardown removes whatever was created and keeps the nodes' logs, which
// usually say why a node did not start.
func Start(ctx context.Context, spec Spec) (*Cluster, error) {
	if spec.RunID == "" {
		spec.RunID = NewRunID()
	}
	if spec.StartTimeout <= 0 {
		spec.StartTimeout = DefaultStartTimeout
	}
	c := &Cluster{RunID: spec.RunID, Network: "hadrill-" + spec.RunID, spec: spec}
	placed, err := spec.placed()
	if err != nil {
		return c, err
	}
	began := time.Now()
	if placed != nil {
		err = c.prepareEngines(ctx)
	} else {
		err = c.prepareEngine(ctx)
	}
	if err != nil {
		return c, err
	}
	imaged := time.Now()
	members, err := spec.members(c.plan)
	if err != nil {
		return c, err
	}
	for _, m := range members {
		n := &Node{name: m.Name, role: m.Role, port: m.Port, ip: m.IP, health: m.health, cluster: c, spec: m.spec}
		if placed != nil {
			n.eng = c.engine(placed[m.Name])
		}
		c.all = append(c.all, n)
		if m.Role == DataRole {
			c.nodes = append(c.nodes, n)
		}
	}
	errs := make([]error, len(c.all))
	var wg sync.WaitGroup
	for i, n := range c.all {
		wg.Go(func() { errs[i] = n.create(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	slog.Debug("cluster started", "run", c.RunID, "image", c.Image.Ref,
		"image_took", imaged.Sub(began), "nodes_took", time.Since(imaged))
	return c, nil
}

// prepareEngine connects to the one engine, finds or builds the image and
// creates the run's bridge network.
func (c *Cluster) prepareEngine(ctx context.Context) error {
	var err error
	if c.docker, err = engine.Connect(ctx); err != nil {
		return err
	}
	if c.Image, err = c.ensureImage(ctx, c.docker); err != nil {
		return err
	}
	return c.createNetwork(ctx)
}

// createNetwork creates the run's network: on a subnet Docker picks, or on
// a free one of hadrill's with an address plan when the system reserves
// addresses (see AddressReserver).
func (c *Cluster) createNetwork(ctx context.Context) error {
	reserve := c.spec.reserveCount()
	if reserve == 0 {
		return c.createNetworkWith(ctx, nil)
	}
	plan, err := c.createPlannedNetwork(ctx, reserve)
	if err != nil {
		return err
	}
	c.plan = plan
	return nil
}

// createNetworkWith creates the run's network with the given address
// management (nil: Docker's choice). Like a container, the network is
// created even if ctx ends meanwhile, so that Teardown finds all that exists.
func (c *Cluster) createNetworkWith(ctx context.Context, ipam *network.IPAM) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("create network %s: %w", c.Network, err)
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	defer cancel()
	_, err := c.docker.NetworkCreate(nctx, c.Network, client.NetworkCreateOptions{
		Driver: "bridge",
		IPAM:   ipam,
		Labels: withOwner(map[string]string{label.Run: c.RunID}),
	})
	if err != nil {
		return fmt.Errorf("create network %s: %w", c.Network, err)
	}
	return nil
}

// ensureImage finds or builds the system's image, or checks the override.
func (c *Cluster) ensureImage(ctx context.Context, cli client.APIClient) (image.Image, error) {
	if ref := c.spec.Image; ref != "" {
		found, err := cli.ImageInspect(ctx, ref)
		if err != nil {
			return image.Image{}, fmt.Errorf("find image %s (images are never pulled): %w", ref, err)
		}
		return image.Image{Ref: ref, ID: found.ID}, nil
	}
	is, err := c.spec.System.Image(ctx)
	if err != nil {
		return image.Image{}, fmt.Errorf("get %s image: %w", c.spec.System.Name(), err)
	}
	return image.EnsureOn(ctx, cli, is)
}

// Nodes are the data nodes, n1..nN in order. The slice is shared: do not
// modify it.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// AllNodes are every node of every role, data nodes first. The slice is
// shared: do not modify it.
func (c *Cluster) AllNodes() []*Node { return c.all }

// Node returns the node with the given name, of any role, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.all {
		if n.name == name {
			return n
		}
	}
	return nil
}

// ClientAddrs maps each node's name to its client address, the form the
// workload's clients take.
func (c *Cluster) ClientAddrs() map[string]string {
	addrs := make(map[string]string, len(c.nodes))
	for _, n := range c.nodes {
		addrs[n.name] = n.ClientAddr()
	}
	return addrs
}

// System is the system the cluster runs.
func (c *Cluster) System() System { return c.spec.System }

// Primary names the node that is primary now, as the system decides it (see
// PrimaryFinder). It returns ErrNoFixedPrimary for systems without one and an
// error wrapping ErrNoPrimary during an election.
func (c *Cluster) Primary(ctx context.Context) (string, error) {
	pf, ok := c.spec.System.(PrimaryFinder)
	if !ok {
		return "", fmt.Errorf("find primary of %s: %w", c.spec.System.Name(), ErrNoFixedPrimary)
	}
	return pf.Primary(ctx, c.all)
}

// WaitSteady polls the system's Steady (see Steadier) until it passes or
// ctx ends. For a system without the capability it returns at once: its
// primary replicates as configured from the moment it is elected.
func (c *Cluster) WaitSteady(ctx context.Context) error {
	st, ok := c.spec.System.(Steadier)
	if !ok {
		return nil
	}
	return pollUntil(ctx, 200*time.Millisecond, "wait for replication to be in force", func() error {
		return st.Steady(ctx, c.all)
	})
}

// pollUntil calls try every interval until it returns nil, or until ctx
// ends: the error then names what was waited for, with ctx's error and
// try's last one.
func pollUntil(ctx context.Context, every time.Duration, what string, try func() error) error {
	for {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %w)", what, ctx.Err(), err)
		case <-time.After(every):
		}
	}
}

// Claims is every node's own view of its role (see ClaimReporter), so a
// split brain shows as two primaries. It returns ErrUnsupported for systems
// that cannot be asked.
func (c *Cluster) Claims(ctx context.Context) ([]Claim, error) {
	cr, ok := c.spec.System.(ClaimReporter)
	if !ok {
		return nil, fmt.Errorf("ask roles of %s: %w", c.spec.System.Name(), ErrUnsupported)
	}
	return cr.Claims(ctx, c.all)
}

// WaitPrimary polls Primary until a node holds the role or ctx ends. Start
// returns when nodes are healthy, which is before the first election ends;
// the runner waits here before it starts the workload.
func (c *Cluster) WaitPrimary(ctx context.Context) (string, error) {
	var p string
	var noFixed error // a system without a primary: nothing to wait for
	err := pollUntil(ctx, 100*time.Millisecond, "wait for primary", func() error {
		var err error
		p, err = c.Primary(ctx)
		if errors.Is(err, ErrNoFixedPrimary) {
			noFixed = err
			return nil
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return p, noFixed
}

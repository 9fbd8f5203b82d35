package drill

import (
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/results"
)

// agentPath is where the node agent's binary is placed in every container.
const agentPath = "/hadrill-agent"

// agentSetup is how a run puts the node agent into its nodes.
type agentSetup struct {
	binary string
	token  string
	// disk asks for the FUSE layer over the data folder, and the
	// SYS_ADMIN capability and /dev/fuse it needs: only when the scenario
	// has disk faults.
	disk bool
	// clock asks the agent to preload libfaketime into the node's process,
	// which costs a stat on every time call: only when the scenario has
	// clock faults.
	clock bool
}

// newAgentSetup checks the agent binary and makes the run's token. The
// binary is copied into containers of any image, so it must be static.
func newAgentSetup(binary string, disk, clock bool) (*agentSetup, error) {
	if binary == "" {
		return nil, envError("find the node agent", errors.New("no agent binary given"))
	}
	f, err := elf.Open(binary)
	if err != nil {
		return nil, envError("read the node agent binary", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, envError("check the node agent binary", fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0 (make build)", binary))
		}
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make agent token: %w", err)
	}
	return &agentSetup{binary: binary, token: hex.EncodeToString(b), disk: disk, clock: clock}, nil
}

// customize wraps a node's container so that the agent is its entrypoint
// and runs the original command as its child, and the sidecars beside it.
func (a *agentSetup) customize(_ string, cs *cluster.ContainerSpec) error {
	if len(cs.Entrypoint) == 0 {
		return errors.New("wrap node with the agent: the system gives no entrypoint")
	}
	cs.Files = append(cs.Files, image.File{Path: agentPath, HostPath: a.binary, Mode: 0o755})
	wrap := []string{agentPath, "agent", "--port", fmt.Sprint(agent.DefaultPort)}
	if a.clock {
		wrap = append(wrap, "--faketime", "auto")
	}
	if a.disk {
		wrap = append(wrap, "--fuse-data", cluster.DataDir)
		cs.CapAdd = append(cs.CapAdd, "SYS_ADMIN")
		cs.Devices = append(cs.Devices, "/dev/fuse")
	}
	for _, argv := range cs.Sidecars {
		j, err := json.Marshal(argv)
		if err != nil {
			return fmt.Errorf("pass sidecar %q to the agent: %w", argv, err)
		}
		wrap = append(wrap, "--also", string(j))
	}
	cs.Sidecars = nil // the agent runs them now
	if cs.User != "" {
		// The agent needs root; it starts the system's process as the
		// user instead, and hands it the data folder.
		wrap = append(wrap, "--user", cs.User, "--user-data", cluster.DataDir)
		cs.User = ""
	}
	cs.Entrypoint = append(append(wrap, "--"), cs.Entrypoint...)
	if cs.Env == nil {
		cs.Env = map[string]string{}
	}
	cs.Env["HADRILL_AGENT_TOKEN"] = a.token
	cs.Ports = append(cs.Ports, agent.DefaultPort)
	if !slices.Contains(cs.CapAdd, "NET_ADMIN") {
		cs.CapAdd = append(cs.CapAdd, "NET_ADMIN")
	}
	return nil
}

// client returns the agent client of a node.
func (a *agentSetup) client(n *cluster.Node) *agent.Client {
	return agent.NewClient(n.Addr(agent.DefaultPort), a.token)
}

// healAndVerify asks the agent of each given node to heal whatever is
// still in force and to verify that the node is back to normal (no
// nftables table, no qdisc, disk unblocked, process running), then checks
// from inside each node that every other given node resolves and accepts
// connections again. It is the last step of every schedule, after the
// nemesis has healed its own faults and the nodes are healthy; nodes whose
// container is gone are left out (lostContainers reports them).
func (a *agentSetup) healAndVerify(ctx context.Context, nodes []*cluster.Node) error {
	ctx = context.WithoutCancel(ctx)
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		// Each node has a budget of its own, so one broken node cannot use
		// up the time of the others and get them blamed too.
		wg.Go(func() { errs[i] = a.verifyNode(ctx, nodes, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// verifyNode heals everything on one node, checks the heal, and checks
// that the node reaches every peer.
func (a *agentSetup) verifyNode(ctx context.Context, nodes []*cluster.Node, n *cluster.Node) error {
	nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl := a.client(n)
	if err := cl.WaitReady(nctx); err != nil {
		return &results.EnvFinding{Kind: results.EnvAgent, Node: n.Name(),
			Detail: "the node agent stopped answering: " + err.Error()}
	}
	r, err := cl.HealAllReport(nctx)
	if err != nil {
		return fmt.Errorf("heal all on %s: %w", n.Name(), err)
	}
	var errs []error
	if !r.Verified.OK {
		errs = append(errs, fmt.Errorf("verify heal on %s: %v", n.Name(), r.Verified.Problems))
	}
	for _, peer := range nodes {
		if peer != n {
			pctx, cancel := context.WithTimeout(ctx, reachBudget)
			errs = append(errs, reach(pctx, cl, n.Name(), peer.Name(), peer.Port()))
			cancel()
		}
	}
	return errors.Join(errs...)
}

// reachBudget is how long a node may take to reach one peer after the heal.
const reachBudget = 10 * time.Second

// reach checks, from inside node, that peer's name resolves and its port
// accepts a connection, retrying briefly: a healed network is usable at
// once, but a process restarted by the heal may still be binding. The
// last probe the agent answered says why it could not.
func reach(ctx context.Context, cl *agent.Client, node, peer string, port int) error {
	addr := net.JoinHostPort(peer, strconv.Itoa(port))
	var last *agent.Probe
	for {
		p, err := cl.Probe(ctx, peer, addr)
		if err == nil && p.OK() {
			return nil
		}
		if err == nil {
			last = &p
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return reachFinding(node, addr, *last, nil)
			}
			return reachFinding(node, addr, p, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// reachFinding says why node could not reach addr once every fault was
// healed: an environment finding (DNS or connection), or the agent's error.
func reachFinding(node, addr string, p agent.Probe, err error) error {
	switch {
	case err != nil:
		return fmt.Errorf("verify %s reaches %s after the heal: %w", node, addr, err)
	case p.ResolveError != "":
		return &results.EnvFinding{Kind: results.EnvDNS, Node: node,
			Detail: "cannot resolve " + p.Resolve + " with no fault in force: " + p.ResolveError}
	default:
		return &results.EnvFinding{Kind: results.EnvReach, Node: node,
			Detail: "cannot connect to " + addr + " with no fault in force: " + p.ConnectError}
	}
}

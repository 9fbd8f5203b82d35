package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// AgentNode is the optional capability of a node that runs the node agent
// (hadrill agent): network, disk, resource and process faults need it, and
// find it by type assertion on the Node.
type AgentNode interface {
	Node
	// Agent is the client of the node's agent.
	Agent() *agent.Client
	// IP is the node's address on the cluster network, as its peers see it.
	IP(ctx context.Context) (netip.Addr, error)
}

// The agent-level kinds, as package kind declares them.
func init() {
	for _, k := range kind.Names(kind.LevelAgent) {
		Register(agentFault{kind: k})
	}
}

// agentFault applies one agent kind on every target node and heals it
// there. Partitions cut the cluster between the sides of the hit; the other
// kinds act on the targeted nodes alone.
type agentFault struct{ kind agent.Kind }

func (f agentFault) Kind() string { return string(f.kind) }

// applied is one fault in force on one node.
type applied struct {
	node AgentNode
	id   string
}

func (f agentFault) Inject(ctx context.Context, h Hit) (Heal, error) {
	plan, err := f.plan(ctx, h)
	var done []applied
	heal := func(ctx context.Context) (map[string]float64, error) { return healAll(ctx, done) }
	if err != nil {
		return heal, err
	}
	id := "f" + strconv.Itoa(h.ID)
	for _, p := range plan {
		a, err := p.node.Agent().Apply(ctx, agent.Fault{ID: id, Kind: f.kind, Params: p.params})
		if err != nil {
			return heal, fmt.Errorf("apply %s on %s: %w", f.kind, p.node.Name(), err)
		}
		done = append(done, applied{node: p.node, id: id})
		if h.Effective != nil {
			h.Effective(p.node.Name(), time.Unix(0, a.EffectiveNS))
		}
	}
	return heal, nil
}

// step is the fault to apply on one node.
type step struct {
	node   AgentNode
	params agent.Params
}

// plan works out what each node's agent must do.
func (f agentFault) plan(ctx context.Context, h Hit) ([]step, error) {
	base := agent.Params{Params: h.Params.For(f.kind)}
	if f.kind.Sides() {
		return partitionPlan(ctx, h, base)
	}
	var out []step
	for _, n := range h.Nodes {
		an, err := asAgent(n)
		if err != nil {
			return nil, err
		}
		p := base
		if f.kind == kind.CPU {
			if p, err = cpuParams(ctx, an, h.Params); err != nil {
				return nil, err
			}
		}
		out = append(out, step{node: an, params: p})
	}
	return out, nil
}

// partitionPlan cuts the sides apart: every node drops traffic to and from
// the nodes of the other sides. A one-way partition drops only what the
// first side sends to the second.
func partitionPlan(ctx context.Context, h Hit, base agent.Params) ([]step, error) {
	if len(h.Sides) < 2 {
		return nil, errors.New("plan partition: need at least two sides")
	}
	ips := map[string]string{}
	for _, n := range h.All {
		an, err := asAgent(n)
		if err != nil {
			return nil, err
		}
		ip, err := an.IP(ctx)
		if err != nil {
			return nil, err
		}
		ips[n.Name()] = ip.String()
	}
	var out []step
	for i, side := range h.Sides {
		if h.OneWay && i > 0 {
			break
		}
		var peers []string
		for j, other := range h.Sides {
			if j == i || (h.OneWay && j != 1) {
				continue
			}
			for _, n := range other {
				peers = append(peers, ips[n.Name()])
			}
		}
		for _, n := range side {
			an, _ := asAgent(n)
			p := base
			p.Peers = peers
			if h.OneWay {
				p.Direction = agent.DirOut
			}
			out = append(out, step{node: an, params: p})
		}
	}
	return out, nil
}

func asAgent(n Node) (AgentNode, error) {
	an, ok := n.(AgentNode)
	if !ok {
		return nil, fmt.Errorf("node %s runs no node agent", n.Name())
	}
	return an, nil
}

// cpuParams converts a share of the node's CPUs into burner threads.
func cpuParams(ctx context.Context, n AgentNode, in Params) (agent.Params, error) {
	caps, err := n.Agent().Capabilities(ctx)
	if err != nil {
		return agent.Params{}, fmt.Errorf("read capabilities of %s: %w", n.Name(), err)
	}
	return agent.Params{Cores: max(1, int(math.Ceil(in.Percent/100*float64(caps.CPUs))))}, nil
}

// healAll heals a fault on every node it was applied to and merges what the
// agents measured: counters add up, loss is recomputed over all packets,
// and the longest stall is kept.
func healAll(ctx context.Context, done []applied) (map[string]float64, error) {
	out := map[string]float64{}
	var errs []error
	for _, a := range done {
		h, err := a.node.Agent().Heal(ctx, a.id)
		if errors.Is(err, agent.ErrNotFound) {
			// The node's agent no longer knows the fault: the container
			// was killed and started again meanwhile (another fault did
			// it), and its namespaces, with every rule and mount the
			// fault made, went with it. The final heal-all verifies that
			// nothing is left.
			slog.Info("fault gone with a node restart", "node", a.node.Name(), "fault", a.id)
			out["gone_with_restart"]++
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("heal on %s: %w", a.node.Name(), err))
			continue
		}
		b, _ := json.Marshal(h.Measured)
		var m map[string]float64
		_ = json.Unmarshal(b, &m)
		for k, v := range m {
			switch k {
			case "max_stall_ms", "mean_delay_ms", "old_pid", "new_pid", "rss_bytes":
				out[k] = max(out[k], v)
			default:
				out[k] += v
			}
		}
	}
	if seen := out["packets_seen"]; seen > 0 {
		out["loss_percent"] = 100 * out["packets_dropped"] / seen
	}
	if len(out) == 0 {
		out = nil
	}
	return out, errors.Join(errs...)
}

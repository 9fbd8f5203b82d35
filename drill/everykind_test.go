package drill

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/internal/testsupport"
	"github.com/hadrill/hadrill/scenarios"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/systems/hakv"
	"github.com/hadrill/hadrill/systems/registry"
)

// TestEveryFaultKindOnEverySystem starts each registered system's image
// with the node agent wrapped around it, as a drill with disk faults does
// (agentSetup.customize on the cluster start path), one small cluster at a
// time, and drives every kind the agent implements against a data node:
// each must be reported effective, show its effect where the node can
// measure it (a write to the data folder blocking, slowing, failing; the
// process stopped or gone; a peer unreachable), and heal, the node serving
// again afterwards. A system whose image lacks the data folder, or a kind
// with no case below, fails here rather than ending drills `unknown`.
// Clock faults cannot reach a static server (systems.Static): there,
// validation must refuse them, saying why.
func TestEveryFaultKindOnEverySystem(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of every system")
	}
	testsupport.NeedDockerCLI(t)
	for _, k := range agent.Kinds() {
		if kindCases[k] == nil {
			t.Errorf("kind %s has no case in kindCases: every agent kind must be driven on every system", k)
		}
	}
	bins := buildNodeBinaries(t)
	t.Setenv(hakv.BinaryEnv, bins.hakv)
	for _, sys := range registry.All() {
		t.Run(sys.Name(), func(t *testing.T) { everyKindOn(t, sys, bins) })
	}
}

// nodeBinaries are the static binaries copied into every node: hadrill
// (the agent) and the test's probe; and hakv, which the hakv system finds
// through $HADRILL_HAKV.
type nodeBinaries struct{ agent, probe, hakv string }

// probePath is where testdata/nodeprobe is placed in every node.
const probePath = "/hadrill-nodeprobe"

func buildNodeBinaries(t *testing.T) nodeBinaries {
	t.Helper()
	dir := t.TempDir()
	b := nodeBinaries{agent: filepath.Join(dir, "hadrill"), probe: filepath.Join(dir, "nodeprobe"), hakv: filepath.Join(dir, "hakv")}
	for out, pkg := range map[string]string{b.agent: "github.com/hadrill/hadrill/cmd/hadrill",
		b.hakv: "github.com/hadrill/hadrill/cmd/hakv", b.probe: "./testdata/nodeprobe"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, msg)
		}
	}
	return b
}

// everyKindOn starts the smallest cluster of sys with at least two nodes,
// checks that the agent mounted the data folder, and runs every kind's
// case against its first data node.
func everyKindOn(t *testing.T, sys systems.System, bins nodeBinaries) {
	st, static := sys.(systems.Static)
	if static {
		checkClockRefused(t, sys.Name(), st.StaticBinary())
	}
	e := startWithAgent(t, sys, bins, !static)
	caps, err := e.cl.Capabilities(e.ctx)
	if err != nil {
		t.Fatalf("read capabilities of %s: %v", e.node.Name(), err)
	}
	if !caps.Fuse {
		t.Fatalf("disk faults unavailable on %s: the image must hold %s (%s)", e.node.Name(), cluster.DataDir, caps.FuseError)
	}
	if !static && caps.Faketime == "" {
		t.Errorf("clock faults unavailable on %s: no libfaketime in the image", e.node.Name())
	}
	for _, k := range lastPowerLoss(agent.Kinds()) {
		c := kindCases[k]
		if c == nil || (k == kind.Clock && static) {
			continue
		}
		t.Run(string(k), func(t *testing.T) {
			if why := knownBroken[sys.Name()][k]; why != "" {
				t.Skipf("known broken: %s", why)
			}
			c(t, e, k)
			if k != kind.PowerLoss {
				e.settle(t)
			}
		})
	}
}

// knownBroken lists, by system, the kinds that do not work there yet, each
// with what goes wrong: the test skips them by name, so that the gap is in
// the code and in the test's output rather than silent. The list is meant
// to empty.
var knownBroken = map[string]map[agent.Kind]string{}

// lastPowerLoss puts power-loss last: it may leave the system unable to
// start again (a system that relies on data or entries it never fsynced),
// which is the drill's finding to report, and would stop the kinds after
// it.
func lastPowerLoss(kinds []agent.Kind) []agent.Kind {
	out := slices.DeleteFunc(slices.Clone(kinds), func(k agent.Kind) bool { return k == kind.PowerLoss })
	return append(out, kind.PowerLoss)
}

// checkClockRefused checks that validation refuses a clock fault on a
// static system and says why.
func checkClockRefused(t *testing.T, system, why string) {
	t.Helper()
	yaml := fmt.Sprintf(`name: clock-on-static
duration: 20s
cluster: {system: %s, nodes: 3}
faults:
  - {kind: clock, target: one, at: 5s, duration: 5s, offset: 1h}
`, system)
	_, err := scenarios.Parse([]byte(yaml), "clock-on-static.yaml")
	if err == nil || !strings.Contains(err.Error(), why) {
		t.Errorf("validate a clock fault on static %s: got %v, want a refusal saying %q", system, err, why)
	}
}

// kindEnv is one running cluster with the agent in its nodes, and the
// node and peer the kinds act on.
type kindEnv struct {
	ctx   context.Context
	c     *cluster.Cluster
	setup *agentSetup
	node  *cluster.Node
	cl    *agent.Client
	// peer is another node; peerIP and peerAddr are where node reaches it.
	peer     *cluster.Node
	peerIP   string
	peerAddr string
	seq      int
}

// startWithAgent starts the cluster the way a drill with disk (and, for a
// dynamic system, clock) faults does, and tears it down when the test ends.
// The nodes' logs are kept, and their folder named, when the test fails.
func startWithAgent(t *testing.T, sys systems.System, bins nodeBinaries, clock bool) *kindEnv {
	t.Helper()
	setup, err := newAgentSetup(bins.agent, true, clock)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.MkdirTemp("", "hadrill-everykind-")
	if err != nil {
		t.Fatal(err)
	}
	spec := cluster.Spec{System: sys, LogDir: logs,
		RunID: fmt.Sprintf("test-everykind-%s-%d", sys.Name(), time.Now().UnixNano()%1e6),
		Customize: func(node string, cs *cluster.ContainerSpec) error {
			cs.Files = append(cs.Files, image.File{Path: probePath, HostPath: bins.probe, Mode: 0o755})
			return setup.customize(node, cs)
		}}
	spec.Nodes = smallestCluster(t, sys, spec)
	ctx := context.Background()
	c, err := cluster.Start(ctx, spec)
	t.Cleanup(func() {
		if err := c.Teardown(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("tear down: %v", err)
		}
		if t.Failed() {
			t.Logf("node logs kept in %s", logs)
		} else {
			os.RemoveAll(logs)
		}
	})
	if err != nil {
		t.Fatalf("start %s: %v", sys.Name(), err)
	}
	e := &kindEnv{ctx: ctx, c: c, setup: setup, node: c.Nodes()[0], peer: c.AllNodes()[1]}
	e.cl = setup.client(e.node)
	ip, err := e.peer.IP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.peerIP, e.peerAddr = ip.String(), fmt.Sprintf("%s:%d", ip, e.peer.Port())
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := e.cl.WaitReady(wctx); err != nil {
		t.Fatalf("wait for the agent of %s: %v", e.node.Name(), err)
	}
	return e
}

// smallestCluster is the fewest data nodes the system declares it runs
// with its default options (systems.System.Nodes), and at least two, so
// that network kinds have a peer. The cluster spec, with the agent in its
// nodes, must accept that count: a declaration the backend refuses fails.
func smallestCluster(t *testing.T, sys systems.System, spec cluster.Spec) int {
	t.Helper()
	spec.Nodes = max(2, sys.Nodes(nil).Min)
	if err := spec.Validate(); err != nil {
		t.Fatalf("%s declares %d nodes, which its cluster refuses: %v", sys.Name(), spec.Nodes, err)
	}
	return spec.Nodes
}

// apply applies one fault and requires the agent to report it effective.
func (e *kindEnv) apply(t *testing.T, k agent.Kind, p agent.Params) agent.Applied {
	t.Helper()
	e.seq++
	a, err := e.cl.Apply(e.ctx, agent.Fault{ID: fmt.Sprintf("%s-%d", k, e.seq), Kind: k, Params: p})
	if err != nil {
		t.Fatalf("apply %s on %s: %v", k, e.node.Name(), err)
	}
	if a.EffectiveNS == 0 || a.Mechanism == "" {
		t.Errorf("apply %s: not reported effective: %+v", k, a)
	}
	return a
}

// heal heals one fault and returns what the agent measured. A system may
// answer a fault by exiting (MariaDB's replica crashed on a full disk while
// it rotated its relay log): the agent, whose container is the process,
// ends with it, and nothing is left to heal. That is the system's reaction,
// for a drill to judge, not the fault failing: the node's container is
// started again for the kinds that follow, and the kind is reported
// skipped, saying so.
func (e *kindEnv) heal(t *testing.T, a agent.Applied) agent.Measured {
	t.Helper()
	h, err := e.cl.Heal(e.ctx, a.ID)
	if err != nil && !e.node.Running(e.ctx) {
		e.restart(t)
		t.Skipf("%s took effect, and %s's process exited under it (see its log); the container was started again", a.Kind, e.node.Name())
	}
	if err != nil {
		t.Fatalf("heal %s on %s: %v", a.Kind, e.node.Name(), err)
	}
	return h.Measured
}

// restart starts the node's container again and reconnects to its agent
// (a restarted container may publish its ports anew).
func (e *kindEnv) restart(t *testing.T) {
	t.Helper()
	if err := e.node.Start(e.ctx); err != nil {
		t.Fatalf("start %s again: %v", e.node.Name(), err)
	}
	e.cl = e.setup.client(e.node)
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	if err := e.cl.WaitReady(ctx); err != nil {
		t.Fatalf("wait for the agent of %s: %v", e.node.Name(), err)
	}
}

// live is what the agent measures of a fault still in force.
func (e *kindEnv) live(t *testing.T, a agent.Applied) agent.Measured {
	t.Helper()
	s, err := e.cl.Status(e.ctx)
	if err != nil {
		t.Fatalf("read fault status: %v", err)
	}
	for _, f := range s.Faults {
		if f.Fault.ID == a.ID {
			return f.Measured
		}
	}
	t.Fatalf("fault %s is not in force", a.ID)
	return agent.Measured{}
}

// settle checks that nothing is left in force on the node and waits until
// the node serves again (a restarted process takes a while).
func (e *kindEnv) settle(t *testing.T) {
	t.Helper()
	if !e.node.Running(e.ctx) {
		e.restart(t)
		t.Skipf("%s's process exited after the heal (see its log); the container was started again", e.node.Name())
	}
	r, err := e.cl.HealAllReport(e.ctx)
	if err != nil || !r.Verified.OK {
		t.Errorf("after the heal, %s is not back to normal: %v %v", e.node.Name(), err, r.Verified.Problems)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 3*time.Minute)
	defer cancel()
	for {
		err := e.node.Healthy(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s does not serve again after the heal: %v", e.node.Name(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

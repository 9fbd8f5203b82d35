package cluster

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
	"github.com/hadrill/hadrill/internal/testsupport"
)

func TestSpecValidateEngines(t *testing.T) {
	base := Spec{System: testHakv{}, Nodes: 3}
	for name, s := range map[string]Spec{
		"placement without engines": {System: base.System, Nodes: 3, Placement: map[string]string{"n1": "a"}},
		"engine twice":              {System: base.System, Nodes: 3, Engines: []string{"a", "a"}},
		"unknown engine":            {System: base.System, Nodes: 3, Engines: []string{"a"}, Placement: map[string]string{"n1": "b"}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := Spec{System: base.System, Nodes: 3, Engines: []string{"local", "second"}, Placement: map[string]string{"n3": "local"}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid spec rejected: %v", err)
	}
}

// needEngines gives two Docker engines of the test's own
// (testsupport.Engines). HADRILL_TEST_ENGINES=a,b uses engines that are
// already up (docker context names) instead.
func needEngines(tb testing.TB) []string {
	tb.Helper()
	needDocker(tb)
	if env := os.Getenv("HADRILL_TEST_ENGINES"); env != "" {
		return strings.Split(env, ",")
	}
	return testsupport.Engines(tb, "t")
}

// engineState is what a test checks is left as found on an engine.
type engineState struct {
	swarm    swarm.LocalNodeState
	gwBridge bool
	runCtrs  int
	runNets  int
}

func stateOf(tb testing.TB, name, runID string) engineState {
	tb.Helper()
	ctx := context.Background()
	e, err := engine.Open(ctx, name)
	if err != nil {
		tb.Fatal(err)
	}
	defer e.Close()
	info, err := e.Client().Info(ctx, client.InfoOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	_, err = e.Client().NetworkInspect(ctx, "docker_gwbridge", client.NetworkInspectOptions{})
	if err != nil && !errdefs.IsNotFound(err) {
		tb.Fatal(err)
	}
	gw := err == nil
	f := make(client.Filters).Add("label", label.Run+"="+runID)
	ctrs, err := e.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		tb.Fatal(err)
	}
	nets, err := e.Client().NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		tb.Fatal(err)
	}
	return engineState{info.Info.Swarm.LocalNodeState, gw, len(ctrs.Items), len(nets.Items)}
}

// TestEnginesKillPrimary spreads a hakv cluster over two engines joined in
// a Swarm by Start, fails the primary over by a kill through its own
// engine, restarts it, and checks that Teardown leaves both engines as they
// were found: no container, network, Swarm or docker_gwbridge of the run.
func TestEnginesKillPrimary(t *testing.T) {
	engines := needEngines(t)
	spec := hakvSpec(t)
	spec.Engines = engines
	before := map[string]engineState{}
	for _, e := range engines {
		before[e] = stateOf(t, e, spec.RunID)
	}
	ctx := context.Background()
	c := startCluster(t, spec)
	on := map[string]int{}
	for _, n := range c.Nodes() {
		on[n.Engine()]++
		ip, err := n.IP(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s on %s, client %s, overlay %s", n.Name(), n.Engine(), n.ClientAddr(), ip)
	}
	if on[engines[0]] != 2 || on[engines[1]] != 1 {
		t.Fatalf("nodes per engine = %v, want 2 and 1 (spread)", on)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	first, err := c.WaitPrimary(wctx)
	if err != nil {
		t.Fatalf("first primary: %v", err)
	}
	old := c.Node(first)
	if err := old.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	var second string
	took := waitFor(t, "new primary", func(ctx context.Context) bool {
		second, err = c.Primary(ctx)
		return err == nil && second != first
	})
	t.Logf("primary %s (on %s) killed; %s (on %s) took over after %v", first, old.Engine(), second, c.Node(second).Engine(), took.Round(time.Millisecond))
	if err := old.Start(ctx); err != nil {
		t.Fatalf("restart %s: %v", first, err)
	}
	if err := c.Teardown(ctx); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	for _, e := range engines {
		after := stateOf(t, e, spec.RunID)
		if after != before[e] {
			t.Errorf("engine %s after the run = %+v, want %+v as before", e, after, before[e])
		}
	}
}

// TestEnginesKeepFoundSwarm starts with a Swarm the test made on the first
// engine alone: hadrill must join the second engine as a worker, and on
// teardown make it leave (and drop it from the manager's node list) while
// the Swarm it found stays as it was.
func TestEnginesKeepFoundSwarm(t *testing.T) {
	engines := needEngines(t)
	ctx := context.Background()
	mgr, err := engine.Open(ctx, engines[0])
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	addr := mgr.PublishIP.String()
	if _, err := mgr.Client().SwarmInit(ctx, client.SwarmInitOptions{ListenAddr: addr + ":2377", AdvertiseAddr: addr + ":2377"}); err != nil {
		t.Fatalf("init the test's own swarm: %v", err)
	}
	t.Cleanup(func() { mgr.Client().SwarmLeave(context.Background(), client.SwarmLeaveOptions{Force: true}) })
	nodesBefore, err := mgr.Client().NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := hakvSpec(t)
	spec.Engines = engines
	before := stateOf(t, engines[1], spec.RunID)
	c := startCluster(t, spec)
	if st := stateOf(t, engines[1], spec.RunID); st.swarm != swarm.LocalNodeStateActive {
		t.Fatalf("second engine during the run: swarm %s, want active", st.swarm)
	}
	if err := c.Teardown(ctx); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	if st := stateOf(t, engines[0], spec.RunID); st.swarm != swarm.LocalNodeStateActive || st.runNets != 0 || st.runCtrs != 0 {
		t.Errorf("manager after the run = %+v, want its swarm kept and nothing of the run", st)
	}
	if after := stateOf(t, engines[1], spec.RunID); after != before {
		t.Errorf("second engine after the run = %+v, want %+v as before", after, before)
	}
	nodesAfter, err := mgr.Client().NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodesAfter.Items) != len(nodesBefore.Items) {
		t.Errorf("swarm has %d nodes after the run, want %d as before", len(nodesAfter.Items), len(nodesBefore.Items))
	}
}

package agent_test

import (
	"context"
	"testing"

	"github.com/google/nftables"
	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// TestPartition cuts the node from peer A only: A's traffic is dropped both
// ways while B and the control API (reached through A's own link) still
// work; healing restores A and removes the agent's table.
func TestPartition(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	ctx := context.Background()

	nodeFromA := udpSocket(t, tp.node, nodeA+":9000")
	nodeFromB := udpSocket(t, tp.node, nodeB+":9000")
	a := udpSocket(t, tp.a, peerA+":9000")
	b := udpSocket(t, tp.b, peerB+":9000")
	if got := oneWay(t, a, nodeFromA, 50); got != 50 {
		t.Fatalf("before: A->node got %d/50", got)
	}

	p.apply(t, agent.Fault{ID: "p1", Kind: kind.Partition,
		Params: agent.Params{Peers: []string{peerA}}})
	if got := oneWay(t, a, nodeFromA, 50); got != 0 {
		t.Errorf("partitioned: A->node got %d/50, want 0", got)
	}
	if got := oneWay(t, nodeFromA, a, 50); got != 0 {
		t.Errorf("partitioned: node->A got %d/50, want 0", got)
	}
	if got := oneWay(t, b, nodeFromB, 50); got != 50 {
		t.Errorf("partitioned from A: B->node got %d/50, want 50", got)
	}
	if got := oneWay(t, nodeFromB, b, 50); got != 50 {
		t.Errorf("partitioned from A: node->B got %d/50, want 50", got)
	}
	st, err := p.client.Status(ctx) // over A's link: the control port is exempt
	if err != nil {
		t.Fatalf("control API through the partitioned link: %v", err)
	}
	if len(st.Faults) != 1 || st.Faults[0].Measured.PacketsDropped < 100 {
		t.Errorf("live status: %+v, want one fault with >= 100 packets dropped", st.Faults)
	}

	healed := p.heal(t, "p1")
	t.Logf("partition measured: %+v", healed.Measured)
	if healed.Measured.PacketsDropped < 100 {
		t.Errorf("measured %d packets dropped, want >= 100", healed.Measured.PacketsDropped)
	}
	if got := oneWay(t, a, nodeFromA, 50); got != 50 {
		t.Errorf("healed: A->node got %d/50, want 50", got)
	}
	if err := p.client.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	if tableExists(t, tp) {
		t.Error("nftables table hadrill still exists after heal-all")
	}
}

// TestPartitionOneWay checks that a one-way partition blocks only its
// direction.
func TestPartitionOneWay(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	node := udpSocket(t, tp.node, nodeA+":9000")
	a := udpSocket(t, tp.a, peerA+":9000")
	for _, tc := range []struct {
		dir             agent.Direction
		wantIn, wantOut int
	}{
		{agent.DirIn, 0, 50},
		{agent.DirOut, 50, 0},
	} {
		t.Run(string(tc.dir), func(t *testing.T) {
			p.apply(t, agent.Fault{ID: "oneway", Kind: kind.Partition,
				Params: agent.Params{Peers: []string{peerA}, Direction: tc.dir}})
			in, out := oneWay(t, a, node, 50), oneWay(t, node, a, 50)
			p.heal(t, "oneway")
			if in != tc.wantIn || out != tc.wantOut {
				t.Errorf("direction %s: A->node %d, node->A %d; want %d, %d", tc.dir, in, out, tc.wantIn, tc.wantOut)
			}
		})
	}
}

// tableExists looks for the agent's table from outside the agent.
func tableExists(t testing.TB, tp *topo) bool {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(int(tp.node)))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Name == "hadrill" {
			return true
		}
	}
	return false
}

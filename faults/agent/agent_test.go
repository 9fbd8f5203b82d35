package agent_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// TestHealAll applies one fault of several families, heals them all in one
// call, and checks from outside the agent that the node is clean: no table,
// no qdisc, traffic flows undelayed.
func TestHealAll(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	ctx := context.Background()
	echoB := echoServer(t, tp.b, peerB+":9100")
	node := udpSocket(t, tp.node, "0.0.0.0:9101")
	base := median(rtts(t, node, echoB, 10)) // same machine, same moment
	for _, f := range []agent.Fault{
		{ID: "part", Kind: kind.Partition, Params: agent.Params{Peers: []string{peerA}, Direction: agent.DirOut}},
		{ID: "delay", Kind: kind.Delay, Params: agent.Params{Peers: []string{peerB}, Params: kind.Params{Delay: kind.Duration(30 * time.Millisecond)}}},
		{ID: "bw", Kind: kind.Bandwidth, Params: agent.Params{Peers: []string{peerA}, RateKbit: 1000}},
		{ID: "loss", Kind: kind.Loss, Params: agent.Params{Params: kind.Params{Percent: 10}}},
		{ID: "cpu", Kind: kind.CPU},
		{ID: "mem", Kind: kind.Memory, Params: agent.Params{Params: kind.Params{MiB: 16}}},
	} {
		p.apply(t, f)
	}
	st, err := p.client.Status(ctx)
	if err != nil || len(st.Faults) != 6 {
		t.Fatalf("status: %d faults, %v", len(st.Faults), err)
	}
	res, err := p.client.HealAllReport(ctx)
	if err != nil {
		t.Fatalf("heal-all: %v (%+v)", err, res)
	}
	t.Logf("healed %d faults; verified %+v", len(res.Healed), res.Verified)
	if len(res.Healed) != 6 || !res.Verified.OK {
		t.Errorf("heal-all: %d healed, verified %+v", len(res.Healed), res.Verified)
	}
	if tableExists(t, tp) || agentQdiscs(t, tp) != 0 {
		t.Error("the agent's table or qdiscs are still there")
	}
	// Healed: the 30 ms delay is gone, measured against the RTT before it.
	if d := median(rtts(t, node, echoB, 10)); d > base+15*time.Millisecond {
		t.Errorf("median RTT to B after heal-all %v, before the faults %v", d, base)
	}
	if st, _ := p.client.Status(ctx); len(st.Faults) != 0 {
		t.Errorf("%d faults still listed", len(st.Faults))
	}
}

// TestAgentDeathAndRestart kills the agent with SIGKILL while a delay is
// active: thanks to the queue's bypass flag traffic flows again at once,
// and a new agent in the same namespace removes what the dead one left.
func TestAgentDeathAndRestart(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	echoB := echoServer(t, tp.b, peerB+":9100")
	node := udpSocket(t, tp.node, "0.0.0.0:9101")
	base := median(rtts(t, node, echoB, 10))
	p.apply(t, agent.Fault{ID: "delay", Kind: kind.Delay, Params: agent.Params{Peers: []string{peerB}, Params: kind.Params{Delay: kind.Duration(50 * time.Millisecond)}}})
	p.apply(t, agent.Fault{ID: "bw", Kind: kind.Bandwidth, Params: agent.Params{Peers: []string{peerA}, RateKbit: 1000}})
	if d := slices.Min(rtts(t, node, echoB, 3)); d < 50*time.Millisecond {
		t.Fatalf("delay not in effect: RTT %v", d)
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	if d := median(rtts(t, node, echoB, 10)); d > base+25*time.Millisecond {
		t.Errorf("with the agent dead, median RTT to B is %v (before the delay %v): the queue bypass did not work", d, base)
	}
	if !tableExists(t, tp) || agentQdiscs(t, tp) == 0 {
		t.Fatal("expected the dead agent's table and qdiscs to remain (the point of this test)")
	}
	startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	if tableExists(t, tp) || agentQdiscs(t, tp) != 0 {
		t.Error("a restarted agent did not clear the leftovers")
	}
}

// TestCapabilities checks the probes on this kernel and that the probing
// leaves no trace.
func TestCapabilities(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	c, err := p.client.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capabilities: %+v", c)
	if !c.Nftables || !c.NFQueue || !c.HTB || !c.TBF {
		t.Errorf("nftables/nfqueue/htb/tbf should be available here: %+v", c)
	}
	if c.Netem != (c.DelayMechanism == "netem") {
		t.Errorf("delay mechanism %q with netem=%v", c.DelayMechanism, c.Netem)
	}
	if tableExists(t, tp) || agentQdiscs(t, tp) != 0 {
		t.Error("probing left a table or qdisc behind")
	}
}

// TestApplyErrors: bad requests are refused with the matching sentinel.
func TestApplyErrors(t *testing.T) {
	p := startAgent(t, newNetns(t), agentOpts{})
	ctx := context.Background()
	p.apply(t, agent.Fault{ID: "dup", Kind: kind.Loss, Params: agent.Params{Params: kind.Params{Percent: 1}}})
	cases := []struct {
		f    agent.Fault
		want error
	}{
		{agent.Fault{ID: "k", Kind: "meteor"}, agent.ErrInvalid},
		{agent.Fault{Kind: kind.DNS}, agent.ErrInvalid},
		{agent.Fault{ID: "p", Kind: kind.Partition}, agent.ErrInvalid},
		{agent.Fault{ID: "p", Kind: kind.Partition, Params: agent.Params{Peers: []string{"node-2"}}}, agent.ErrInvalid},
		{agent.Fault{ID: "l", Kind: kind.Loss, Params: agent.Params{Params: kind.Params{Percent: 130}}}, agent.ErrInvalid},
		{agent.Fault{ID: "dup", Kind: kind.Loss, Params: agent.Params{Params: kind.Params{Percent: 1}}}, agent.ErrConflict},
		{agent.Fault{ID: "d", Kind: kind.DiskStall}, agent.ErrUnavailable},
		{agent.Fault{ID: "c", Kind: kind.Crash}, agent.ErrUnavailable},
	}
	for _, tc := range cases {
		if _, err := p.client.Apply(ctx, tc.f); !errors.Is(err, tc.want) {
			t.Errorf("apply %+v: %v, want %v", tc.f, err, tc.want)
		}
	}
	if _, err := p.client.Heal(ctx, "nope"); !errors.Is(err, agent.ErrNotFound) {
		t.Errorf("heal of an unknown id: %v", err)
	}
}

package agent_test

import (
	"math"
	"testing"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// TestLoss asks for 30% loss on peer A's traffic and measures it over 2000
// datagrams from A: the observed rate and the agent's own counters must
// both be within 5 points of 30 and agree with each other; after healing
// nothing is lost.
func TestLoss(t *testing.T) {
	const n, percent = 2000, 30.0
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	node := udpSocket(t, tp.node, nodeA+":9000")
	a := udpSocket(t, tp.a, peerA+":9000")

	p.apply(t, agent.Fault{ID: "loss", Kind: kind.Loss,
		Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Percent: percent}}})
	got := oneWay(t, a, node, n)
	healed := p.heal(t, "loss")
	observed := 100 * float64(n-got) / n
	m := healed.Measured
	t.Logf("observed loss %.1f%% over %d datagrams; agent measured %.1f%% (%d dropped of %d seen)",
		observed, n, m.LossPercent, m.PacketsDropped, m.PacketsSeen)
	if math.Abs(observed-percent) > 5 {
		t.Errorf("observed loss %.1f%%, want %.0f±5", observed, percent)
	}
	if math.Abs(m.LossPercent-percent) > 5 {
		t.Errorf("agent measured loss %.1f%%, want %.0f±5", m.LossPercent, percent)
	}
	if m.PacketsSeen != n || int(m.PacketsDropped) != n-got {
		t.Errorf("agent counted %d seen / %d dropped; the receiver saw %d of %d sent",
			m.PacketsSeen, m.PacketsDropped, got, n)
	}

	if got := oneWay(t, a, node, 500); got != 500 {
		t.Errorf("after heal: %d/500 datagrams arrived, want all", got)
	}
}

// TestLossAllTraffic applies loss without peers: every peer is affected but
// the control API keeps answering.
func TestLossAllTraffic(t *testing.T) {
	const n = 1000
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	node := udpSocket(t, tp.node, nodeB+":9000")
	b := udpSocket(t, tp.b, peerB+":9000")
	p.apply(t, agent.Fault{ID: "all", Kind: kind.Loss,
		Params: agent.Params{Direction: agent.DirIn, Params: kind.Params{Percent: 50}}})
	got := oneWay(t, b, node, n)
	for range 20 { // the control port is exempt: no request may fail
		if _, err := p.client.Health(t.Context()); err != nil {
			t.Fatalf("control API under 50%% loss: %v", err)
		}
	}
	m := p.heal(t, "all").Measured
	observed := 100 * float64(n-got) / n
	t.Logf("observed %.1f%%, agent measured %.1f%%", observed, m.LossPercent)
	if math.Abs(observed-50) > 6 {
		t.Errorf("observed loss %.1f%% from B, want 50±6", observed)
	}
}

package agent_test

import (
	"net"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// TestBandwidth limits the node's egress to peer A to 2 Mbit/s and measures
// the throughput A receives from a 1 s, 16 Mbit/s UDP stream: about the
// limit while shaped, the full stream before and after, and no qdisc of the
// agent's left on the link.
func TestBandwidth(t *testing.T) {
	const rateKbit = 2000 // "2mbit"
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	node := udpSocket(t, tp.node, nodeA+":9200")
	a := udpSocket(t, tp.a, peerA+":9200")

	before := throughput(t, node, a)
	applied := p.apply(t, agent.Fault{ID: "bw", Kind: kind.Bandwidth,
		Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Rate: 2_000_000}}})
	during := throughput(t, node, a)
	if _, err := p.client.Health(t.Context()); err != nil {
		t.Errorf("control API while shaped: %v", err)
	}
	healed := p.heal(t, "bw")
	after := throughput(t, node, a)
	t.Logf("%s on %v: before %.0f kbit/s, during %.0f kbit/s, after %.0f kbit/s; measured %+v",
		applied.Mechanism, applied.Interfaces, before, during, after, healed.Measured)
	if during < 0.7*rateKbit || during > 1.3*rateKbit {
		t.Errorf("shaped throughput %.0f kbit/s, want %d±30%%", during, rateKbit)
	}
	if before < 8*rateKbit || after < 8*rateKbit {
		t.Errorf("unshaped throughput %.0f / %.0f kbit/s, want >= %d", before, after, 8*rateKbit)
	}
	if healed.Measured.PacketsShaped == 0 {
		t.Error("agent counted no shaped packets")
	}
	if owned := agentQdiscs(t, tp); owned != 0 {
		t.Errorf("%d agent qdiscs left after heal", owned)
	}
}

// throughput streams 1200-byte datagrams at 16 Mbit/s for one second and
// returns the rate received, in kbit/s, over the time from the first send
// to the last arrival.
func throughput(t testing.TB, from, to *net.UDPConn) float64 {
	t.Helper()
	const size, perMs = 1200, 2 // 2 datagrams per ms = 19.2 Mbit/s offered
	bytes := make(chan int, 1)
	start := time.Now()
	go func() {
		buf := make([]byte, 2048)
		total := 0
		for {
			_ = to.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, _, err := to.ReadFromUDP(buf)
			if err != nil {
				bytes <- total
				return
			}
			total += n
		}
	}()
	payload := make([]byte, size)
	dst := to.LocalAddr().(*net.UDPAddr)
	for ms := range 1000 {
		for range perMs {
			_, _ = from.WriteToUDP(payload, dst)
		}
		time.Sleep(time.Until(start.Add(time.Duration(ms+1) * time.Millisecond)))
	}
	total := <-bytes
	elapsed := time.Since(start) - 300*time.Millisecond
	return float64(total) * 8 / 1000 / elapsed.Seconds()
}

// agentQdiscs counts qdiscs with the agent's handle in the node namespace.
func agentQdiscs(t testing.TB, tp *topo) int {
	t.Helper()
	h := handleAt(t, tp.node)
	links, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range links {
		qs, err := h.QdiscList(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if q.Attrs().Handle>>16 == 0x4844 {
				n++
			}
		}
	}
	return n
}

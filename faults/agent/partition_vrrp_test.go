package agent_test

import (
	"net"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/vishvananda/netns"
)

// protoVRRP is VRRP's IP protocol number: neither TCP nor UDP, so a
// partition that matched only ports would leave keepalived's heartbeat
// flowing and test nothing.
const protoVRRP = 112

// TestPartitionDropsVRRP checks that a partition drops every IP protocol
// between the peers, not only TCP and UDP: raw IP packets of protocol 112
// from A stop reaching the node (and back) while the partition holds, and
// flow again once it is healed.
func TestPartitionDropsVRRP(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})

	node := rawSocket(t, tp.node, nodeA)
	a := rawSocket(t, tp.a, peerA)
	if got := oneWayIP(t, a, node, 50); got != 50 {
		t.Fatalf("before: VRRP A->node got %d/50", got)
	}
	p.apply(t, agent.Fault{ID: "p1", Kind: kind.Partition, Params: agent.Params{Peers: []string{peerA}}})
	if got := oneWayIP(t, a, node, 50); got != 0 {
		t.Errorf("partitioned: VRRP A->node got %d/50, want 0", got)
	}
	if got := oneWayIP(t, node, a, 50); got != 0 {
		t.Errorf("partitioned: VRRP node->A got %d/50, want 0", got)
	}
	healed := p.heal(t, "p1")
	if healed.Measured.PacketsDropped < 100 {
		t.Errorf("measured %d packets dropped, want >= 100 (the VRRP packets)", healed.Measured.PacketsDropped)
	}
	if got := oneWayIP(t, a, node, 50); got != 50 {
		t.Errorf("healed: VRRP A->node got %d/50, want 50", got)
	}
}

// rawSocket opens a raw IPv4 socket of protocol 112 bound to addr in ns.
func rawSocket(t testing.TB, ns netns.NsHandle, addr string) *net.IPConn {
	t.Helper()
	var c *net.IPConn
	err := inNS(ns, func() error {
		var err error
		c, err = net.ListenIP("ip4:112", &net.IPAddr{IP: net.ParseIP(addr)})
		return err
	})
	if err != nil {
		t.Fatalf("raw socket %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// oneWayIP sends n raw packets from one socket to another and counts the
// ones that arrive, as oneWay does for UDP.
func oneWayIP(t testing.TB, from, to *net.IPConn, n int) int {
	t.Helper()
	got := make(chan int, 1)
	stop := make(chan struct{})
	go func() {
		buf := make([]byte, 2048)
		count := 0
		for {
			_ = to.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := to.Read(buf); err == nil {
				count++
				continue
			}
			select {
			case <-stop:
				got <- count
				return
			default:
			}
		}
	}()
	dst := to.LocalAddr().(*net.IPAddr)
	payload := make([]byte, 40)
	payload[0] = 0x31 // VRRP v3 advertisement
	for i := range n {
		if _, err := from.WriteToIP(payload, dst); err != nil && i == 0 {
			t.Logf("send VRRP: %v", err)
		}
		if i%16 == 15 {
			time.Sleep(500 * time.Microsecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	return <-got
}

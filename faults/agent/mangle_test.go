package agent_test

import (
	"encoding/binary"
	"hash/crc32"
	"net"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// received is what a receiver counted of a numbered stream of datagrams.
type received struct {
	sent, intact, damaged, dups, late int
}

// numbered sends n datagrams, each carrying its number and a CRC, from one
// socket to another, and classifies what arrived: intact, damaged (the CRC
// fails), duplicated (a number seen before) or late (arrived after a higher
// number). Sending is paced so the receiver's buffer never overflows.
func numbered(t testing.TB, from, to *net.UDPConn, n int) received {
	t.Helper()
	res := make(chan received, 1)
	stop := make(chan struct{})
	go func() {
		r := received{sent: n}
		seen := make([]bool, n)
		highest := -1
		buf := make([]byte, 2048)
		for {
			// After stop, the count ends at the first 300 ms without a
			// packet: a busy machine may deliver held-back packets late.
			_ = to.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			k, _, err := to.ReadFromUDP(buf)
			if err != nil {
				select {
				case <-stop:
					res <- r
					return
				default:
					continue
				}
			}
			if k != 64 || crc32.ChecksumIEEE(buf[:60]) != binary.BigEndian.Uint32(buf[60:64]) {
				r.damaged++
				continue
			}
			i := int(binary.BigEndian.Uint32(buf[:4]))
			if i >= n {
				continue
			}
			if seen[i] {
				r.dups++
				continue
			}
			seen[i] = true
			r.intact++
			if i < highest {
				r.late++
			}
			highest = max(highest, i)
		}
	}()
	dst := to.LocalAddr().(*net.UDPAddr)
	payload := make([]byte, 64)
	for i := range n {
		binary.BigEndian.PutUint32(payload, uint32(i))
		binary.BigEndian.PutUint32(payload[60:], crc32.ChecksumIEEE(payload[:60]))
		_, _ = from.WriteToUDP(payload, dst)
		if i%8 == 7 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	return <-res
}

// TestMangle asks corrupt, duplicate and reorder for 30 % of 2000 packets
// each and measures the share at the receiver: corrupted packets fail their
// checksum and never arrive intact, duplicates arrive twice, reordered ones
// arrive after later packets. Each share must be within 5 points of 30 %,
// and the agent's own count must match what the receiver saw.
func TestMangle(t *testing.T) {
	const n, percent = 2000, 30.0
	for _, tc := range []struct {
		kind  agent.Kind
		share func(r received) float64
		count func(m agent.Measured) uint64
	}{
		{kind.Corrupt, func(r received) float64 { return 100 * float64(r.sent-r.intact) / float64(r.sent) },
			func(m agent.Measured) uint64 { return m.PacketsCorrupted }},
		{kind.Duplicate, func(r received) float64 { return 100 * float64(r.dups) / float64(r.sent) },
			func(m agent.Measured) uint64 { return m.PacketsDuplicated }},
		{kind.Reorder, func(r received) float64 { return 100 * float64(r.late) / float64(r.sent) },
			func(m agent.Measured) uint64 { return m.PacketsReordered }},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			tp := newTopo(t)
			p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
			node := udpSocket(t, tp.node, "0.0.0.0:9101")
			recv := udpSocket(t, tp.a, peerA+":9100")
			base := numbered(t, node, recv, 200)
			if base.intact != base.sent || base.late+base.dups+base.damaged > 0 {
				t.Fatalf("baseline without fault: %+v, want every datagram intact and in order", base)
			}
			applied := p.apply(t, agent.Fault{ID: "m", Kind: tc.kind,
				Params: agent.Params{Peers: []string{peerA}, Seed: 3, Params: kind.Params{Percent: percent}}})
			r := numbered(t, node, recv, n)
			healed := p.heal(t, "m")
			share := tc.share(r)
			t.Logf("%s %g%% via %s: receiver %+v -> %.1f%%; agent measured %+v", tc.kind, percent,
				applied.Mechanism, r, share, healed.Measured)
			if share < percent-5 || share > percent+5 {
				t.Errorf("share at the receiver %.1f%%, want %g ± 5", share, percent)
			}
			if got := 100 * float64(tc.count(healed.Measured)) / n; got < share-2 || got > share+2 {
				t.Errorf("agent reports %.1f%%, the receiver saw %.1f%%", got, share)
			}
			after := numbered(t, node, recv, 200)
			if after.intact != after.sent || after.late+after.dups > 0 {
				t.Errorf("after heal: %+v, want every datagram intact and in order", after)
			}
		})
	}
}

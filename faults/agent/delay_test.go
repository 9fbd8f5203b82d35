package agent_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/vishvananda/netns"
)

// TestDelay delays the node's egress to peer A by 50 ms: every round trip
// to A takes at least 50 ms while B stays fast, the agent reports the held
// time, and after healing A is fast again.
func TestDelay(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	echoA := echoServer(t, tp.a, peerA+":9100")
	echoB := echoServer(t, tp.b, peerB+":9100")
	node := udpSocket(t, tp.node, "0.0.0.0:9101")

	const delay = 50 * time.Millisecond
	// A path counts as fast when its median RTT is under half the delay:
	// that tells a delayed path from an undelayed one on a busy machine,
	// where a wake-up can wait a few milliseconds behind other work.
	const fast = delay / 2
	before := rtts(t, node, echoA, 20)
	if median(before) >= fast {
		t.Fatalf("before: median RTT to A %v, want < %v", median(before), fast)
	}
	applied := p.apply(t, agent.Fault{ID: "d", Kind: kind.Delay,
		Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Delay: kind.Duration(delay)}}})
	during, other := rtts(t, node, echoA, 20), rtts(t, node, echoB, 20)
	healed := p.heal(t, "d")
	after := rtts(t, node, echoA, 20)
	t.Logf("mechanism %s; RTT to A before %v..%v, during %v..%v, after %v..%v; to B during %v..%v",
		applied.Mechanism, slices.Min(before), slices.Max(before), slices.Min(during), slices.Max(during),
		slices.Min(after), slices.Max(after), slices.Min(other), slices.Max(other))
	t.Logf("agent measured %+v", healed.Measured)
	if slices.Min(during) < delay {
		t.Errorf("during: min RTT to A %v, want >= %v", slices.Min(during), delay)
	}
	if median(other) >= fast {
		t.Errorf("during: median RTT to B %v, want < %v (B is not delayed)", median(other), fast)
	}
	if median(after) >= fast {
		t.Errorf("after: median RTT to A %v, want < %v", median(after), fast)
	}
	// The agent holds each packet for at least the delay, and for no longer
	// than the round trip the client measured around it in the same window:
	// only the 20 requests to A pass the delayed path (the control port is
	// exempt), so their mean held time is bounded by their mean RTT. A busy
	// machine lengthens both alike; an agent that over-reports does not fit.
	if m := healed.Measured; m.PacketsDelayed != 20 || m.MeanDelayMS < ms(delay) || m.MeanDelayMS > ms(mean(during)) {
		t.Errorf("agent measured %d packets delayed, mean %.1f ms; want 20, and %.0f ms .. the clients' mean RTT %.1f ms",
			m.PacketsDelayed, m.MeanDelayMS, ms(delay), ms(mean(during)))
	}
}

// mean of durations.
func mean(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}

// ms converts a duration to fractional milliseconds, the unit of Measured.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestDelayJitter checks that jitter spreads the delay over
// [delay-jitter, delay+jitter].
func TestDelayJitter(t *testing.T) {
	tp := newTopo(t)
	p := startAgent(t, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	echoA := echoServer(t, tp.a, peerA+":9100")
	node := udpSocket(t, tp.node, "0.0.0.0:9101")
	p.apply(t, agent.Fault{ID: "j", Kind: kind.Delay, Params: agent.Params{Seed: 7, Params: kind.Params{Delay: kind.Duration(40 * time.Millisecond), Jitter: kind.Duration(20 * time.Millisecond)}}})
	during := rtts(t, node, echoA, 30)
	p.heal(t, "j")
	slices.Sort(during)
	lo, p10, p50, p90 := during[0], during[len(during)/10], during[len(during)/2], during[len(during)*9/10]
	t.Logf("RTT with 40ms±20ms: min %v, p10 %v, median %v, p90 %v, max %v", lo, p10, p50, p90, during[len(during)-1])
	// The floor is exact (no packet leaves before delay-jitter). Only
	// jitter can let a packet through faster than the 40 ms base delay, so
	// the tenth percentile must be under it: a low quantile, which a busy
	// machine (that only ever adds time) barely moves, yet it fails when
	// the spread is shifted up or missing. The p10..p90 spread shows the
	// delays are drawn, not fixed.
	if lo < 20*time.Millisecond || p10 >= 40*time.Millisecond || p90-p10 < 10*time.Millisecond {
		t.Errorf("RTT min %v, p10..p90 %v..%v; want min >= 20ms, p10 < 40ms, p90-p10 >= 10ms", lo, p10, p90)
	}
}

// median of durations; fast-path assertions use it because one sample can
// always be late on a busy two-core machine, while a delay shows in all.
func median(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[len(s)/2]
}

// echoServer answers every datagram with itself, from inside ns.
func echoServer(t testing.TB, ns netns.NsHandle, addr string) *net.UDPAddr {
	t.Helper()
	c := udpSocket(t, ns, addr)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteToUDP(buf[:n], from)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr)
}

// rtts measures n sequential UDP round trips to an echo server.
func rtts(t testing.TB, c *net.UDPConn, to *net.UDPAddr, n int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, n)
	buf := make([]byte, 64)
	for i := range n {
		start := time.Now()
		if _, err := c.WriteToUDP([]byte{byte(i)}, to); err != nil {
			t.Fatalf("send: %v", err)
		}
		_ = c.SetReadDeadline(start.Add(2 * time.Second))
		for {
			k, _, err := c.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("round trip %d to %v: %v", i, to, err)
			}
			if k == 1 && buf[0] == byte(i) {
				break
			}
		}
		out = append(out, time.Since(start))
	}
	return out
}

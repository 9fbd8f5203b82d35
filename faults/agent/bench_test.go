package agent_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// injections is how many faults each benchmark iteration applies and heals:
// the figures are medians and maxima over at least this many, whatever
// -benchtime says (the Makefile runs benchmarks with -benchtime 1x).
const injections = 100

// BenchmarkApplyToEffective measures, per fault kind, the time from the
// harness sending an apply request to the agent's effective time (the
// netlink batch acknowledged), against a baseline taken in the same loop:
// the round trip of a no-op GET /healthz over the same path. The ratio is
// the cost of a fault injection in units of "one API call". Heal latency
// (request to healed time) is reported too: deleting base chains waits for
// an RCU grace period in the kernel, so it is slower than applying.
//
//	go test ./faults/agent -run '^$' -bench ApplyToEffective -benchtime 1x
func BenchmarkApplyToEffective(b *testing.B) {
	tp := newTopo(b)
	p := startAgent(b, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	for _, tc := range []struct {
		name string
		f    agent.Fault
	}{
		{"partition", agent.Fault{Kind: kind.Partition, Params: agent.Params{Peers: []string{peerA, peerB}}}},
		{"loss", agent.Fault{Kind: kind.Loss, Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Percent: 30}}}},
		{"delay", agent.Fault{Kind: kind.Delay, Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Delay: kind.Duration(time.Millisecond)}}}},
		{"corrupt", agent.Fault{Kind: kind.Corrupt, Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Percent: 30}}}},
		{"duplicate", agent.Fault{Kind: kind.Duplicate, Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Percent: 30}}}},
		{"reorder", agent.Fault{Kind: kind.Reorder, Params: agent.Params{Peers: []string{peerA}, Params: kind.Params{Percent: 30}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var s injectionSamples
			for b.Loop() {
				for range injections {
					s.inject(b, p.client, tc.f)
				}
			}
			s.report(b)
		})
	}
}

// BenchmarkApplyToEffectiveDisk does the same for the kinds that act
// through the FUSE layer (power-loss here rolls back an empty journal and
// kills no process: the kill is crash's, measured with the process kinds),
// and for clock, which rewrites libfaketime's file and runs date once to
// observe the offset.
func BenchmarkApplyToEffectiveDisk(b *testing.B) {
	p, _ := diskAgent(b)
	kinds := []agent.Fault{{Kind: kind.DiskStall}, {Kind: kind.DiskError},
		{Kind: kind.DiskFull}, {Kind: kind.PowerLoss}}
	for _, f := range kinds {
		b.Run(string(f.Kind), func(b *testing.B) {
			var s injectionSamples
			for b.Loop() {
				for range injections {
					s.inject(b, p.client, f)
				}
			}
			s.report(b)
		})
	}
	if _, err := os.Stat(faketimeLib); err != nil {
		b.Logf("clock skipped: %v", err)
		return
	}
	c := startAgent(b, newNetns(b), agentOpts{flags: []string{"--faketime", "auto"}, child: []string{"/bin/sleep", "600"}})
	b.Run("clock", func(b *testing.B) {
		var s injectionSamples
		for b.Loop() {
			for range injections {
				s.inject(b, c.client, agent.Fault{Kind: kind.Clock, Params: agent.Params{Params: kind.Params{Offset: kind.Offset(time.Minute)}}})
			}
		}
		s.report(b)
	})
}

// injectionSamples collects the latencies of one benchmark.
type injectionSamples struct {
	n                                        int
	toEffective, inAgent, baseline, toHealed []time.Duration
}

// inject takes one baseline round trip, then applies and heals one fault.
func (s *injectionSamples) inject(b *testing.B, c *agent.Client, f agent.Fault) {
	ctx := context.Background()
	start := time.Now()
	if _, err := c.Health(ctx); err != nil {
		b.Fatal(err)
	}
	s.baseline = append(s.baseline, time.Since(start))
	s.n++
	f.ID = fmt.Sprintf("%s-%d", f.Kind, s.n)
	start = time.Now()
	res, err := c.Apply(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	s.toEffective = append(s.toEffective, time.Unix(0, res.EffectiveNS).Sub(start))
	s.inAgent = append(s.inAgent, time.Duration(res.EffectiveNS-res.ReceivedNS))
	start = time.Now()
	healed, err := c.Heal(ctx, f.ID)
	if err != nil {
		b.Fatal(err)
	}
	s.toHealed = append(s.toHealed, time.Unix(0, healed.HealedNS).Sub(start))
}

func (s *injectionSamples) report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(float64(s.n), "injections")
	b.ReportMetric(ms(median(s.toEffective)), "effective-median-ms")
	b.ReportMetric(ms(slices.Max(s.toEffective)), "effective-max-ms")
	b.ReportMetric(ms(p99(s.toEffective)), "effective-p99-ms")
	b.ReportMetric(ms(median(s.inAgent)), "in-agent-median-ms")
	b.ReportMetric(ms(median(s.baseline)), "healthz-median-ms")
	b.ReportMetric(ms(slices.Max(s.baseline)), "healthz-max-ms")
	b.ReportMetric(float64(median(s.toEffective))/float64(median(s.baseline)), "median-ratio")
	b.ReportMetric(ms(median(s.toHealed)), "healed-median-ms")
}

// p99 is the 99th percentile (nearest rank) of durations.
func p99(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[(len(s)*99+99)/100-1]
}

package agent_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
)

// BenchmarkApplyToEffective measures, per fault kind, the time from the
// harness sending an apply request to the agent's effective time (the
// netlink batch acknowledged), against a baseline taken in the same loop:
// the round trip of a no-op GET /healthz over the same path. The ratio is
// the cost of a fault injection in units of "one API call". Heal latency
// (request to healed time) is reported too: deleting base chains waits for
// an RCU grace period in the kernel, so it is slower than applying. Run with
// -benchtime=100x for 100 injections per kind:
//
//	go test ./faults/agent -run '^$' -bench ApplyToEffective -benchtime 100x
func BenchmarkApplyToEffective(b *testing.B) {
	tp := newTopo(b)
	p := startAgent(b, tp.node, agentOpts{dialNS: tp.a, host: nodeA})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    agent.Fault
	}{
		{"partition", agent.Fault{Kind: agent.KindPartition, Params: agent.Params{Peers: []string{peerA, peerB}}}},
		{"loss", agent.Fault{Kind: agent.KindLoss, Params: agent.Params{Peers: []string{peerA}, Percent: 30}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var toEffective, inAgent, baseline, toHealed []time.Duration
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := p.client.Health(ctx); err != nil {
					b.Fatal(err)
				}
				baseline = append(baseline, time.Since(start))
				f := tc.f
				f.ID = fmt.Sprintf("%s-%d", tc.name, i)
				start = time.Now()
				res, err := p.client.Apply(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				toEffective = append(toEffective, time.Unix(0, res.EffectiveNS).Sub(start))
				inAgent = append(inAgent, time.Duration(res.EffectiveNS-res.ReceivedNS))
				start = time.Now()
				healed, err := p.client.Heal(ctx, f.ID)
				if err != nil {
					b.Fatal(err)
				}
				toHealed = append(toHealed, time.Unix(0, healed.HealedNS).Sub(start))
			}
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			b.ReportMetric(ms(median(toEffective)), "effective-median-ms")
			b.ReportMetric(ms(slices.Max(toEffective)), "effective-max-ms")
			b.ReportMetric(ms(median(inAgent)), "in-agent-median-ms")
			b.ReportMetric(ms(median(baseline)), "healthz-median-ms")
			b.ReportMetric(ms(slices.Max(baseline)), "healthz-max-ms")
			b.ReportMetric(float64(median(toEffective))/float64(median(baseline)), "median-ratio")
			b.ReportMetric(ms(median(toHealed)), "healed-median-ms")
		})
	}
}

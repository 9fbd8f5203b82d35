package checker

import (
	"slices"

	"github.com/hadrill/hadrill/history"
)

// LatencySummary describes the latencies of one kind of operation, in
// seconds. Quantiles are empirical (gonum stat.Quantile with stat.Empirical):
// each is a latency that was actually observed, the smallest one with at
// least that share of the sample at or below it.
type LatencySummary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// FaultLatency is the latency inside one fault's window.
type FaultLatency struct {
	Fault int                       `json:"fault"`
	Kinds map[string]LatencySummary `json:"kinds"`
}

// LatencyReport holds latency summaries by operation kind: "read", "write",
// "cas", "ledger" (ledger writes) and "all" (every kind together). A kind
// with no ok operation is absent.
type LatencyReport struct {
	Run    map[string]LatencySummary `json:"run"`
	Faults []FaultLatency            `json:"faults"`
}

// Latency summarises how long ok operations took, from invocation to
// completion, for the whole run and inside each requested fault's window
// (operations invoked in [Requested, Healed)). Only ok operations count: a
// timeout's latency is the client's timeout, not the system's, and a refusal
// is fast because nothing was done. Final reads are left out, as for
// availability. Latency is reported, not judged: there is no target.
func Latency(in Input) LatencyReport {
	faults := in.requested()
	pairs := in.paired()
	run := newSamples(len(pairs))
	per := make([]samples, len(faults))
	for i := range per {
		per[i] = newSamples(0)
	}
	for i := range pairs {
		p := &pairs[i]
		if p.Invoke.F == history.FinalRead || p.Completion.Type != history.OK {
			continue
		}
		d := seconds(p.Completion.Time - p.Invoke.Time)
		k := kind(p.Invoke)
		run.add(k, d)
		for i, f := range faults {
			if faultWindow(f).contains(p.Invoke.Time) {
				per[i].add(k, d)
			}
		}
	}
	r := LatencyReport{Run: summarise(run), Faults: make([]FaultLatency, len(faults))}
	for i, f := range faults {
		r.Faults[i] = FaultLatency{Fault: f.ID, Kinds: summarise(per[i])}
	}
	return r
}

// samples are latencies by kind, "all" holding every one.
type samples map[string][]float64

// newSamples makes room for n samples in "all".
func newSamples(n int) samples { return samples{"all": make([]float64, 0, n)} }

// add records one latency of kind k.
func (s samples) add(k string, d float64) {
	s[k] = append(s[k], d)
	s["all"] = append(s["all"], d)
}

// summarise turns samples by kind into summaries by kind.
func summarise(s samples) map[string]LatencySummary {
	out := make(map[string]LatencySummary, len(s))
	for k, xs := range s {
		if len(xs) > 0 {
			out[k] = summary(xs)
		}
	}
	return out
}

// summary sorts xs (stat.Quantile requires it) and reads off the quantiles.
// xs is never empty: a kind only has samples once one was appended.
func summary(xs []float64) LatencySummary {
	slices.Sort(xs)
	return LatencySummary{
		Count: len(xs),
		P50:   Quantile(xs, 0.50),
		P95:   Quantile(xs, 0.95),
		P99:   Quantile(xs, 0.99),
		Max:   xs[len(xs)-1],
	}
}
